// Human-readable text of listMounts / inspectMount, for `fuselens mounts` and
// `fuselens inspect` (and any front that wants plain text).

import type { FuseMount, Inspection } from './types';

function statsText(m: FuseMount): string {
  const s = m.connectionStats;
  if (!s) return `stats unknown: ${m.connectionStatsMissing ?? 'fusectl unavailable'}`;
  return `waiting ${s.waiting}, max_background ${s.maxBackground}, congestion_threshold ${s.congestionThreshold}`;
}

function daemonText(m: FuseMount): string {
  if (m.stale) return 'none: STALE, a lab mount left by a killed `fuselens run` (`fuselens clean` removes it)';
  const d = m.daemon;
  if (!d) return `none found (${m.daemonNote ?? 'no /dev/fuse holder'})`;
  const others = d.otherPids && d.otherPids.length > 0 ? ` (also held by pids ${d.otherPids.join(', ')})` : '';
  if (d.source === 'guess-from-cmdline') return `pid ${d.pid} ${d.comm} — GUESS from its command line, not proven by the kernel${others}`;
  return `pid ${d.pid} ${d.comm} (holds /dev/fuse as fd ${d.fd}, fdinfo fuse_connection ${m.connection})${others}`;
}

function superText(m: FuseMount): string {
  return Object.entries(m.superOptions)
    .map(([k, v]) => (v === true ? k : `${k}=${v}`))
    .join(',');
}

export function formatMount(m: FuseMount): string {
  return [
    `${m.mountpoint}  ${m.fstype}  source ${m.source}`,
    `  connection ${m.connection} (device ${m.device}, mount id ${m.mountId}): ${statsText(m)}`,
    `  daemon: ${daemonText(m)}`,
    `  options: ${m.mountOptions.join(',')} | ${superText(m)}${m.optionalFields.length > 0 ? ` | ${m.optionalFields.join(' ')}` : ''}`,
  ].join('\n');
}

export function formatMounts(mounts: FuseMount[]): string {
  if (mounts.length === 0) return 'No FUSE mounts. Make one, e.g.: mkdir -p /tmp/src /tmp/m && bindfs /tmp/src /tmp/m\n';
  return mounts.map(formatMount).join('\n\n') + '\n';
}

export function formatInspection(ins: Inspection): string {
  const lines: string[] = [formatMount(ins.mount), ''];
  if (ins.ties.length > 0) {
    lines.push('Processes standing on the mount (they keep it busy, as lsof\'s cwd/rtd/txt):');
    for (const t of ins.ties) lines.push(`  ${t.kind.padEnd(4)}  pid ${t.pid} ${t.comm}  ${t.path}${t.deleted ? '  (deleted)' : ''}  inode ${t.ino}`);
    lines.push('');
  }
  if (ins.inodes.length === 0) lines.push('No open files or mappings on this mount.');
  for (const inode of ins.inodes) {
    lines.push(`${inode.path ?? '(no path)'}  inode ${inode.ino}  io mode: ${inode.mode}`);
    if (inode.reconstructed) {
      const r = inode.reconstructed;
      lines.push(`  since capture started at ${r.since}: ${r.mode}${r.iocachectr !== undefined ? `, iocachectr ${r.iocachectr}` : ''} (from the trace, matched by ${r.matchedBy})`);
    }
    for (const o of inode.opens) {
      const shared = o.sharedWith && o.sharedWith.length > 0 ? `  same open file as ${o.sharedWith.join(', ')}` : '';
      lines.push(`  open  pid ${o.pid} ${o.comm}  fd ${o.fd}  ${o.flags.join('|')}  pos ${o.pos}${o.deleted ? '  (deleted)' : ''}${shared}`);
    }
    for (const m of inode.mappings) {
      lines.push(
        `  map   pid ${m.pid} ${m.comm}  ${m.start}-${m.end} ${m.perms} ${m.shared ? 'shared' : 'private'}${m.withoutDescriptor ? '  (no descriptor: mapped after close)' : ''}`,
      );
    }
    for (const e of inode.evidence.slice(1)) lines.push(`  why: ${e}`);
  }
  if (ins.inodes.length > 0) lines.push('', `io mode "unknown": ${ins.inodes[0]!.evidence[0]}.`);
  return lines.join('\n') + '\n';
}

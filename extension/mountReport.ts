// The readable report of "FUSE Lens: Inspect Mount…", as Markdown (shown in
// VS Code's Markdown preview). Says what the kernel exposes and what it does not.

import type { Inspection } from '../protocol/messages';

export function mountReportMarkdown(inspection: Inspection): string {
  const m = inspection.mount;
  const out: string[] = [];
  out.push(`# FUSE mount ${code(m.mountpoint)}`, '');
  out.push(`Scanned at ${inspection.scannedAt}.`, '');
  out.push('| | |', '|---|---|');
  out.push(`| fstype | ${code(m.fstype)} |`);
  out.push(`| source | ${code(m.source)} |`);
  out.push(`| device | ${m.device} (connection ${m.connection}) |`);
  out.push(`| mount options | ${code(m.mountOptions.join(','))} |`);
  const sup = Object.entries(m.superOptions).map(([k, v]) => (v === true ? k : `${k}=${v}`));
  out.push(`| super options | ${code(sup.join(','))} |`);
  if (m.connectionStats) {
    const s = m.connectionStats;
    out.push(`| waiting | ${s.waiting} |`, `| max_background | ${s.maxBackground} |`, `| congestion_threshold | ${s.congestionThreshold} |`);
  } else {
    out.push(`| connection numbers | missing: ${cell(m.connectionStatsMissing ?? 'fusectl is not readable')} |`);
  }
  if (m.daemon) {
    const how = m.daemon.source === 'fdinfo' ? 'holds /dev/fuse for this connection (fdinfo)' : '**a guess** from its command line';
    out.push(`| daemon | ${cell(m.daemon.comm)} (pid ${m.daemon.pid}) — ${how} |`);
  } else {
    out.push(`| daemon | unknown${m.daemonNote ? `: ${cell(m.daemonNote)}` : ''} |`);
  }
  out.push('');

  out.push(`## Files in use (${inspection.inodes.length})`, '');
  if (inspection.inodes.length === 0) out.push('No process holds a descriptor or a mapping of a file on this mount.', '');
  for (const inode of inspection.inodes) {
    out.push(`### ${code(inode.path ?? `inode ${inode.ino}`)} — ino ${inode.ino}`, '');
    out.push(`io mode: **${inode.mode}**${inode.mode === 'unknown' ? ' (the kernel does not export it; evidence below)' : ''}`, '');
    if (inode.reconstructed) {
      const r = inode.reconstructed;
      out.push(`From a trace capture (matched by ${r.matchedBy}): **${r.mode}**${r.iocachectr !== undefined ? `, iocachectr ${r.iocachectr}` : ''}, since ${r.since}.`, '');
    }
    for (const e of inode.evidence) out.push(`- ${e}`);
    if (inode.evidence.length > 0) out.push('');
    if (inode.opens.length > 0) {
      out.push('| process | fd | flags | pos |', '|---|---|---|---|');
      for (const o of inode.opens) out.push(`| ${cell(o.comm)} (${o.pid}) | ${o.fd} | ${o.flags.join(' ')} | ${o.pos} |`);
      out.push('');
    }
    if (inode.mappings.length > 0) {
      out.push('| process | mapping | perms | |', '|---|---|---|---|');
      for (const map of inode.mappings) {
        out.push(`| ${cell(map.comm)} (${map.pid}) | ${map.start}-${map.end} | ${map.perms} | ${map.shared ? 'shared' : 'private'}${map.withoutDescriptor ? ', no descriptor' : ''} |`);
      }
      out.push('');
    }
  }
  if (inspection.warnings.length > 0) {
    out.push('## Warnings', '');
    for (const w of inspection.warnings) out.push(`- ${w}`);
    out.push('');
  }
  return out.join('\n');
}

function code(text: string): string {
  return '`' + text.replace(/`/g, "'") + '`';
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

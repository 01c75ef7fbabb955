// The readable report of "FUSE Lens: Inspect Mount…", as Markdown (shown in
// VS Code's Markdown preview). Says what the kernel exposes and what it does not.
// Every string that comes from the system (mountpoints, paths, process names,
// options, the server's notes) goes through `md`, so no name can add Markdown
// or HTML to the preview.

import type { Inspection, Mount, MountModes } from '../protocol/messages';
import { inertText } from '../protocol/inert-text';

/** `modes`: the mount's modes with their provenance, when a tracking session or a trace is attached. */
export function mountReportMarkdown(inspection: Inspection, modes: MountModes | null = null): string {
  const m = inspection.mount;
  const out: string[] = [];
  out.push(`# FUSE mount ${md(m.mountpoint)}`, '');
  out.push(`Scanned at ${md(inspection.scannedAt)}${inspection.kernelRelease ? ` on Linux ${md(inspection.kernelRelease)}` : ''}.`, '');
  out.push('| | |', '|---|---|');
  out.push(`| fstype | ${md(m.fstype)} |`);
  out.push(`| source | ${md(m.source)} |`);
  out.push(`| device | ${md(m.device)} (connection ${m.connection}, mount id ${m.mountId}) |`);
  out.push(`| mount options | ${md(m.mountOptions.join(','))} |`);
  const sup = Object.entries(m.superOptions).map(([k, v]) => (v === true ? k : `${k}=${v}`));
  out.push(`| super options | ${md(sup.join(','))} |`);
  if (m.optionalFields.length > 0) out.push(`| propagation | ${md(m.optionalFields.join(' '))} |`);
  if (m.connectionStats) {
    const s = m.connectionStats;
    out.push(`| waiting | ${s.waiting} |`, `| max_background | ${s.maxBackground} |`, `| congestion_threshold | ${s.congestionThreshold} |`);
  } else {
    out.push(`| connection numbers | missing: ${md(m.connectionStatsMissing ?? 'fusectl is not readable')} |`);
  }
  out.push(`| daemon | ${daemonCell(m)} |`);
  out.push('');

  if (inspection.ties.length > 0) {
    out.push(`## Working directories, roots and executables on the mount (${inspection.ties.length})`, '');
    out.push('These keep the mount busy without a descriptor (lsof: cwd, rtd, txt).', '');
    out.push('| process | as | path | ino |', '|---|---|---|---|');
    for (const t of inspection.ties) out.push(`| ${md(t.comm)} (${t.pid}) | ${t.kind} | ${md(t.path)}${t.deleted ? ' (deleted)' : ''} | ${t.ino} |`);
    out.push('');
  }
  out.push(`## Files in use (${inspection.inodes.length})`, '');
  if (inspection.inodes.length === 0) out.push('No process holds a descriptor or a mapping of a file on this mount.', '');
  for (const inode of inspection.inodes) {
    out.push(`### ${md(inode.path ?? `inode ${inode.ino}`)} — ino ${inode.ino}`, '');
    const p = modes?.inodes.find((t) => t.ino !== null && String(t.ino) === String(inode.ino))?.provenance;
    if (p) {
      out.push(`io mode: **${p.mode}** (${p.basis}): ${md(p.text)}`, '');
      for (const r of p.reasons) out.push(`- ${md(r)}`);
      out.push('');
    } else {
      out.push(`io mode: **${inode.mode}**${inode.mode === 'unknown' ? ' (the kernel does not export it; evidence below)' : ''}`, '');
    }
    for (const e of inode.evidence) out.push(`- ${md(e)}`);
    if (inode.evidence.length > 0) out.push('');
    if (inode.opens.length > 0) {
      out.push('| process | fd | flags | pos | same open file as |', '|---|---|---|---|---|');
      for (const o of inode.opens) {
        const fd = `${o.fd}${o.deleted ? ' (deleted)' : ''}`;
        out.push(`| ${md(o.comm)} (${o.pid}) | ${fd} | ${md(o.flags.join(' '))} | ${o.pos} | ${md(o.sharedWith?.join(', ') ?? '')} |`);
      }
      out.push('');
    }
    if (inode.mappings.length > 0) {
      out.push('| process | mapping | perms | |', '|---|---|---|---|');
      for (const map of inode.mappings) {
        const kind = `${map.shared ? 'shared' : 'private'}${map.withoutDescriptor ? ', no descriptor (mapped after close)' : ''}`;
        out.push(`| ${md(map.comm)} (${map.pid}) | ${md(map.start)}-${md(map.end)} | ${md(map.perms)} | ${kind} |`);
      }
      out.push('');
    }
  }
  if (inspection.warnings.length > 0) {
    out.push('## Warnings', '');
    for (const w of inspection.warnings) out.push(`- ${md(w)}`);
    out.push('');
  }
  return out.join('\n');
}

function daemonCell(m: Mount): string {
  const d = m.daemon;
  if (!d) return `unknown${m.daemonNote ? `: ${md(m.daemonNote)}` : ''}`;
  const how =
    d.source === 'fdinfo'
      ? `holds /dev/fuse as fd ${d.fd} for this connection (fdinfo)`
      : '**a guess** from its command line, not proven by the kernel';
  const others = d.otherPids && d.otherPids.length > 0 ? `; also held by pids ${d.otherPids.join(', ')}` : '';
  return `${md(d.comm)} (pid ${d.pid}) — ${how}${others}`;
}

/**
 * Text as Markdown that shows exactly that text: ASCII punctuation backslash-escaped
 * (CommonMark §2.4, so `<img onerror=…>` is not HTML and `|` does not end a table cell;
 * `/`, `,` and `:`, never syntax, are left as they are for readable paths and options),
 * after inertText has written control characters (a newline would end a table row),
 * bidi controls and non-UTF-8 bytes as the same escapes the tree and the terminal show.
 */
export function md(text: string): string {
  return inertText(text).replace(/[!-+\-.;-@[-`{-~]/g, '\\$&');
}

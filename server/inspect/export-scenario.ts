// "Export as scenario": what inspectMount saw, as a .fusesim file
// (shared/scenario-language.md) — files, processes, opens with their flags,
// forks (descriptors proven shared with kcmp), mappings. What /proc cannot show
// (FUSE_INIT flags, the server's FOPEN_* replies) is left for the user to add,
// and said so in comments.

import { formatKernelVersion, isModelled, kernelVersionOfRelease } from '../model/kernel-version';
import { ScenarioNames, openMode, openStatement, scenarioString, scenarioText, withComment } from '../scenario/print';
import type { InodeReport, Inspection, Mapping, OpenFile } from './types';

interface Desc {
  inode: InodeReport;
  open: OpenFile;
}

/** Turns an inspection into .fusesim text. */
export function exportScenario(inspection: Inspection): string {
  const { mount } = inspection;
  const out: string[] = [
    `# Exported by fuselens from ${mount.mountpoint} (${mount.fstype}, connection ${mount.connection}) at ${inspection.scannedAt}.`,
    '# /proc shows the files, descriptors (open flags), mappings and processes below.',
    '# It cannot show what the server negotiated or replied: add an `init` line (e.g.',
    '# `init passthrough max_stack_depth=1`) and `reply ...` to the opens to ask "what if".',
    `scenario ${scenarioString(`live state of ${mount.mountpoint}`)}`,
  ];
  // The whole release (6.18.44): `kernel 6.18` would mean mainline 6.18, without the stable backports.
  const v = inspection.kernelRelease ? kernelVersionOfRelease(inspection.kernelRelease) : undefined;
  if (v && isModelled(v)) out.push(`kernel ${formatKernelVersion(v)}`);
  else if (inspection.kernelRelease) out.push(`# running kernel ${inspection.kernelRelease} is outside the modelled range; the newest modelled rules apply`);
  out.push('');

  // Files
  const names = new ScenarioNames(['main']);
  const fileName = new Map<InodeReport, string>();
  for (const inode of inspection.inodes) {
    const rel = inode.path && inode.path.startsWith(mount.mountpoint + '/') ? inode.path.slice(mount.mountpoint.length + 1) : inode.path ?? '';
    const name = names.take(rel, `ino${inode.ino}`);
    fileName.set(inode, name);
    out.push(`file ${name}${name !== rel ? `   # ${inode.path ?? `inode ${inode.ino}`}` : ''}`);
  }

  // Processes, descriptors grouped into open file descriptions (sharedWith links).
  const descs: Desc[] = inspection.inodes.flatMap((inode) => inode.opens.map((open) => ({ inode, open })));
  const key = (pid: number, fd: number): string => `${pid}:${fd}`;
  const byKey = new Map(descs.map((d) => [key(d.open.pid, d.open.fd), d]));
  const groupOf = new Map<Desc, Desc[]>();
  for (const d of descs) {
    if (groupOf.has(d)) continue;
    const group: Desc[] = [];
    const stack = [d];
    while (stack.length > 0) {
      const x = stack.pop()!;
      if (groupOf.has(x)) continue;
      groupOf.set(x, group);
      group.push(x);
      for (const k of x.open.sharedWith ?? []) {
        const y = byKey.get(k);
        if (y && !groupOf.has(y)) stack.push(y);
      }
    }
  }
  const pids = [...new Set([...descs.map((d) => d.open.pid), ...inspection.inodes.flatMap((i) => i.mappings.map((m) => m.pid))])].sort((a, b) => a - b);
  const comm = new Map<number, string>();
  for (const i of inspection.inodes) {
    for (const o of i.opens) comm.set(o.pid, o.comm);
    for (const m of i.mappings) comm.set(m.pid, m.comm);
  }
  const proc = (pid: number): string => `p${pid}`;

  // A group spanning processes is expressed as open + fork when one member
  // process is the one the others were forked from (ancestry as kcmp pairs
  // were only asked between parent and child). Its owner is the lowest pid.
  const forkedFrom = new Map<number, number>(); // child -> parent
  for (const group of new Set(groupOf.values())) {
    const members = [...new Set(group.map((d) => d.open.pid))].sort((a, b) => a - b);
    const owner = members[0]!;
    for (const pid of members.slice(1)) if (!forkedFrom.has(pid) && pid !== owner) forkedFrom.set(pid, owner);
  }

  const handle = new Map<Desc, string>();
  const emitted = new Set<Desc[]>();
  const steps: string[] = [];
  const declared: number[] = [];
  let mapCount = 0;

  const openLine = (pid: number, d: Desc, name: string): string => {
    const { unstated, ...mode } = openMode(d.open.flags);
    const note = [`fd ${d.open.fd}`, ...(unstated.length > 0 ? [`also ${unstated.join('|')}`] : []), 'reply flags unknown'];
    return withComment(openStatement({ process: proc(pid), file: fileName.get(d.inode)!, handle: name, ...mode }), note.join('; '));
  };

  const emitProcess = (pid: number, inherited: Set<Desc[]>): void => {
    const mine = descs.filter((d) => d.open.pid === pid);
    // Descriptors inherited through fork that this process does not hold any more.
    for (const group of inherited) {
      if (!group.some((d) => d.open.pid === pid)) steps.push(`${proc(pid)}: close ${handle.get(group[0]!)}   # not held by pid ${pid}`);
    }
    const children = pids.filter((c) => forkedFrom.get(c) === pid);
    // Open files shared with children first, so that fork hands them over.
    const sharedGroups = [...new Set(mine.map((d) => groupOf.get(d)!))].filter(
      (g) => !inherited.has(g) && g.some((d) => children.includes(d.open.pid)),
    );
    const emitGroup = (group: Desc[]): void => {
      emitted.add(group);
      const own = group.filter((d) => d.open.pid === pid).sort((a, b) => a.open.fd - b.open.fd);
      const first = own[0]!;
      const name = `f${pid}_${first.open.fd}`;
      steps.push(openLine(pid, first, name));
      for (const d of group) handle.set(d, name);
      for (const d of own.slice(1)) {
        const dup = `f${pid}_${d.open.fd}`;
        steps.push(`${proc(pid)}: dup ${name} as ${dup}`);
        handle.set(d, dup);
      }
      const unexplained = group.filter((d) => d.open.pid !== pid && forkedFrom.get(d.open.pid) !== pid);
      for (const d of unexplained) steps.push(`# pid ${d.open.pid} fd ${d.open.fd} shares this open file too (kcmp), by a way the scenario cannot express`);
    };
    for (const g of sharedGroups) emitGroup(g);
    const kept = [...inherited].filter((g) => g.some((d) => d.open.pid === pid));
    const held = new Set([...kept, ...sharedGroups]);
    for (const child of children) {
      steps.push(`${proc(pid)}: fork as ${proc(child)}   # pid ${child} (${comm.get(child) ?? '?'})`);
      emitProcess(child, held);
    }
    for (const d of mine) {
      const g = groupOf.get(d)!;
      if (!emitted.has(g)) emitGroup(g);
    }
    for (const inode of inspection.inodes) {
      for (const m of inode.mappings.filter((x) => x.pid === pid)) emitMapping(pid, inode, m);
    }
  };

  const emitMapping = (pid: number, inode: InodeReport, m: Mapping): void => {
    const mname = `m${pid}_${++mapCount}`;
    const kind = `${m.shared ? 'shared' : 'private'}${m.perms[1] === 'w' ? ' write' : ''}`;
    const own = descs.find((d) => d.open.pid === pid && d.inode === inode);
    const where = `# ${m.start}-${m.end} ${m.perms}`;
    if (own) {
      steps.push(`${proc(pid)}: mmap ${handle.get(own)} ${kind} as ${mname}   ${where}`);
      return;
    }
    const tmp = `t${pid}_${mapCount}`;
    steps.push(`${proc(pid)}: open ${fileName.get(inode)} as ${tmp} ${m.shared && m.perms[1] === 'w' ? 'rdwr' : 'rdonly'}   # mapped without a descriptor: open, map, close`);
    steps.push(`${proc(pid)}: mmap ${tmp} ${kind} as ${mname}   ${where}`);
    steps.push(`${proc(pid)}: close ${tmp}`);
  };

  for (const pid of pids) {
    if (forkedFrom.has(pid)) continue;
    declared.push(pid);
    emitProcess(pid, new Set());
  }
  if (declared.length > 0) out.push('');
  for (const pid of declared) out.push(`process ${proc(pid)}   # pid ${pid} (${comm.get(pid) ?? '?'})`);
  if (steps.length > 0) {
    out.push('');
    for (const step of steps) out.push(step); // not push(...steps): a machine's descriptors are many
  }
  return scenarioText(out);
}

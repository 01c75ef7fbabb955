// The io mode of an inode with what proves it, never more than the evidence
// does. The trace's replay (analyze.ts) starts every inode idle, which is the
// kernel's state only when no file of the inode was open before the trace
// began; /proc (server/inspect) is the truth for who holds what now. So:
//   - proven: nothing was held when tracking began, and the replayed opens
//     account for every file of the inode;
//   - inferred: files from before are still held, and an open the trace saw
//     settles the mode by fs/fuse/iomode.c's rules (a passthrough open that
//     succeeded: fuse_inode_uncached_io_start bound its backing file, and it
//     stays bound while that file is open; a caching open that succeeded:
//     no backing file was bound and the file now counts in iocachectr; a
//     refused one: a backing file is bound);
//   - unknown otherwise, saying why; never "idle" while /proc shows a holder.
// Pure: the caller (track.ts, the LSP, `inspect --trace`) gathers the facts.

import type { InodeView } from '../../protocol/inspect';
import type { InodeReport, OpenSeen } from '../../protocol/trace';
import type { MatchedBy, ModeProvenance, TrackedInode } from '../../protocol/track';
import { toU64, type U64 } from '../../protocol/u64';

export interface ProvenanceInput {
  /** Descriptors and mappings on the inode now, per /proc. */
  held: { opens: number; mappings: number };
  /**
   * Whether descriptors or mappings that existed when tracking began are still held (a snapshot
   * taken at the start); null when there is no such snapshot (a trace file read afterwards).
   */
  heldFromBefore: boolean | null;
  /** The trace's inode matched to this one, if any. */
  traced: { inode: InodeReport; matchedBy: MatchedBy | null } | null;
  /** Words for when the trace ended, for a trace file (`12:04:10`); absent while tracking. */
  traceEnded?: string;
}

export function provenance(input: ProvenanceInput): ModeProvenance {
  const t = input.traced?.inode ?? null;
  const open = t?.lastOpen ?? null;
  const heldNow = input.held.opens + input.held.mappings > 0;
  const backingId = t?.backingId ?? null;
  const backingPath = t?.backingPath ?? null;
  const base = {
    matchedBy: input.traced?.matchedBy ?? null,
    nodeid: t?.nodeid != null ? (toU64(t.nodeid) ?? null) : null,
    backingId,
    backingPath,
  };
  const tracked = t !== null && t.openFiles > 0;
  const seen = t ? seenText(t) : null;

  if (input.heldFromBefore === null) {
    // A trace file: its last state may be old, and files opened before it are not in it.
    const ended = input.traceEnded ?? 'its end';
    if (t && tracked && t.mode !== 'idle') {
      return {
        ...base, mode: t.mode, basis: 'inferred',
        text: join(`${t.mode} at the end of the trace`, backingText(t.mode, backingId, backingPath), sinceText(open)),
        reasons: [
          `The trace replayed through the kernel's rules leaves ${filesText(t.openFiles)} of this inode open at its end (${ended}), in ${t.mode} mode.`,
          'Whether the descriptors /proc shows now are those the trace saw opened cannot be told from a trace file.',
          ...(seen ? [seen] : []),
        ],
      };
    }
    return {
      ...base, mode: 'unknown', basis: 'unknown',
      text: heldNow ? 'unknown · opened outside the trace' : 'unknown · not held now',
      reasons: [
        t ? `At the end of the trace (${ended}) the replay has no file of this inode open.` : 'The trace saw no OPEN or CREATE of this inode.',
        ...(heldNow ? [`/proc shows ${holdersText(input.held)} on it now: opened before the trace began or after it ended.`] : []),
        ...(seen ? [seen] : []),
      ],
    };
  }

  if (!input.heldFromBefore) {
    if (t && tracked) {
      if (t.mode === 'idle')
        return {
          ...base, mode: 'idle', basis: 'proven',
          text: join('no io mode (direct I/O)', sinceText(open)),
          reasons: [
            'Nothing held this inode when tracking began, and every open since is in the trace.',
            `${filesText(t.openFiles)} open with FOPEN_DIRECT_IO take no io mode until mmap (fuse_file_io_open), so iocachectr is 0.`,
          ],
        };
      return {
        ...base, mode: t.mode, basis: 'proven',
        text: join(t.mode, backingText(t.mode, backingId, backingPath), sinceText(open)),
        reasons: ['Nothing held this inode when tracking began (as /proc shows it), and every open since is in the trace, replayed through the kernel\'s rules (fs/fuse/iomode.c).', ...(seen ? [seen] : [])],
      };
    }
    if (!heldNow)
      return {
        ...base, mode: 'idle', basis: 'proven', text: join('idle', releasedText(open)),
        reasons: ['Every file of this inode the trace saw opened was released, and /proc shows no descriptor or mapping on it.'],
      };
    return {
      ...base, mode: 'unknown', basis: 'unknown',
      text: t ? 'unknown · held without an open the trace saw' : 'unknown · no OPEN seen since tracking began',
      reasons: [
        `/proc shows ${holdersText(input.held)} on it, but the trace has no open file of it: the open was not seen (matched by name to another file, or the server has no OPEN: FUSE_NO_OPEN_SUPPORT).`,
        ...(seen ? [seen] : []),
      ],
    };
  }

  // Files from before tracking are still held.
  // Without the decoder's lastOpen, a file the replay still counts open is one the kernel did not refuse at once.
  if (t && tracked && (open ? open.outcome === 'ok' : true) && (t.mode === 'passthrough' || t.mode === 'caching')) {
    const who = open ? openerText(open) : '';
    const reason =
      t.mode === 'passthrough'
        ? `A passthrough open${who} succeeded while a descriptor from before tracking was open: fuse_inode_uncached_io_start accepts it only when no file caches the inode (iocachectr <= 0) and no other backing file is bound, then binds its backing file, which stays bound while that file is open (${filesText(t.openFiles)} still open).`
        : `A caching open${who} succeeded while a descriptor from before tracking was open: fuse_file_io_open refuses it while a backing file is bound, fuse_file_cached_io_open waits while uncached files are open without one, then counts it in iocachectr, so the inode caches while that file is open (${filesText(t.openFiles)} still open).`;
    return {
      ...base, mode: t.mode, basis: 'inferred',
      text: join(t.mode, backingText(t.mode, backingId, backingPath), sinceText(open)),
      reasons: [reason, ...(seen ? [seen] : [])],
    };
  }
  if (t && !tracked && open?.outcome === 'refused') {
    const who = openerText(open);
    if (open.flags.includes('passthrough'))
      return {
        ...base, mode: 'unknown', basis: 'inferred',
        text: join('caching, or passthrough with another backing', `refused OPEN at ${clockText(open.ts)}${byText(open)}`),
        reasons: [
          `A passthrough open${who} was refused while a descriptor from before tracking was open: fuse_inode_uncached_io_start fails with ETXTBSY when a file caches the inode, and EBUSY when another backing file is bound. Either can hold now.`,
          ...(seen ? [seen] : []),
        ],
      };
    return {
      ...base, mode: 'passthrough', basis: 'inferred',
      text: join('passthrough', `refused OPEN at ${clockText(open.ts)}${byText(open)}`),
      reasons: [
        `An open without passthrough${who} was refused while a descriptor from before tracking was open: fuse_file_io_open refuses a reply without FOPEN_PASSTHROUGH while a backing file is bound to the inode (EINVAL; a caching open found uncached files without one would wait, not fail). Which backing file the refusal does not say.`,
        ...(seen ? [seen] : []),
      ],
    };
  }
  return {
    ...base, mode: 'unknown', basis: 'unknown',
    text: 'unknown · opened before tracking',
    reasons: [
      `/proc shows ${holdersText(input.held)} on it that ${input.held.opens + input.held.mappings === 1 ? 'was' : 'were'} there when tracking began: the replies that set its mode came before the trace.`,
      open?.outcome === 'possibly-refused'
        ? 'An open seen since may have been refused (see the trace\'s denials): that does not settle the mode.'
        : t && !tracked
          ? 'Opens seen since were all released; what the older files hold is not in the trace.'
          : 'A later open that succeeds (or is refused) in passthrough or caching mode would prove it.',
      ...(seen ? [seen] : []),
    ],
  };
}

/**
 * Each inode /proc shows held, with its provenance: the trace's inode matched by ino or name
 * (matchTraced), else by opener — an inode opened before tracking had its LOOKUP before the trace
 * too, so the trace knows neither its ino nor its name; its opener still holds the descriptor, and
 * when that process holds exactly one descriptor on the mount no other traced inode accounts for,
 * that is the file it opened.
 */
export function heldModes(input: {
  held: readonly InodeView[];
  connection: number;
  traced: readonly InodeReport[];
  /** See ProvenanceInput.heldFromBefore. */
  heldFromBefore: (inode: InodeView) => boolean | null;
  traceEnded?: string;
}): Array<{ inode: TrackedInode; traced: InodeReport | null }> {
  const matches = new Map<InodeView, { inode: InodeReport; matchedBy: MatchedBy }>();
  for (const v of input.held) {
    const m = matchTraced(v.ino, v.path, input.connection, input.traced);
    if (m) matches.set(v, m);
  }
  const taken = new Set([...matches.values()].map((m) => m.inode));
  for (const t of input.traced) {
    const pid = t.lastOpen?.pid;
    if (!(t.openFiles > 0) || pid == null || taken.has(t) || (t.connection != null && t.connection !== input.connection)) continue;
    const candidates = input.held.filter((v) => !matches.has(v) && v.opens.some((o) => o.pid === pid));
    if (candidates.length === 1) {
      matches.set(candidates[0]!, { inode: t, matchedBy: 'opener' });
      taken.add(t);
    }
  }
  return input.held.map((v) => {
    const m = matches.get(v) ?? null;
    const held = { opens: v.opens.length, mappings: v.mappings.length };
    const p = provenance({ held, heldFromBefore: input.heldFromBefore(v), traced: m, ...(input.traceEnded !== undefined ? { traceEnded: input.traceEnded } : {}) });
    return { inode: { ino: v.ino, path: v.path, ...held, provenance: p }, traced: m?.inode ?? null };
  });
}

/**
 * The trace's inode for an inode /proc shows: by st_ino when the trace has it (LOOKUP/CREATE
 * replies), else by name when exactly one inode of the trace has that name and no ino; never
 * by FUSE node id, which is the server's handle and not st_ino in general.
 */
export function matchTraced(
  ino: U64,
  path: string | null,
  connection: number,
  inodes: readonly InodeReport[],
): { inode: InodeReport; matchedBy: 'ino' | 'name' } | null {
  // `!= null` throughout: a report read back from JSON (`inspect --trace`) may lack fields.
  const mine = inodes.filter((i) => i.connection == null || i.connection === connection);
  // Several node ids may carry one ino over time (a FORGET, then a new LOOKUP): the one seen last holds the files.
  const byIno = mine.filter((i) => i.ino != null && toU64(i.ino) === ino);
  if (byIno.length > 0) return { inode: latest(byIno), matchedBy: 'ino' };
  if (path === null) return null;
  const base = path.slice(path.lastIndexOf('/') + 1);
  const byName = mine.filter((i) => i.ino == null && i.name != null && (i.name === base || i.name === path));
  return byName.length === 1 ? { inode: byName[0]!, matchedBy: 'name' } : null;
}

function latest(list: InodeReport[]): InodeReport {
  return list.reduce((a, b) => ((b.lastOpen?.ts ?? -1) > (a.lastOpen?.ts ?? -1) ? b : a));
}

/** Whether an inode's shown provenance differs in what a user reads (`fuselens track` prints a line then). */
export function sameProvenance(a: TrackedInode, b: TrackedInode): boolean {
  return a.provenance.text === b.provenance.text && a.provenance.basis === b.provenance.basis && a.path === b.path;
}

/** A time of the source's clock in words: strace -tt counts µs since midnight, -ttt and the lab since the epoch. */
export function clockText(us: number | null): string {
  if (us === null) return 'an unknown time';
  const two = (n: number) => String(n).padStart(2, '0');
  if (us < 86_400e6) {
    const s = Math.floor(us / 1e6);
    return `${two(Math.floor(s / 3600))}:${two(Math.floor((s % 3600) / 60))}:${two(s % 60)}`;
  }
  const d = new Date(us / 1000);
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

function join(...parts: Array<string | null>): string {
  return parts.filter((p): p is string => p !== null && p !== '').join(' · ');
}

function backingText(mode: string, id: number | null, path: string | null): string | null {
  if (mode !== 'passthrough') return null;
  if (id === null) return path ? `backing ${path}` : null;
  return path ? `backing ${id} (${path})` : `backing ${id}`;
}

function byText(open: OpenSeen): string {
  if (open.pid === null) return '';
  return open.comm ? ` by ${open.comm} (${open.pid})` : ` by pid ${open.pid}`;
}

function openerText(open: OpenSeen): string {
  return ` at ${clockText(open.ts)}${byText(open)}`;
}

function sinceText(open: OpenSeen | null): string | null {
  return open ? `since OPEN at ${clockText(open.ts)}${byText(open)}` : null;
}

function releasedText(open: OpenSeen | null): string | null {
  return open ? `last OPEN at ${clockText(open.ts)}${byText(open)}, released` : null;
}

function seenText(t: InodeReport): string {
  const flags = t.lastOpenFlags?.length ? t.lastOpenFlags.join(', ') : 'no FOPEN flags';
  return `The trace saw ${t.opensSeen ?? 'some'} open(s) of node ${t.nodeid}${t.name ? ` (${t.name})` : ''}; the last reply: ${flags}.`;
}

function filesText(n: number): string {
  return n === 1 ? '1 file' : `${n} files`;
}

function holdersText(held: { opens: number; mappings: number }): string {
  const parts: string[] = [];
  if (held.opens > 0) parts.push(held.opens === 1 ? '1 descriptor' : `${held.opens} descriptors`);
  if (held.mappings > 0) parts.push(held.mappings === 1 ? '1 mapping' : `${held.mappings} mappings`);
  return parts.join(' and ') || 'nothing';
}

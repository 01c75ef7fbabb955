// `fuselens trace CAPTURE --export-scenario`: a capture of a daemon's protocol
// stream turned into a `.fusesim` scenario (docs/trace.md, "Scenarios from
// captures"). The INIT reply's flags; each OPEN as an `open`, each CREATE as a
// `create`, with the process's open flags and the reply's FOPEN flags and
// backing id, or the errno the server answered (`reply error=ERRNO`); each
// FUSE_DEV_IOC_BACKING_OPEN/CLOSE; each RELEASE as the `close` of its open;
// one process per requesting task, files by the names LOOKUP and CREATE
// replies gave their node ids. Steps are in the order the trace analysis
// (analyze.ts) replays the same stream through the model — an open when its
// reply is paired, a close when its RELEASE is sent, RELEASEs matched to opens
// by the same OpenFiles — so simulating the export gives, open by open, the
// analysis's answer; each open also states (`=> EIO`, `=> ok`) what the stream
// itself proves, so `simulate` says where the model and the capture disagree.
// What the language cannot state stays in a comment, never dropped.

import { FOPEN_BITS, Op, initFlagNames, INIT_FLAG_BITS, fopenFlagNames } from '../abi';
import { isModelled, formatKernelVersion, NEWEST_KERNEL, findInitFlag, type KernelVersion } from '../model';
import { decodeOpenFlags } from '../inspect/open-flags';
import {
  ScenarioNames, initStatement, openMode, openStatement, scenarioString, scenarioText, withComment,
} from '../scenario/print';
import { ERRNO_PATTERN } from '../scenario/syntax';
import type { DenialReport, TraceReport } from '../../protocol/trace';
import type { U64 } from '../../protocol/u64';
import { runningKernel, type PairedRequest } from './analyze';
import { errnoName, errnoNumber } from './errno';
import type { BackingEvent, SendEvent, TraceEvent } from './events';
import { OpenFiles, type OpenFile } from './open-files';

/** One OPEN/CREATE of the capture as the export wrote it (tests and the trace view set it beside the analysis). */
export interface ExportedOpen {
  /** The OPEN/CREATE's unique. */
  unique: number;
  /** 1-based line of its `open` or `create` in the text; null when only a comment says what happened. */
  line: number | null;
  process: string;
  file: string;
  handle: string;
  /** The outcome the line states (`ok`, `EIO`, the errno of a failed reply) when the stream proves one. */
  stated: string | null;
  /** The errno the server answered the OPEN/CREATE with; null when it opened the file. */
  error: string | null;
}

export interface ScenarioExport {
  text: string;
  opens: ExportedOpen[];
}

export interface ScenarioExportOptions {
  /** The capture's name, for the title and the header comment. */
  source: string;
  /** The kernel whose rules the analysis used (default: the running kernel). */
  kernel?: KernelVersion;
}

/** What the export follows of an open, from its reply to its RELEASE (OpenFiles matches the RELEASE as the analysis does). */
interface OpenItem extends OpenFile {
  unique: number;
  create: string | null;
  file: FileDecl;
  handle: string;
  /** open(2) flags of the request; null when the source does not show the body. */
  flags: number | null;
  /** FOPEN_* names of the reply; null when the source does not show them (libfuse debug log, tracepoints). */
  reply: string[] | null;
  backing: string | null;
  notes: string[];
}

type Item =
  | { kind: 'open'; open: OpenItem }
  | { kind: 'close'; open: OpenItem; unique: number }
  | { kind: 'failed-open'; unique: number; pid: number | null; file: FileDecl | null; create: string | null; flags: number | null; errno: string }
  | { kind: 'backing'; name: string; path: string | null; id: number; tid: number | null }
  | { kind: 'backing-close'; name: string | null; tid: number | null }
  | { kind: 'note'; text: string };

interface FileDecl {
  name: string;
  comment: string | null;
  /** The node id that names it now; null once forgotten (a later LOOKUP of the path may take it again). */
  owner: U64 | null;
}

/** The node ids' names (LOOKUP and CREATE replies), their files, processes and backings of the exported connection. */
export class CaptureScenario {
  private connection: number | null | undefined;
  private readonly otherConnections = new Map<number | null, number>();
  private readonly items: Item[] = [];
  private readonly prelude: Item[] = [];
  private readonly entries = new Map<U64, { parent: U64 | null; name: string }>();
  private readonly nodeFiles = new Map<U64, FileDecl>();
  private readonly pathFiles = new Map<string, FileDecl>();
  private readonly files: FileDecl[] = [];
  private readonly fileNames = new ScenarioNames();
  private readonly backingNames = new ScenarioNames();
  /** Backing id → its scenario name while registered. */
  private readonly backings = new Map<number, string>();
  private readonly comms = new Map<number | null, string | null>();
  private readonly opens = new OpenFiles<OpenItem>();
  private readonly openItems: OpenItem[] = [];
  private init: { flags: bigint; maxStackDepth: number; major: number; minor: number } | null = null;
  private noOpenReply = false;

  /** Every event, before the analyzer sees it (analyzeTrace's onEvent). */
  event(ev: TraceEvent): void {
    if (!this.ours(ev.connection, true)) return;
    if (ev.kind === 'send') this.sent(ev);
    else if (ev.kind === 'backing') this.backing(ev);
  }

  /** Every paired request, when the analyzer pairs it (analyzeTrace's onRequest): the moment its replay acts. */
  paired({ send: s, end: e }: PairedRequest): void {
    if (!this.ours(s.connection, false)) return;
    this.pid(s);
    const r = e.reply;
    if (s.opcode === Op.FUSE_OPEN || s.opcode === Op.FUSE_CREATE) return this.opened(s, e.error, r);
    if (e.error !== 0 || !r) return;
    if (r.op === 'init' && !this.init) this.init = { flags: r.init.flags, maxStackDepth: r.init.maxStackDepth, major: r.init.major, minor: r.init.minor };
    if (r.op === 'entry' && s.body?.op === 'lookup') this.name(r.nodeid, s.nodeid, s.body.name);
  }

  /** Whether an event is of the exported connection (the first one seen); `count` the others' events. */
  private ours(connection: number | null, count: boolean): boolean {
    if (this.connection === undefined) this.connection = connection;
    if (connection === this.connection) return true;
    if (count) this.otherConnections.set(connection, (this.otherConnections.get(connection) ?? 0) + 1);
    return false;
  }

  private pid(s: SendEvent): void {
    if (s.pid === null || s.pid === 0) return;
    if (!this.comms.has(s.pid) || (this.comms.get(s.pid) === null && s.comm !== null)) this.comms.set(s.pid, s.comm);
  }

  private name(nodeid: U64, parent: U64 | null, name: string): void {
    this.entries.set(nodeid, { parent, name });
  }

  /** The node's path from the root as the capture names it; null when no LOOKUP/CREATE reply named it. */
  private pathOf(nodeid: U64): { path: string; whole: boolean } | null {
    const parts: string[] = [];
    let at: U64 | null = nodeid;
    for (let depth = 0; at !== null && at !== 1 && depth < 64; depth++) {
      const e = this.entries.get(at);
      if (!e) return parts.length === 0 ? null : { path: parts.join('/'), whole: false };
      parts.unshift(e.name);
      at = e.parent;
    }
    return { path: parts.join('/'), whole: at === 1 };
  }

  /** The scenario file of a node id: one per path (a node id forgotten and looked up again is the same file). */
  private fileOf(nodeid: U64): FileDecl {
    const bound = this.nodeFiles.get(nodeid);
    if (bound) return bound;
    const named = this.pathOf(nodeid);
    let decl = named ? this.pathFiles.get(named.path) : undefined;
    if (!decl || (decl.owner !== null && decl.owner !== nodeid)) {
      const fallback = `node_${nodeid}`;
      const name = this.fileNames.take(named?.path ?? fallback, fallback);
      const comment = !named
        ? `node id ${nodeid}: no LOOKUP or CREATE reply in the capture names it`
        : [
            ...(name !== named.path ? [named.path] : []),
            ...(named.whole ? [] : ['in a directory whose own LOOKUP is not in the capture']),
            ...(decl ? [`another node id (${nodeid}) than the file of the same name above: another inode`] : []),
          ].join('; ') || null;
      decl = { name, comment, owner: nodeid };
      this.files.push(decl);
      if (named && !this.pathFiles.has(named.path)) this.pathFiles.set(named.path, decl);
    }
    decl.owner = nodeid;
    this.nodeFiles.set(nodeid, decl);
    return decl;
  }

  /** FUSE_FORGET ends a node id's life (fuse_evict_inode): a later use of the id is another inode. */
  private forget(nodeid: U64): void {
    const decl = this.nodeFiles.get(nodeid);
    if (decl) decl.owner = null;
    this.nodeFiles.delete(nodeid);
    this.entries.delete(nodeid);
  }

  /** A request sent: follows openers, FLUSHes and RELEASEs exactly as the analysis does (analyze.ts watchForDenial). */
  private sent(s: SendEvent): void {
    this.pid(s);
    this.opens.sent(s.pid);
    const b = s.body;
    if (s.opcode === Op.FUSE_FORGET && s.nodeid !== null) return this.forget(s.nodeid);
    if (b?.op === 'batch_forget') {
      for (const f of b.forgets) this.forget(f.nodeid);
      return;
    }
    if (s.opcode === Op.FUSE_FLUSH && (b !== null || this.opens.size > 0)) this.opens.flushed(s.nodeid, b?.op === 'flush' ? b.fh : null, s.pid);
    if (s.opcode !== Op.FUSE_RELEASE || b?.op !== 'release') return;
    const match = this.opens.released(s.nodeid, b.release.fh);
    if (match.kind === 'before') {
      this.items.push({ kind: 'note', text: `RELEASE unique ${s.unique} of node id ${s.nodeid} (fh ${b.release.fh}): a file opened before the capture began` });
      return;
    }
    this.items.push({ kind: 'close', open: match.file, unique: s.unique });
  }

  private opened(s: SendEvent, error: number, r: PairedRequest['end']['reply']): void {
    const create = s.body?.op === 'create' ? s.body.create.name : null;
    // As the analysis: an OPEN is of its request's node id, a CREATE of the one its reply hands out.
    const replied = r?.op === 'create' || r?.op === 'handle' ? r.nodeid : null;
    const nodeid = s.opcode === Op.FUSE_OPEN ? (s.nodeid ?? replied) : replied;
    if (create !== null && nodeid !== null) this.name(nodeid, s.nodeid, create);
    if (error !== 0) {
      const file = s.opcode === Op.FUSE_OPEN ? (nodeid !== null ? this.fileOf(nodeid) : null) : create !== null ? this.unnamedFile(s, create) : null;
      // Without a file to open, the `open … reply error=ENOSYS` cannot be written: the init line says no_open instead.
      if (s.opcode === Op.FUSE_OPEN && errnoName(error) === 'ENOSYS' && file === null) this.noOpenReply = true;
      this.items.push({ kind: 'failed-open', unique: s.unique, pid: s.pid, file, create, flags: requestFlags(s), errno: errnoName(error) });
      return;
    }
    const notes: string[] = [];
    let reply: string[] | null = null;
    let fh: U64 | null = null;
    let backing: string | null = null;
    if (r?.op === 'open' || r?.op === 'create') {
      fh = r.open.fh;
      reply = fopenFlagNames(r.open.openFlags);
      const unknown = reply.filter((f) => !(f in FOPEN_BITS));
      if (unknown.length > 0) notes.push(`reply also has FOPEN bits ${unknown.join('|')} the language does not know`);
      reply = reply.filter((f) => f in FOPEN_BITS);
      backing = this.backingOfReply(r.open.backingId, reply.includes('passthrough'), notes);
    } else if (r?.op === 'handle') {
      fh = r.fh;
      notes.push('the source does not show the reply flags: a plain (caching) open here');
    } else notes.push('the source shows no reply body: reply flags and handle unknown');
    const open: OpenItem = {
      nodeid, fh, pid: s.pid, flushed: false, quiet: true, unique: s.unique, create, file: nodeid !== null ? this.fileOf(nodeid) : this.unnamedFile(s, create),
      handle: `f${s.unique}`, flags: requestFlags(s), reply, backing, notes,
    };
    // As the analysis: only a reply the source shows is an open file whose FLUSH and RELEASE are followed.
    if (r) this.opens.opened(open);
    this.openItems.push(open);
    this.items.push({ kind: 'open', open });
  }

  /** The file of an open whose node id the source does not show: the CREATE's name, or one file per open. */
  private unnamedFile(s: SendEvent, create: string | null): FileDecl {
    const parent = create !== null && s.nodeid !== null ? (s.nodeid === 1 ? { path: '', whole: true } : this.pathOf(s.nodeid)) : null;
    const path = parent ? `${parent.path ? `${parent.path}/` : ''}${create}` : null;
    const known = path !== null ? this.pathFiles.get(path) : undefined;
    if (known) return known;
    const fallback = `open_${s.unique}`;
    const name = this.fileNames.take(path ?? fallback, fallback);
    const decl: FileDecl = {
      name, owner: null,
      comment: path !== null ? (name !== path ? path : null) : `the source does not say which node id OPEN unique ${s.unique} opened: a file of its own here`,
    };
    if (path !== null) this.pathFiles.set(path, decl);
    this.files.push(decl);
    return decl;
  }

  /**
   * The scenario backing an OPEN reply names. An id registered before the capture began gets a `backing`
   * of its own at the start (the analysis, too, takes every id as registered).
   */
  private backingOfReply(id: number, passthrough: boolean, notes: string[]): string | null {
    if (id === 0) return null;
    if (!passthrough) {
      notes.push(`backing id ${id} in the reply, which the kernel ignores without FOPEN_PASSTHROUGH`);
      return null;
    }
    if (id < 0) {
      notes.push(`backing id ${id} in the reply: not an id the language can name`);
      return null;
    }
    let name = this.backings.get(id);
    if (name === undefined) {
      name = this.backingNames.take(`b${id}`, `b${id}`);
      this.backings.set(id, name);
      this.prelude.push({ kind: 'backing', name, path: null, id, tid: null });
    }
    return name;
  }

  private backing(b: BackingEvent): void {
    if (b.op === 'open') {
      if (b.error !== 0 || b.id === null) {
        this.items.push({
          kind: 'note',
          text: `FUSE_DEV_IOC_BACKING_OPEN${b.path ? ` of ${b.path}` : ''} by daemon thread ${b.tid ?? '?'} failed (${b.errno ?? errnoName(b.error)}): ` +
            'the language cannot make a registration fail for a reason outside the rules; no open used it',
        });
        return;
      }
      const name = this.backingNames.take(`b${b.id}`, `b${b.id}`);
      this.backings.set(b.id, name);
      this.items.push({ kind: 'backing', name, path: b.path, id: b.id, tid: b.tid });
      return;
    }
    const name = b.id !== null ? this.backings.get(b.id) ?? null : null;
    if (b.id !== null) this.backings.delete(b.id);
    if (b.error !== 0) {
      this.items.push({ kind: 'note', text: `FUSE_DEV_IOC_BACKING_CLOSE${b.id !== null ? ` of id ${b.id}` : ''} failed (${b.errno ?? errnoName(b.error)})` });
      return;
    }
    this.items.push({ kind: 'backing-close', name, tid: b.tid });
  }

  /** The scenario's text, once the stream and its analysis (`report`) are complete. */
  render(report: TraceReport, options: ScenarioExportOptions): ScenarioExport {
    const connection = this.connection ?? null;
    const denials = new Map<number, DenialReport>();
    for (const d of report.denials) if (d.connection === connection) denials.set(d.unique, d);
    const processes = processNames(this.comms, this.items);
    const proc = (pid: number | null): string => processes.get(pid)!;
    const kernel = options.kernel ?? runningKernel();

    const out: string[] = [
      `# Exported by fuselens from the capture ${options.source} (${report.format}${connection !== null ? `, connection ${connection}` : ''}).`,
      '# The OPEN/CREATE replies, RELEASEs and backing ioctls of the daemon, in the order the trace analysis replays them:',
      '# an open when its reply is paired, a close when its RELEASE is sent. Each process is one requesting task',
      '# (fuse_in_header.pid is a thread id, so each thread of a program is a process here). An open states',
      '# `=> EIO` where the stream proves the kernel refused it (released at once, no FLUSH) and `=> ok` where it',
      '# proves the file reached its process (a FLUSH, or another request of the opener), and `=> ERRNO` where the',
      '# server answered `reply error=ERRNO` (ENOSYS to an OPEN excepted: the open goes on under no_open); `fuselens simulate`',
      '# checks both against the kernel\'s rules. `fuselens run` replays the steps one at a time on its own server, with',
      '# files and backing files of its own and each process here (a thread of the capture) a process of its own.',
      `scenario ${scenarioString(`capture ${options.source}`)}`,
    ];
    if (isModelled(kernel)) out.push(withComment(`kernel ${formatKernelVersion(kernel)}`, 'the kernel whose rules the analysis used'));
    else out.push(`# the analysis's kernel ${formatKernelVersion(kernel)} is outside the modelled range; the newest modelled (${NEWEST_KERNEL}) applies`);
    out.push(...this.initLines());
    const left = report.opcodes
      .filter((o) => !['FUSE_OPEN', 'FUSE_CREATE', 'FUSE_RELEASE', 'FUSE_INIT'].includes(o.opcode))
      .map((o) => `${o.opcode} ${o.sent}`);
    if (left.length > 0) {
      out.push(
        `# Left out (the io-mode rules the analysis replays do not depend on them; reads and writes are not replayed): ${left.join(', ')}.`,
      );
    }
    const modeOf = (o: { flags: number | null; create: string | null }) => openMode(o.flags === null ? [] : decodeOpenFlags(o.flags.toString(8)), o.create !== null);
    if (this.items.some((i) => (i.kind === 'open' ? modeOf(i.open) : i.kind === 'failed-open' ? modeOf(i) : null)?.unstated.length))
      out.push('# Open flags after `also` are outside the language: neither `fuselens simulate` nor `fuselens run` uses them.');
    for (const [c, n] of this.otherConnections) out.push(`# ${n} events of connection ${c ?? '?'} are left out: a scenario is one connection.`);
    for (const w of report.warnings) out.push(`# analysis: ${w}`);

    out.push('');
    const created = createdFiles(this.items);
    for (const f of this.files) {
      out.push(created.has(f)
        ? withComment('', `${f.name}: no file line, its first FUSE_CREATE below makes it${f.comment ? `; ${f.comment}` : ''}`)
        : withComment(`file ${f.name}`, f.comment));
    }
    out.push('');
    for (const [pid, name] of processes) {
      const comm = this.comms.get(pid) ?? null;
      out.push(withComment(`process ${name}`, pid === null ? 'the source does not name the requesting task' : `pid ${pid}${comm !== null ? ` (${comm})` : ''}`));
    }
    out.push('');

    const exported: ExportedOpen[] = [];
    const unreleased = new Set(this.openItems);
    // The files that exist at each step of the scenario: a `create` of one opens it (FUSE_OPEN), and o_excl refuses it.
    const existing = new Set(this.files.filter((f) => !created.has(f)));
    /** How a CREATE of `file` is written where the scenario's name already exists (its UNLINK is not replayed). */
    const createNotes = (file: FileDecl, excl: boolean): string[] => !existing.has(file) ? [] : [
      `${file.name} exists here (the capture's removal of it is not replayed): the scenario opens it by FUSE_OPEN` +
        (excl ? '; O_EXCL left out, which would refuse it' : ''),
    ];
    for (const item of [...this.prelude, ...this.items]) {
      switch (item.kind) {
        case 'backing':
          out.push(withComment(
            `backing ${item.name}${item.path !== null ? ` ${scenarioString(item.path)}` : ''}`,
            item.tid === null ? `id ${item.id}: its FUSE_DEV_IOC_BACKING_OPEN is not among the capture's events (before the capture began, or a source that does not show it)`
              : `FUSE_DEV_IOC_BACKING_OPEN by daemon thread ${item.tid}: id ${item.id}`,
          ));
          break;
        case 'backing-close':
          out.push(item.name !== null
            ? withComment(`backing close ${item.name}`, `FUSE_DEV_IOC_BACKING_CLOSE by daemon thread ${item.tid ?? '?'}`)
            : withComment('', `FUSE_DEV_IOC_BACKING_CLOSE by daemon thread ${item.tid ?? '?'} of an id the source does not show ` +
                '(strace prints the pointer, not the id): the backing stays registered here'));
          break;
        case 'note':
          out.push(withComment('', item.text));
          break;
        case 'failed-open': {
          const what = `${item.create !== null ? 'FUSE_CREATE' : 'FUSE_OPEN'} unique ${item.unique}`;
          const stateable = item.file !== null && ERRNO_PATTERN.test(item.errno) && errnoNumber(item.errno) !== undefined &&
            // The kernel then makes files by MKNOD + OPEN (fc->no_create): outside the language.
            !(item.create !== null && item.errno === 'ENOSYS');
          if (!stateable) {
            out.push(withComment('', `${proc(item.pid)}: ${item.create !== null ? `FUSE_CREATE of ${item.create}` : `FUSE_OPEN of ${item.file?.name ?? 'a node the capture does not name'}`}` +
              ` answered ${item.errno} by the server (unique ${item.unique}): the language cannot state this failing reply` +
              (item.errno === 'ENOSYS' && item.create === null ? '; ENOSYS to OPEN makes the kernel stop sending OPEN (no_open, see the init line)' : '')));
            exported.push({ unique: item.unique, line: null, process: proc(item.pid), file: item.file?.name ?? '', handle: '', stated: null, error: item.errno });
            break;
          }
          const file = item.file!;
          const { unstated, ...mode } = modeOf(item);
          const notes = [what, ...(item.flags === null ? ['open flags not in the source'] : unstated.length > 0 ? [`also ${unstated.join('|')}`] : [])];
          if (item.create !== null) notes.push(...createNotes(file, mode.oExcl));
          // ENOSYS to an OPEN is no error to the process: the kernel sets no_open and the open goes on without one (fuse_file_open).
          const stated = item.create === null && item.errno === 'ENOSYS' ? null : item.errno;
          const handle = `f${item.unique}`;
          out.push(withComment(openStatement({
            process: proc(item.pid), file: file.name, handle, ...mode, oExcl: mode.oExcl && !existing.has(file),
            create: item.create !== null, replyError: item.errno, ...(stated ? { outcome: stated } : {}),
          }), notes.join('; ')));
          exported.push({ unique: item.unique, line: out.length, process: proc(item.pid), file: file.name, handle, stated, error: item.errno });
          break;
        }
        case 'open': {
          const o = item.open;
          const denial = denials.get(o.unique);
          const stated = denial?.certainty === 'proven' ? 'EIO' : o.flushed || !o.quiet ? 'ok' : null;
          const { unstated, ...mode } = modeOf(o);
          const notes = [
            `${o.create !== null ? 'FUSE_CREATE' : 'FUSE_OPEN'} unique ${o.unique}`,
            ...(o.flags === null ? ['open flags not in the source'] : unstated.length > 0 ? [`also ${unstated.join('|')}`] : []),
            ...(o.create !== null ? createNotes(o.file, mode.oExcl) : []),
            ...o.notes,
            ...(denial?.certainty === 'possible' ? [`possibly refused: ${denial.note ?? denial.why}`] : []),
            ...(denial?.certainty === 'proven' && denial.rule === null ? ['the stream proves a refusal the rules do not explain'] : []),
          ];
          out.push(withComment(openStatement({
            process: proc(o.pid), file: o.file.name, handle: o.handle, ...mode, oExcl: mode.oExcl && !existing.has(o.file), create: o.create !== null,
            ...(o.reply ? { reply: o.reply } : {}), ...(o.backing ? { backing: o.backing } : {}), ...(stated ? { outcome: stated } : {}),
          }), notes.join('; ')));
          exported.push({ unique: o.unique, line: out.length, process: proc(o.pid), file: o.file.name, handle: o.handle, stated, error: null });
          // Made by the CREATE, or opened; a refused CREATE reply leaves the name too (fuse_create_open made the dentry).
          existing.add(o.file);
          break;
        }
        case 'close': {
          unreleased.delete(item.open);
          const denial = denials.get(item.open.unique);
          // A refused open never reached a descriptor: its RELEASE is the kernel's own (fuse_finish_open → fuse_sync_release).
          if (denial?.rule) out.push(withComment('', `RELEASE unique ${item.unique}: the kernel's own release of the refused ${item.open.handle}`));
          else out.push(withComment(`${proc(item.open.pid)}: close ${item.open.handle}`, `RELEASE unique ${item.unique}`));
          break;
        }
      }
    }
    if (unreleased.size > 0) out.push('', `# ${unreleased.size} open(s) have no RELEASE in the capture: still open when it ended, or opened by a source without handles`);
    return { text: scenarioText(out), opens: exported };
  }

  private initLines(): string[] {
    if (this.init === null) {
      // analyze.ts assumedConnection: the replay takes passthrough as negotiated.
      return [withComment(initStatement(['passthrough'], 1),
        'FUSE_INIT is not in the capture (it began after the mount): assumed as the trace analysis does; `fuselens run` answers INIT so')];
    }
    const known = initFlagNames(this.init.flags).filter((f) => findInitFlag(f));
    let rest = this.init.flags;
    for (const f of known) rest &= ~(1n << BigInt(INIT_FLAG_BITS[f as keyof typeof INIT_FLAG_BITS]));
    const pt = known.includes('passthrough');
    const flags = [...known, ...(this.noOpenReply ? ['no_open'] : [])];
    const notes = [
      `FUSE_INIT reply, protocol ${this.init.major}.${this.init.minor}`,
      ...(rest !== 0n ? [`also bits 0x${rest.toString(16)} the language does not know`] : []),
      ...(!pt && this.init.maxStackDepth !== 0 ? [`max_stack_depth ${this.init.maxStackDepth}, which counts only with passthrough`] : []),
      ...(this.noOpenReply ? ['no_open: the server answered an OPEN with ENOSYS'] : []),
    ];
    return [withComment(initStatement(flags, pt ? this.init.maxStackDepth : undefined), notes.join('; '))];
  }
}

/** open(2) flags of an OPEN/CREATE request; null when the source does not show its body. */
function requestFlags(s: SendEvent): number | null {
  return s.body?.op === 'open' ? s.body.open.flags : s.body?.op === 'create' ? s.body.create.flags : null;
}

/**
 * The files a `create` makes, so no `file` line declares them: those whose first open the server answered
 * is a CREATE (a failed CREATE makes no name), or that only failed CREATEs name.
 */
function createdFiles(items: readonly Item[]): Set<FileDecl> {
  /** true: made by a create; false: declared. Undecided while only failed CREATEs have named it. */
  const made = new Map<FileDecl, boolean>();
  const failedCreates = new Set<FileDecl>();
  for (const item of items) {
    const use = item.kind === 'open' ? { file: item.open.file, create: item.open.create !== null, failed: false }
      : item.kind === 'failed-open' && item.file !== null ? { file: item.file, create: item.create !== null, failed: true } : null;
    if (!use || made.has(use.file)) continue;
    if (use.create && use.failed) failedCreates.add(use.file);
    else made.set(use.file, use.create);
  }
  return new Set([...failedCreates].filter((f) => !made.has(f)).concat([...made].filter(([, c]) => c).map(([f]) => f)));
}

/** One scenario process per requesting task: its comm when no other task has it, comm_PID when several do. */
function processNames(comms: Map<number | null, string | null>, items: readonly Item[]): Map<number | null, string> {
  const pids = new Set<number | null>();
  for (const item of items) {
    if (item.kind === 'open') pids.add(item.open.pid);
    else if (item.kind === 'failed-open') pids.add(item.pid);
  }
  const count = new Map<string, number>();
  for (const pid of pids) {
    const comm = comms.get(pid) ?? null;
    if (comm !== null) count.set(comm, (count.get(comm) ?? 0) + 1);
  }
  const names = new ScenarioNames(['main']);
  const out = new Map<number | null, string>();
  for (const pid of [...pids].sort((a, b) => (a ?? -1) - (b ?? -1))) {
    const comm = comms.get(pid) ?? null;
    const fallback = pid === null ? 'unknown_task' : `pid${pid}`;
    out.set(pid, names.take(comm === null ? fallback : count.get(comm)! > 1 ? `${comm}_${pid}` : comm, fallback));
  }
  return out;
}

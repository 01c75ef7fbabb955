// A real LSP client for the tests and the benchmark: spawns the built server
// (`node dist/server.js --stdio`, or `bin/fuselens lsp --stdio`) and speaks
// JSON-RPC to it over its stdin/stdout with vscode-languageserver-protocol.
// Everything waits on messages (diagnostics, responses), never on timers;
// a deadline only turns a hang into a failure.

import { after, before } from 'node:test';
import { fork, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import {
  createProtocolConnection,
  IPCMessageReader,
  IPCMessageWriter,
  StreamMessageReader,
  StreamMessageWriter,
  type Diagnostic,
  type InitializeResult,
  type Position,
  type ProtocolConnection,
  type Range,
  type TextEdit,
  type WorkspaceEdit,
} from 'vscode-languageserver-protocol/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { procCpuMs } from '../support/proc-cpu';

export const ROOT = join(__dirname, '..', '..');

export interface StartOptions {
  /**
   * `server`: node dist/server.js --stdio (default); `cli`: bin/fuselens lsp --stdio;
   * `ipc`: node dist/server.js --node-ipc, as the VS Code extension starts it.
   */
  via?: 'server' | 'cli' | 'ipc';
  initializationOptions?: unknown;
  /** Answer to workspace/configuration for section `fuselens`; undefined: the client lacks the capability. */
  configuration?: Record<string, unknown>;
}

interface Published {
  version: number | undefined;
  diagnostics: Diagnostic[];
}

export class LspClient {
  /** Every server started and not yet killed: a test file's `after` kills what a failure left behind. */
  static readonly live = new Set<LspClient>();

  static killAll(): void {
    for (const c of LspClient.live) c.kill();
  }

  readonly connection: ProtocolConnection;
  readonly logs: string[] = [];
  readonly stderr: string[] = [];
  /** window/showMessage notifications, in order. */
  readonly messages: Array<{ type: number; message: string }> = [];
  private readonly messageWaiters: Array<(m: { type: number; message: string }) => void> = [];
  private readonly published = new Map<string, Published>();
  private readonly waiters: Array<{ uri: string; version: number | undefined; resolve: (p: Published) => void }> = [];
  private readonly docs = new Map<string, TextDocument>();
  private readonly publishListeners: Array<(p: { uri: string; version?: number; diagnostics: Diagnostic[] }) => void> = [];
  exited: Promise<number | null>;
  /**
   * When the last didChange was sent (performance.now()): the benchmark times an edit from
   * there, not from before this client's own copy of the document was updated (a 100,000-line
   * TextDocument.update costs the client 5-15 ms that no server change can save).
   */
  changeSentAt = 0;
  initializeResult!: InitializeResult;
  configuration: Record<string, unknown> | undefined;

  private constructor(readonly child: ChildProcessWithoutNullStreams, options: StartOptions) {
    this.configuration = options.configuration;
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => this.stderr.push(d));
    this.connection = options.via === 'ipc'
      ? createProtocolConnection(new IPCMessageReader(child), new IPCMessageWriter(child))
      : createProtocolConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
    this.connection.onNotification('textDocument/publishDiagnostics', (p: { uri: string; version?: number; diagnostics: Diagnostic[] }) => {
      const entry = { version: p.version, diagnostics: p.diagnostics };
      this.published.set(p.uri, entry);
      for (const listener of this.publishListeners) listener(p);
      for (let i = this.waiters.length - 1; i >= 0; i--) {
        const w = this.waiters[i]!;
        if (w.uri === p.uri && (w.version === undefined || (p.version ?? -1) >= w.version)) {
          this.waiters.splice(i, 1);
          w.resolve(entry);
        }
      }
    });
    this.connection.onNotification('window/logMessage', (p: { message: string }) => {
      this.logs.push(p.message);
    });
    this.connection.onNotification('window/showMessage', (p: { type: number; message: string }) => {
      this.messages.push(p);
      for (const w of this.messageWaiters.splice(0)) w(p);
    });
    this.connection.onRequest('workspace/configuration', (p: { items: { section?: string }[] }) =>
      p.items.map((item) => (item.section === 'fuselens' ? this.configuration ?? null : null)));
    this.connection.onRequest('client/registerCapability', () => null);
    this.connection.onRequest('workspace/semanticTokens/refresh', () => null);
    this.connection.listen();
  }

  static async start(options: StartOptions = {}): Promise<LspClient> {
    const server = join(ROOT, 'dist', 'server.js');
    const child = options.via === 'ipc'
      ? (fork(server, ['--node-ipc'], { stdio: ['pipe', 'pipe', 'pipe', 'ipc'] }) as ChildProcessWithoutNullStreams)
      : options.via === 'cli'
        ? spawn(join(ROOT, 'bin', 'fuselens'), ['lsp', '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'] })
        : spawn(process.execPath, [server, '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const client = new LspClient(child, options);
    LspClient.live.add(client);
    client.initializeResult = await client.within(30_000, 'initialize', client.connection.sendRequest('initialize', {
      processId: process.pid,
      rootUri: null,
      capabilities: {
        workspace: { configuration: options.configuration !== undefined, didChangeConfiguration: { dynamicRegistration: true } },
        textDocument: {
          publishDiagnostics: { versionSupport: true, codeDescriptionSupport: true, dataSupport: true },
          completion: { completionItem: { snippetSupport: true } },
          rename: { prepareSupport: true },
        },
      },
      initializationOptions: options.initializationOptions,
    }) as Promise<InitializeResult>);
    await client.connection.sendNotification('initialized', {});
    return client;
  }

  /** Rejects when `promise` takes longer than `ms` (a hang is a failure, not a wait). */
  async within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms (server stderr: ${this.stderr.join('').slice(-2000)})`)), ms);
    });
    try {
      return await Promise.race([promise, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  text(uri: string): string {
    return this.docs.get(uri)!.getText();
  }

  /** Opens a document; resolves with its first diagnostics. */
  async open(uri: string, text: string, version = 1): Promise<Diagnostic[]> {
    this.docs.set(uri, TextDocument.create(uri, 'fusesim', version, text));
    const wait = this.diagnostics(uri, version);
    await this.connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'fusesim', version, text } });
    return wait;
  }

  /** Applies edits (as incremental changes); resolves with the diagnostics of the new version. */
  async edit(uri: string, edits: TextEdit[]): Promise<Diagnostic[]> {
    const doc = this.docs.get(uri)!;
    const version = doc.version + 1;
    // Send the changes from the bottom up so earlier ranges stay valid.
    const sorted = [...edits].sort((a, b) => b.range.start.line - a.range.start.line || b.range.start.character - a.range.start.character);
    const changes = sorted.map((e) => ({ range: e.range, text: e.newText }));
    this.docs.set(uri, TextDocument.update(doc, changes, version));
    const wait = this.diagnostics(uri, version);
    this.changeSentAt = performance.now();
    await this.connection.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges: changes });
    return wait;
  }

  /** Replaces the whole text; resolves with the new diagnostics. */
  async replace(uri: string, text: string): Promise<Diagnostic[]> {
    const doc = this.docs.get(uri)!;
    const end = doc.positionAt(doc.getText().length);
    return this.edit(uri, [{ range: { start: { line: 0, character: 0 }, end }, newText: text }]);
  }

  /** Applies a workspace edit the server proposed, as an editor would. */
  async applyWorkspaceEdit(edit: WorkspaceEdit): Promise<Diagnostic[]> {
    const entries = Object.entries(edit.changes ?? {});
    if (entries.length !== 1) throw new Error(`expected edits of one document, got ${entries.length}`);
    const [uri, edits] = entries[0]!;
    return this.edit(uri, edits);
  }

  /** The first window/showMessage whose text matches (already shown, or the next ones). */
  message(pattern: RegExp): Promise<{ type: number; message: string }> {
    const seen = this.messages.find((m) => pattern.test(m.message));
    if (seen) return Promise.resolve(seen);
    const p = new Promise<{ type: number; message: string }>((resolve) => {
      const check = (m: { type: number; message: string }) => {
        if (pattern.test(m.message)) resolve(m);
        else this.messageWaiters.push(check);
      };
      this.messageWaiters.push(check);
    });
    return this.within(30_000, `a message like ${pattern}`, p);
  }

  /** Sees every publishDiagnostics notification (the connection allows one handler: this one). */
  onPublish(listener: (p: { uri: string; version?: number; diagnostics: Diagnostic[] }) => void): void {
    this.publishListeners.push(listener);
  }

  /** The diagnostics published for `uri` at `version` or later. */
  diagnostics(uri: string, version?: number): Promise<Diagnostic[]> {
    const have = this.published.get(uri);
    if (have && (version === undefined || (have.version ?? -1) >= version)) return Promise.resolve(have.diagnostics);
    const p = new Promise<Published>((resolve) => this.waiters.push({ uri, version, resolve }));
    return this.within(30_000, `diagnostics of ${uri} v${version}`, p).then((x) => x.diagnostics);
  }

  request<R>(method: string, params: unknown): Promise<R> {
    return this.within(30_000, method, this.connection.sendRequest(method, params) as Promise<R>);
  }

  hover(uri: string, position: Position) {
    return this.request<{ contents: { kind: string; value: string }; range?: Range } | null>('textDocument/hover', { textDocument: { uri }, position });
  }

  async shutdown(): Promise<number | null> {
    if (!LspClient.live.has(this)) return this.child.exitCode; // already killed
    try {
      await this.within(5000, 'shutdown', this.connection.sendRequest('shutdown'));
      await this.connection.sendNotification('exit');
      return await this.within(5000, 'exit', this.exited);
    } finally {
      this.kill();
    }
  }

  /**
   * The CPU time (user + system, 10 ms resolution) the server process has used, from
   * /proc: the benchmark's figure per edit that other processes on the machine do not change.
   */
  serverCpuMs(): number {
    return procCpuMs(this.child.pid!);
  }

  kill(): void {
    LspClient.live.delete(this);
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    this.connection.dispose();
  }
}

/**
 * Cursor positions marked inline, as yaml-language-server's tests do:
 * `open data.db as f2 reply <|flag|>keep_cache` → the text without markers and
 * `{ flag: {line, character} }`.
 */
export function marked(source: string): { text: string; at: Record<string, Position> } {
  const at: Record<string, Position> = {};
  const lines = source.split('\n').map((line, n) => {
    let out = '';
    let rest = line;
    for (let m = /<\|([a-z0-9_-]*)\|>/i.exec(rest); m; m = /<\|([a-z0-9_-]*)\|>/i.exec(rest)) {
      out += rest.slice(0, m.index);
      at[m[1] || 'cursor'] = { line: n, character: out.length };
      rest = rest.slice(m.index + m[0].length);
    }
    return out + rest;
  });
  return { text: lines.join('\n'), at };
}

/** A scenario from an indented template literal: leading blank line and common indentation removed. */
export function scenario(strings: TemplateStringsArray, ...values: unknown[]): string {
  const raw = String.raw({ raw: strings }, ...values).replace(/^\n/, '');
  const indent = Math.min(...raw.split('\n').filter((l) => l.trim()).map((l) => /^ */.exec(l)![0].length));
  return raw.split('\n').map((l) => l.slice(indent)).join('\n').replace(/\n\s*$/, '\n');
}

let counter = 0;
export function freshUri(name = 'test'): string {
  return `file:///tmp/fuselens-lsp-test/${name}-${process.pid}-${++counter}.fusesim`;
}

/**
 * One server for a test file: started before its tests and shut down after them;
 * whatever a failing test left running is killed, so the test process can end.
 */
export function useSharedClient(set: (client: LspClient) => void): void {
  let client: LspClient | undefined;
  after(() => LspClient.killAll());
  before(async () => {
    client = await LspClient.start();
    set(client);
  });
  after(async () => {
    await client?.shutdown();
  });
}

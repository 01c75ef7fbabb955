// The FUSE Lens language server: documents in, diagnostics (push), hovers,
// completions, quick fixes, navigation and semantic tokens out. Transport
// agnostic: main.ts gives it an IPC or stdio connection, `fuselens lsp
// --stdio` a stdio one.
//
// Every document is parsed and simulated once per version (analysis.ts); a
// change schedules a re-check on the next turn of the event loop, so a burst of
// queued changes is checked once. There is no timed debounce: a check of a
// 1,000-line scenario takes a few milliseconds (bench/lsp.bench.ts).

import {
  CodeActionKind,
  TextDocuments,
  TextDocumentSyncKind,
  DidChangeConfigurationNotification,
  MessageType,
  ShowMessageNotification,
  type Connection,
  type InitializeResult,
} from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { version } from '../../package.json';
import { isModelled, NEWEST_KERNEL, OLDEST_KERNEL, parseKernelVersion } from '../model/kernel-version';
import { analyse, type Analysis } from './analysis';
import { codeActions } from './code-actions';
import { complete } from './completion';
import { lspDiagnostics } from './diagnostics';
import { hover } from './hover';
import { MAX_CHECK_ON_TYPE_LINES, withinAnalysedSize } from './input-limits';
import { MAX_LEXED_LINE } from '../scenario/lexer';
import { definition, documentSymbols, highlights, prepareRename, references, rename } from './navigation';
import { registerCustomRequests } from './custom';
import { RuleDocs } from './rule-docs';
import { SEMANTIC_TOKENS_LEGEND, semanticTokens } from './semantic-tokens';
import { DEFAULT_SETTINGS, readSettings, type Settings } from './settings';

export interface LanguageServer {
  documents: TextDocuments<TextDocument>;
  /** The analysis of an open document's current version (computed if needed). */
  analysisOf(uri: string): Analysis | undefined;
}

interface Cached {
  version: number;
  kernel: string | undefined;
  analysis: Analysis;
}

export function startLanguageServer(connection: Connection): LanguageServer {
  const documents = new TextDocuments(TextDocument);
  const ruleDocs = new RuleDocs();
  const cache = new Map<string, Cached>();
  const settingsByUri = new Map<string, Settings>();
  const settingsPending = new Map<string, Promise<Settings>>();
  let globalSettings: Settings = DEFAULT_SETTINGS;
  let canPullConfiguration = false;
  let canRegisterConfiguration = false;

  const log = (message: string) => connection.console.log(message);
  const logError = (what: string, err: unknown) =>
    connection.console.error(`${what}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);

  /** Runs a request handler; a bug in it is logged and answered with `fallback`, never a crash. */
  function guarded<P, R>(what: string, fallback: R, handler: (params: P) => R): (params: P) => R {
    return (params: P) => {
      try {
        return handler(params);
      } catch (err) {
        // Errors meant for the client (ResponseError) go back as they are.
        if (err && typeof err === 'object' && 'code' in err && typeof (err as { code: unknown }).code === 'number') throw err;
        logError(what, err);
        return fallback;
      }
    };
  }

  // A default kernel the model does not cover is reported once per value (the simulator then uses the newest).
  const reportedKernels = new Set<string>();
  function checkKernelSetting(settings: Settings): Settings {
    const k = settings.kernel;
    if (k && !reportedKernels.has(k)) {
      const v = parseKernelVersion(k);
      if (!v || !isModelled(v)) {
        reportedKernels.add(k);
        // A notification (window/showMessage): showWarningMessage would be a request that waits for the user.
        void connection.sendNotification(ShowMessageNotification.type, {
          type: MessageType.Warning,
          message: `FUSE Lens: the default kernel ${k} is not one the simulator models (${OLDEST_KERNEL} to ${NEWEST_KERNEL}); ` +
            `scenarios without a \`kernel\` line are checked with ${NEWEST_KERNEL}.`,
        });
      }
    }
    return settings;
  }

  function settingsNow(uri: string): Settings {
    return settingsByUri.get(uri) ?? globalSettings;
  }

  async function settingsFor(uri: string): Promise<Settings> {
    const known = settingsByUri.get(uri);
    if (known) return known;
    if (!canPullConfiguration) return globalSettings;
    let pending = settingsPending.get(uri);
    if (!pending) {
      pending = connection.workspace.getConfiguration({ scopeUri: uri, section: 'fuselens' }).then(
        (raw: unknown) => checkKernelSetting(readSettings(raw, globalSettings)),
        (err: unknown) => {
          logError('workspace/configuration', err);
          return globalSettings;
        },
      ).then((s) => {
        if (settingsPending.get(uri) === pending) {
          settingsByUri.set(uri, s);
          settingsPending.delete(uri);
        }
        return s;
      });
      settingsPending.set(uri, pending);
    }
    return pending;
  }

  function analysisFor(document: TextDocument, settings: Settings, allowStale = false): Analysis {
    const cached = cache.get(document.uri);
    if (cached && cached.kernel === settings.kernel) {
      if (cached.version === document.version) return cached.analysis;
      // Hovers and completions in a very long document use its last check rather than wait for a new one.
      if (allowStale && document.lineCount > MAX_CHECK_ON_TYPE_LINES && cached.analysis.analysed) return cached.analysis;
    }
    const analysis = analyse(document.getText(), {
      defaultKernel: settings.kernel,
      previous: cached?.analysis,
      onEngineError: (err) => logError(`checking ${document.uri}`, err),
    });
    cache.set(document.uri, { version: document.version, kernel: settings.kernel, analysis });
    return analysis;
  }

  function analysisOf(uri: string): Analysis | undefined {
    const document = documents.get(uri);
    return document ? analysisFor(document, settingsNow(uri)) : undefined;
  }

  // ── Diagnostics ────────────────────────────────────────────────────────────

  const pending = new Map<string, 'change' | 'save' | 'open' | 'settings'>();
  let scheduled = false;

  function schedule(uri: string, reason: 'change' | 'save' | 'open' | 'settings'): void {
    // A save or open must check even if a change was queued with checking on type off.
    if (pending.get(uri) !== 'save' && pending.get(uri) !== 'open') pending.set(uri, reason);
    if (!scheduled) {
      scheduled = true;
      setImmediate(() => void flush());
    }
  }

  async function flush(): Promise<void> {
    scheduled = false;
    const work = [...pending];
    pending.clear();
    for (const [uri, reason] of work) {
      try {
        await validate(uri, reason);
      } catch (err) {
        logError(`checking ${uri}`, err);
      }
    }
  }

  async function validate(uri: string, reason: 'change' | 'save' | 'open' | 'settings'): Promise<void> {
    if (!documents.get(uri)) return;
    const settings = await settingsFor(uri);
    // The document may have changed (or closed) while the settings were fetched: check what it is now.
    const document = documents.get(uri);
    if (!document) return;
    if (reason === 'change' && !settings.simulateOnType) return;
    // A very long document is checked on open and save only, so typing stays fluid
    // (one too large to simulate is refused at once, so it can be screened on every change).
    if (reason === 'change' && document.lineCount > MAX_CHECK_ON_TYPE_LINES && withinAnalysedSize(document.getText())) return;
    const analysis = analysisFor(document, settings);
    await connection.sendDiagnostics({ uri, version: document.version, diagnostics: lspDiagnostics(analysis, ruleDocs) });
  }

  documents.onDidOpen((e) => schedule(e.document.uri, 'open'));
  documents.onDidChangeContent((e) => {
    // onDidChangeContent also fires for an open; the open already scheduled a check.
    if (!pending.has(e.document.uri)) schedule(e.document.uri, 'change');
  });
  documents.onDidSave((e) => schedule(e.document.uri, 'save'));
  documents.onDidClose((e) => {
    cache.delete(e.document.uri);
    settingsByUri.delete(e.document.uri);
    pending.delete(e.document.uri);
    void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
  });

  // ── Lifecycle and settings ─────────────────────────────────────────────────

  connection.onInitialize((params): InitializeResult => {
    const caps = params.capabilities;
    canPullConfiguration = caps.workspace?.configuration === true;
    canRegisterConfiguration = caps.workspace?.didChangeConfiguration?.dynamicRegistration === true;
    globalSettings = checkKernelSetting(readSettings(params.initializationOptions, DEFAULT_SETTINGS));
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental, save: { includeText: false } },
        hoverProvider: true,
        completionProvider: { triggerCharacters: [' ', '=', ':'] },
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
        definitionProvider: true,
        referencesProvider: true,
        documentHighlightProvider: true,
        renameProvider: { prepareProvider: true },
        documentSymbolProvider: { label: 'FUSE scenario' },
        semanticTokensProvider: { legend: SEMANTIC_TOKENS_LEGEND, full: true, range: true },
      },
      serverInfo: { name: 'fuselens', version },
    };
  });

  connection.onInitialized(() => {
    if (canRegisterConfiguration) void connection.client.register(DidChangeConfigurationNotification.type, undefined);
    log(`FUSE Lens language server ready (rule pages: ${ruleDocs.rulesDir ?? 'not found'})`);
  });

  connection.onDidChangeConfiguration((change) => {
    const settings = change.settings as Record<string, unknown> | null | undefined;
    if (settings && typeof settings === 'object' && 'fuselens' in settings) {
      globalSettings = checkKernelSetting(readSettings(settings.fuselens, globalSettings));
    }
    settingsByUri.clear();
    settingsPending.clear();
    for (const d of documents.all()) schedule(d.uri, 'settings');
  });

  // ── Features ───────────────────────────────────────────────────────────────

  const withDoc = <T>(uri: string, fallback: T, f: (a: Analysis, d: TextDocument) => T, allowStale = true): T => {
    const document = documents.get(uri);
    if (!document) return fallback;
    return f(analysisFor(document, settingsNow(uri), allowStale), document);
  };

  const lineText = (document: TextDocument, line: number): string =>
    document.getText({ start: { line, character: 0 }, end: { line, character: MAX_LEXED_LINE } }).replace(/\r?\n$|\r$/, '');

  connection.onHover(guarded('hover', null, (p) =>
    withDoc(p.textDocument.uri, null, (a) => hover(a, p.position) ?? null)));

  connection.onCompletion(guarded('completion', [], (p) =>
    withDoc(p.textDocument.uri, [], (a, d) => (a.analysed ? complete(a, lineText(d, p.position.line), p.position) : []))));

  connection.onCodeAction(guarded('codeAction', [], (p) =>
    withDoc(p.textDocument.uri, [], (a, d) => codeActions(a, d, p.context.diagnostics, p.range, p.context.only), false)));

  connection.onDefinition(guarded('definition', null, (p) =>
    withDoc(p.textDocument.uri, null, (a) => definition(a, p.textDocument.uri, p.position) ?? null)));

  connection.onReferences(guarded('references', [], (p) =>
    withDoc(p.textDocument.uri, [], (a) => references(a, p.textDocument.uri, p.position, p.context.includeDeclaration))));

  connection.onDocumentHighlight(guarded('documentHighlight', [], (p) =>
    withDoc(p.textDocument.uri, [], (a) => highlights(a, p.position))));

  connection.onPrepareRename(guarded('prepareRename', null, (p) =>
    withDoc(p.textDocument.uri, null, (a) => prepareRename(a, p.position) ?? null)));

  connection.onRenameRequest(guarded('rename', null, (p) =>
    withDoc(p.textDocument.uri, null, (a) => rename(a, p.textDocument.uri, p.position, p.newName) ?? null, false)));

  connection.onDocumentSymbol(guarded('documentSymbol', [], (p) =>
    withDoc(p.textDocument.uri, [], (a) => documentSymbols(a))));

  connection.languages.semanticTokens.on(guarded('semanticTokens', { data: [] }, (p) =>
    withDoc(p.textDocument.uri, { data: [] }, (a) => semanticTokens(a))));

  connection.languages.semanticTokens.onRange(guarded('semanticTokens/range', { data: [] }, (p) =>
    withDoc(p.textDocument.uri, { data: [] }, (a) => semanticTokens(a, p.range))));

  // fuselens/* requests (protocol/messages.ts) for the timeline, mounts and traces.
  try {
    registerCustomRequests(connection, documents);
  } catch (err) {
    logError('registering the fuselens/* requests', err);
  }

  documents.listen(connection);
  return { documents, analysisOf };
}

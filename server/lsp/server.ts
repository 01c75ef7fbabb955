// The FUSE Lens language server: documents in, diagnostics (push), hovers,
// completions, quick fixes, navigation and semantic tokens out, and the
// extension's fuselens/* requests. Transport agnostic: main.ts gives it an IPC
// or stdio connection, `fuselens lsp --stdio` a stdio one.
//
// Each part registers its handlers on the connection with the one context
// (context.ts): settings, the documents' analyses (each parsed and simulated
// once per version, analysis-cache.ts), the rules' pages and the log.

import {
  CodeActionKind,
  TextDocumentSyncKind,
  DidChangeConfigurationNotification,
  type Connection,
  type InitializeResult,
} from 'vscode-languageserver';
import { version } from '../../package.json';
import { createContext, type ServerContext } from './context';
import { registerCustomRequests } from './custom';
import { registerFeatures } from './features';
import { registerDiagnostics } from './publish-diagnostics';
import { SEMANTIC_TOKENS_LEGEND } from './semantic-tokens';

export function startLanguageServer(connection: Connection): void {
  const ctx = createContext(connection);
  registerLifecycle(ctx);
  registerDiagnostics(ctx);
  registerFeatures(ctx);
  try {
    registerCustomRequests(ctx);
  } catch (err) {
    ctx.log.error('registering the fuselens/* requests', err);
  }
  ctx.documents.listen(connection);
}

/** initialize (capabilities, the client's settings), initialized, and settings changes. */
function registerLifecycle(ctx: ServerContext): void {
  const { connection, settings, ruleDocs, log } = ctx;
  let canRegisterConfiguration = false;

  connection.onInitialize((params): InitializeResult => {
    const caps = params.capabilities;
    canRegisterConfiguration = caps.workspace?.didChangeConfiguration?.dynamicRegistration === true;
    settings.initialize(params.initializationOptions, caps.workspace?.configuration === true);
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
    log.info(`FUSE Lens language server ready (rule pages: ${ruleDocs.rulesDir ?? 'not found'})`);
  });

  connection.onDidChangeConfiguration((change) => settings.changed(change.settings));
}

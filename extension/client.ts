// Starts the language server (dist/server.js) over IPC, as vscode-eslint does,
// with a debug variant under --inspect, and keeps a status bar item in step
// with the client's state. Server failures become messages with "Show Output".

import * as vscode from 'vscode';
import {
  CloseAction,
  ErrorAction,
  LanguageClient,
  State,
  TransportKind,
  type LanguageClientOptions,
  type ServerOptions,
} from 'vscode-languageclient/node';
import type { NotificationSpec, RequestSpec } from '../protocol/messages';
import { DEFAULT_SETTINGS, SETTINGS_SECTION, type Settings } from '../protocol/settings';
import { ruleCommandUri, ruleLinksRendered } from './docPages';

export const LANGUAGE_ID = 'fusesim';

export class ServerConnection implements vscode.Disposable {
  readonly client: LanguageClient;
  private readonly status: vscode.StatusBarItem;
  private readonly disposables: vscode.Disposable[] = [];
  private started: Promise<void> | undefined;

  constructor(
    context: vscode.ExtensionContext,
    private readonly log: vscode.LogOutputChannel,
  ) {
    const module = context.asAbsolutePath('dist/server.js');
    const serverOptions: ServerOptions = {
      run: { module, transport: TransportKind.ipc },
      debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6019'] } },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [
        { scheme: 'file', language: LANGUAGE_ID },
        { scheme: 'untitled', language: LANGUAGE_ID },
      ],
      // The server's settings travel in one shape (protocol/settings.ts): as initializationOptions,
      // and as the answer to workspace/configuration, which the server asks again whenever a
      // setting changes (it registers for didChangeConfiguration, so no section is pushed).
      initializationOptions: settingsForServer(undefined),
      middleware: {
        // A rule's page opens rendered (extension/docPages.ts), not as Markdown source.
        handleDiagnostics: (uri, diagnostics, next) => {
          for (const d of diagnostics) {
            if (typeof d.code !== 'object' || !d.code) continue;
            const target = ruleCommandUri(context.extensionUri, d.code.target);
            if (target) d.code = { value: d.code.value, target };
          }
          next(uri, diagnostics);
        },
        provideHover: async (document, position, token, next) => {
          const hover = await next(document, position, token);
          if (!hover) return hover;
          const contents = hover.contents.map((c) => (c instanceof vscode.MarkdownString ? ruleLinksRendered(context.extensionUri, c) : c));
          return new vscode.Hover(contents, hover.range);
        },
        workspace: {
          configuration: async (params, token, next) => {
            const answers = await next(params, token);
            if (!Array.isArray(answers)) return answers;
            return params.items.map((item, i) =>
              item.section === SETTINGS_SECTION ? settingsForServer(item.scopeUri === undefined ? undefined : vscode.Uri.parse(item.scopeUri)) : answers[i]);
          },
        },
      },
      outputChannel: log,
      errorHandler: {
        error: (error, _message, count) => {
          log.error(`connection error (${count ?? 0}): ${error.message}`);
          return { action: (count ?? 0) <= 3 ? ErrorAction.Continue : ErrorAction.Shutdown, handled: true };
        },
        closed: () => {
          this.showFailure('The FUSE Lens language server stopped unexpectedly.');
          return { action: CloseAction.DoNotRestart, handled: true };
        },
      },
    };
    this.client = new LanguageClient('fuselens', 'FUSE Lens', serverOptions, clientOptions);

    this.status = vscode.window.createStatusBarItem('fuselens.status', vscode.StatusBarAlignment.Right, 100);
    this.status.name = 'FUSE Lens';
    this.status.command = 'fuselens.showOutput';
    this.setStatus(State.Stopped);
    this.disposables.push(this.status, this.client.onDidChangeState((e) => this.setStatus(e.newState)));
  }

  /** Starts the server once; later calls wait for the same start. */
  start(): Promise<void> {
    this.started ??= this.client.start().then(
      () => this.log.info('language server running'),
      (err: unknown) => {
        this.started = undefined; // the next request tries again
        this.showFailure(`The FUSE Lens language server failed to start: ${errorText(err)}`);
        throw err;
      },
    );
    return this.started;
  }

  async request<P, R>(spec: RequestSpec<P, R>, params: P, token?: vscode.CancellationToken): Promise<R> {
    await this.start();
    // Never an undefined token: the connection would send [params, null] by position, and the server
    // takes every fuselens/* request's params by name (server/lsp/valid-params.ts).
    return (await (token ? this.client.sendRequest(spec.method, params, token) : this.client.sendRequest(spec.method, params))) as R;
  }

  onNotification<P>(spec: NotificationSpec<P>, handler: (params: P) => void): vscode.Disposable {
    return this.client.onNotification(spec.method, handler);
  }

  /** Shows a failure the user can act on (open the log), and logs it. */
  showFailure(message: string): void {
    this.log.error(message);
    void vscode.window.showErrorMessage(message, 'Show Output').then((choice) => {
      if (choice === 'Show Output') this.log.show();
    });
  }

  private setStatus(state: State): void {
    const s = this.status;
    switch (state) {
      case State.Starting:
        s.text = '$(sync~spin) FUSE Lens';
        s.tooltip = 'FUSE Lens: the language server is starting';
        s.backgroundColor = undefined;
        break;
      case State.Running:
        s.text = '$(check) FUSE Lens';
        s.tooltip = 'FUSE Lens: the language server is running — click for its log';
        s.backgroundColor = undefined;
        break;
      case State.Stopped:
        s.text = '$(circle-slash) FUSE Lens';
        s.tooltip = 'FUSE Lens: the language server is not running — click for its log';
        s.backgroundColor = this.started ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
        break;
    }
    s.show();
  }

  async dispose(): Promise<void> {
    for (const d of this.disposables) d.dispose();
    if (this.client.isRunning()) await this.client.stop();
  }
}

/** The server's settings for a document (or the window's, without `scope`), from the keys package.json contributes. */
function settingsForServer(scope: vscode.Uri | undefined): Settings {
  const config = vscode.workspace.getConfiguration(SETTINGS_SECTION, scope);
  return {
    kernel: { defaultVersion: config.get<string>('kernel.defaultVersion', DEFAULT_SETTINGS.kernel.defaultVersion) },
    simulateOnType: config.get<boolean>('simulateOnType', DEFAULT_SETTINGS.simulateOnType),
  };
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

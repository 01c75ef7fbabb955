// Where the server gets the settings a document is checked with; every
// feature and custom request asks here (through the ServerContext), so
// diagnostics, the timeline's fuselens/simulate and "Check All" agree. The
// shape and the reader are shared with the client (protocol/settings.ts).
//
// Per document through workspace/configuration (section `fuselens`) when the
// client offers it, over the initializationOptions and the last
// didChangeConfiguration, which are all that other clients may send
// (docs/language-server.md).

import { MessageType, ShowMessageNotification, type Connection } from 'vscode-languageserver';
import { DEFAULT_SETTINGS, SETTINGS_SECTION, readSettings, type Settings } from '../../protocol/settings';
import { isModelled, NEWEST_KERNEL, OLDEST_KERNEL, parseKernelVersion } from '../model/kernel-version';
import type { ServerLog } from './server-log';

export class SettingsStore {
  private global: Settings = DEFAULT_SETTINGS;
  private canPull = false;
  private readonly byUri = new Map<string, Settings>();
  private readonly pending = new Map<string, Promise<Settings>>();
  /** A default kernel the model does not cover is reported once per value. */
  private readonly reportedKernels = new Set<string>();
  private readonly listeners: Array<() => void> = [];

  constructor(
    private readonly connection: Connection,
    private readonly log: ServerLog,
  ) {}

  /** `initialize`: whether the client answers workspace/configuration, and its initializationOptions. */
  initialize(initializationOptions: unknown, canPull: boolean): void {
    this.canPull = canPull;
    this.global = this.checked(readSettings(initializationOptions, DEFAULT_SETTINGS));
  }

  /** workspace/didChangeConfiguration: the settings it carries (if any) become the base, and every document's are asked again. */
  changed(pushed: unknown): void {
    if (pushed && typeof pushed === 'object' && SETTINGS_SECTION in pushed) {
      this.global = this.checked(readSettings(pushed, this.global));
    }
    this.byUri.clear();
    this.pending.clear();
    for (const listener of this.listeners) listener();
  }

  /** Calls `listener` after the settings changed. */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** The settings of `uri` known now, without asking the client: for requests answered at once (hover, completion). */
  now(uri: string): Settings {
    return this.byUri.get(uri) ?? this.global;
  }

  /** The settings of `uri`, asked of the client once (until the next change or `forget`). */
  async for(uri: string): Promise<Settings> {
    const known = this.byUri.get(uri);
    if (known) return known;
    if (!this.canPull) return this.global;
    let pending = this.pending.get(uri);
    if (!pending) {
      pending = this.connection.workspace.getConfiguration({ scopeUri: uri, section: SETTINGS_SECTION }).then(
        (raw: unknown) => this.checked(readSettings(raw, this.global)),
        (err: unknown) => {
          this.log.error('workspace/configuration', err);
          return this.global;
        },
      ).then((s) => {
        // A change while the client was asked makes this answer stale: it is not kept.
        if (this.pending.get(uri) === pending) {
          this.byUri.set(uri, s);
          this.pending.delete(uri);
        }
        return s;
      });
      this.pending.set(uri, pending);
    }
    return pending;
  }

  forget(uri: string): void {
    this.byUri.delete(uri);
    this.pending.delete(uri);
  }

  /** Warns once about a default kernel the simulator does not model (scenarios without a `kernel` line then get the newest). */
  private checked(settings: Settings): Settings {
    const k = settings.kernel.defaultVersion;
    if (k !== '' && !this.reportedKernels.has(k)) {
      const v = parseKernelVersion(k);
      if (!v || !isModelled(v)) {
        this.reportedKernels.add(k);
        // A notification (window/showMessage): showWarningMessage would be a request that waits for the user.
        void this.connection.sendNotification(ShowMessageNotification.type, {
          type: MessageType.Warning,
          message: `FUSE Lens: the default kernel ${k} is not one the simulator models (${OLDEST_KERNEL} to ${NEWEST_KERNEL}); ` +
            `scenarios without a \`kernel\` line are checked with ${NEWEST_KERNEL}.`,
        });
      }
    }
    return settings;
  }
}

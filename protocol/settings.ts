// The language server's settings, shared by the client that sends them and
// the server that reads them (as vscode-eslint's shared settings module).
//
// The canonical shape is the section `fuselens` of VS Code's settings as
// package.json contributes it (`fuselens.kernel.defaultVersion`,
// `fuselens.simulateOnType`): what workspace/configuration answers and what
// the VS Code client sends as initializationOptions. Other editors may send
// shorter shapes; readSettings accepts them (docs/language-server.md).

/** The section of the client's configuration the server asks for. */
export const SETTINGS_SECTION = 'fuselens';

export interface Settings {
  kernel: {
    /** Kernel rules for scenarios without a `kernel` line (`6.18`); '' means the newest modelled. A `kernel` line wins. */
    defaultVersion: string;
  };
  /** Re-check on every change; when false, on open and save only. */
  simulateOnType: boolean;
}

export const DEFAULT_SETTINGS: Settings = { kernel: { defaultVersion: '' }, simulateOnType: true };

/**
 * A kernel version as the setting takes it: `major.minor`, maybe with a patch level the rules
 * ignore. What server/model's parseKernelVersion reads, which protocol/ cannot import;
 * test/editor/settings.test.ts holds the two together.
 */
const KERNEL_VERSION = /^(\d+\.\d+)(?:\.\d+)?$/;

/**
 * The settings in what a client sent, over `base` for what it left out:
 * - the canonical shape, `{ kernel: { defaultVersion: "6.9" }, simulateOnType: true }`;
 * - `{ kernel: "6.9" }`, the short form Neovim and Emacs users write as initializationOptions;
 * - either of those wrapped as `{ fuselens: {...} }`, as Helix sends its whole `config`.
 * A kernel of '' or `newest` means the newest modelled; one that is not a version is ignored.
 */
export function readSettings(raw: unknown, base: Settings = DEFAULT_SETTINGS): Settings {
  if (!isRecord(raw)) return base;
  const r = isRecord(raw[SETTINGS_SECTION]) ? raw[SETTINGS_SECTION] : raw;
  const k = r.kernel;
  const text = typeof k === 'string' ? k : isRecord(k) ? k.defaultVersion : undefined;
  let defaultVersion = base.kernel.defaultVersion;
  if (typeof text === 'string') {
    const t = text.trim();
    if (t === '' || t === 'newest') defaultVersion = '';
    else if (KERNEL_VERSION.test(t)) defaultVersion = t;
  }
  const simulateOnType = typeof r.simulateOnType === 'boolean' ? r.simulateOnType : base.simulateOnType;
  return { kernel: { defaultVersion }, simulateOnType };
}

/** The kernel a scenario without a `kernel` line is checked with; undefined: the newest modelled. */
export function defaultKernel(settings: Settings): string | undefined {
  return settings.kernel.defaultVersion === '' ? undefined : settings.kernel.defaultVersion;
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

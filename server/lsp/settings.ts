// The server's settings: the default kernel version and whether to simulate
// on every change. Read per document through workspace/configuration
// (section `fuselens`) when the client offers it, else from the
// initializationOptions and didChangeConfiguration, so editors other than
// VS Code can set them too (docs/language-server.md).

import { parseKernelVersion } from '../model/kernel-version';

export interface Settings {
  /** Default kernel version (`6.18`); undefined: the newest modelled. A `kernel` line wins. */
  kernel: string | undefined;
  /** Re-check on every change; when false, on open and save only. */
  simulateOnType: boolean;
}

export const DEFAULT_SETTINGS: Settings = { kernel: undefined, simulateOnType: true };

/**
 * Settings from what a client sent: `{ kernel: "6.9" }` or
 * `{ kernel: { defaultVersion: "6.9" } }` (VS Code's dotted setting
 * `fuselens.kernel.defaultVersion`), and `simulateOnType`.
 */
export function readSettings(raw: unknown, base: Settings = DEFAULT_SETTINGS): Settings {
  if (!raw || typeof raw !== 'object') return base;
  let r = raw as Record<string, unknown>;
  // Helix and others send their whole `config` ({ fuselens: {...} }) as initializationOptions.
  if (r.fuselens && typeof r.fuselens === 'object') r = r.fuselens as Record<string, unknown>;
  let kernel = base.kernel;
  const k = r.kernel;
  const text = typeof k === 'string' ? k : k && typeof k === 'object' ? (k as Record<string, unknown>).defaultVersion : undefined;
  if (typeof text === 'string') kernel = text.trim() === '' || text === 'newest' ? undefined : parseKernelVersion(text.trim()) ? text.trim() : base.kernel;
  const simulateOnType = typeof r.simulateOnType === 'boolean' ? r.simulateOnType : base.simulateOnType;
  return { kernel, simulateOnType };
}

// fuselens/simulate, fuselens/checkFile, fuselens/runScenario.

import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Connection, TextDocuments } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { Requests, type CheckFileResult, type FileDiagnostic, type RunScenarioResult, type SimulateResult } from '../../../protocol/messages';
import { runScenario, LabUnavailableError } from '../../lab';
import { analyse } from '../analysis';
import { lspDiagnostics } from '../diagnostics';
import { RuleDocs } from '../rule-docs';
import { DEFAULT_SETTINGS, readSettings, type Settings } from '../settings';
import { failure, handle } from './handle';

/** Scenario files larger than this are not read from disk for "Check All" (the editor's limits apply to open ones). */
const MAX_FILE_BYTES = 64 * 1024 * 1024;

export function registerScenarioRequests(connection: Connection, documents: TextDocuments<TextDocument>): void {
  const ruleDocs = new RuleDocs();

  async function settingsFor(uri: string): Promise<Settings> {
    try {
      return readSettings(await connection.workspace.getConfiguration({ scopeUri: uri, section: 'fuselens' }));
    } catch {
      return DEFAULT_SETTINGS; // a client without workspace/configuration
    }
  }

  async function textOf(uri: string): Promise<{ text: string; version: number | null }> {
    const open = documents.get(uri);
    if (open) return { text: open.getText(), version: open.version };
    const path = fileURLToPath(uri);
    const buf = await readFile(path);
    if (buf.length > MAX_FILE_BYTES) throw new Error(`${path} is ${buf.length} bytes, more than a scenario can be`);
    return { text: buf.toString('utf8'), version: null };
  }

  handle(connection, Requests.simulate, async (params: { uri: string }): Promise<SimulateResult> => {
    let source: { text: string; version: number | null };
    try {
      source = await textOf(params.uri);
    } catch {
      return null;
    }
    const settings = await settingsFor(params.uri);
    const analysis = analyse(source.text, { defaultKernel: settings.kernel });
    if (!analysis.result) return null;
    return { ...analysis.result, uri: params.uri, version: source.version };
  });

  handle(connection, Requests.checkFile, async (params: { uri: string }): Promise<CheckFileResult> => {
    let source: { text: string; version: number | null };
    try {
      source = await textOf(params.uri);
    } catch (err) {
      return { uri: params.uri, diagnostics: [], error: err instanceof Error ? err.message : String(err) };
    }
    const settings = await settingsFor(params.uri);
    const analysis = analyse(source.text, { defaultKernel: settings.kernel });
    const diagnostics = lspDiagnostics(analysis, ruleDocs).map(
      (d): FileDiagnostic => ({
        range: d.range,
        severity: (d.severity ?? 1) as FileDiagnostic['severity'],
        code: String(d.code ?? ''),
        message: typeof d.message === 'string' ? d.message : d.message.value,
        source: d.source ?? 'fuselens',
        ...(d.codeDescription && { codeDescription: { href: d.codeDescription.href } }),
      }),
    );
    return { uri: params.uri, diagnostics };
  });

  handle(connection, Requests.runScenario, async (params: { uri: string }): Promise<RunScenarioResult> => {
    try {
      const { text } = await textOf(params.uri);
      const result = await runScenario(text);
      return { ok: true, report: { ...result, uri: params.uri } };
    } catch (err) {
      if (err instanceof LabUnavailableError) return { ok: false, errno: 'EPERM', message: err.message };
      connection.console.error(`run ${params.uri}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      return failure(err);
    }
  });
}

// fuselens/simulate, fuselens/checkFile, fuselens/runScenario. An open
// document is answered from the analysis its diagnostics came from; a file on
// disk is analyzed with the settings the client gives for it, so the timeline,
// "Check All" and the Problems view agree on the default kernel.

import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import {
  Requests, type CheckFileResult, type DocumentParams, type FileDiagnostic, type RunScenarioResult, type SimulateResult,
} from '../../../protocol/messages';
import { runScenario, LabUnavailableError } from '../../lab';
import type { Analysis } from '../analysis';
import type { ServerContext } from '../context';
import { lspDiagnostics } from '../diagnostics';
import { failure, handle } from './handle';

/** Scenario files larger than this are not read from disk for "Check All" (the editor's limits apply to open ones). */
const MAX_FILE_BYTES = 64 * 1024 * 1024;

export function registerScenarioRequests(ctx: ServerContext): void {
  const { connection, documents, settings, analyses, ruleDocs, log } = ctx;

  /** The text of `uri`: the open document's, else the file's. */
  async function textOf(uri: string): Promise<string> {
    return documents.get(uri)?.getText() ?? readScenarioFile(uri);
  }

  /** The analysis of `uri` under its settings: the open document's current one, or the file's. Rejects when the file cannot be read. */
  async function analysisOf(uri: string): Promise<{ analysis: Analysis; version: number | null }> {
    const s = await settings.for(uri);
    // Looked up after the settings came: the document may have been opened, changed or closed meanwhile.
    const open = documents.get(uri);
    if (open) return { analysis: analyses.of(open, s), version: open.version };
    return { analysis: analyses.ofText(uri, await readScenarioFile(uri), s), version: null };
  }

  handle(connection, Requests.simulate, async (params: DocumentParams): Promise<SimulateResult> => {
    let analyzed: { analysis: Analysis; version: number | null };
    try {
      analyzed = await analysisOf(params.uri);
    } catch {
      return null;
    }
    const { analysis, version } = analyzed;
    if (!analysis.result) return null;
    return { ...analysis.result, uri: params.uri, version };
  });

  handle(connection, Requests.checkFile, async (params: DocumentParams): Promise<CheckFileResult> => {
    let analysis: Analysis;
    try {
      ({ analysis } = await analysisOf(params.uri));
    } catch (err) {
      return { uri: params.uri, diagnostics: [], error: err instanceof Error ? err.message : String(err) };
    }
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

  handle(connection, Requests.runScenario, async (params: DocumentParams): Promise<RunScenarioResult> => {
    try {
      const result = await runScenario(await textOf(params.uri));
      return { ok: true, report: { ...result, uri: params.uri } };
    } catch (err) {
      if (err instanceof LabUnavailableError) return { ok: false, errno: 'EPERM', message: err.message };
      log.error(`run ${params.uri}`, err);
      return failure(err);
    }
  });
}

async function readScenarioFile(uri: string): Promise<string> {
  const path = fileURLToPath(uri);
  const buf = await readFile(path);
  if (buf.length > MAX_FILE_BYTES) throw new Error(`${path} is ${buf.length} bytes, more than a scenario can be`);
  return buf.toString('utf8');
}

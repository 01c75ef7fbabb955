// Diagnostics are pushed (textDocument/publishDiagnostics, with the version
// checked). A change schedules a check on the next turn of the event loop, so
// a burst of queued changes is checked once; there is no timed debounce: a
// check of a 1,000-line scenario takes a few milliseconds, and an edit of a
// 100,000-line one resumes the simulation near it (bench/lsp.bench.ts). A long
// check runs in slices (analysis-cache.ts), and one overtaken by a newer
// version is given up for it.

import type { ServerContext } from './context';
import { lspDiagnostics } from './diagnostics';

type Reason = 'change' | 'save' | 'open' | 'settings';

export function registerDiagnostics(ctx: ServerContext): void {
  const { connection, documents, settings, analyses, ruleDocs, log } = ctx;
  const pending = new Map<string, Reason>();
  let scheduled = false;

  function schedule(uri: string, reason: Reason): void {
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
        log.error(`checking ${uri}`, err);
      }
    }
  }

  async function validate(uri: string, reason: Reason): Promise<void> {
    if (!documents.get(uri)) return;
    const s = await settings.for(uri);
    // The document may have changed (or closed) while the settings were fetched: check what it is now.
    const document = documents.get(uri);
    if (!document) return;
    if (reason === 'change' && !s.simulateOnType) return;
    const version = document.version;
    const analysis = await analyses.ofInSlices(document, s);
    if (!analysis) return;
    await connection.sendDiagnostics({ uri, version, diagnostics: lspDiagnostics(analysis, ruleDocs, uri) });
    // A first analysis publishes before it copies the states an edit resumes from: those are made now.
    void analyses.checkpointsInSlices(uri, version, analysis).catch((err: unknown) => log.error(`checking ${uri}`, err));
  }

  documents.onDidOpen((e) => schedule(e.document.uri, 'open'));
  documents.onDidChangeContent((e) => {
    // onDidChangeContent also fires for an open; the open already scheduled a check.
    if (!pending.has(e.document.uri)) schedule(e.document.uri, 'change');
  });
  documents.onDidSave((e) => schedule(e.document.uri, 'save'));
  documents.onDidClose((e) => {
    pending.delete(e.document.uri);
    void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
  });
  settings.onChange(() => {
    for (const d of documents.all()) schedule(d.uri, 'settings');
  });
}

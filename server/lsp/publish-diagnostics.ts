// Diagnostics are pushed (textDocument/publishDiagnostics, with the version
// checked). A change schedules a check on the next turn of the event loop, so
// a burst of queued changes is checked once; there is no timed debounce: a
// check of a 1,000-line scenario takes a few milliseconds (bench/lsp.bench.ts).

import type { ServerContext } from './context';
import { lspDiagnostics } from './diagnostics';
import { MAX_CHECK_ON_TYPE_LINES, withinAnalyzedSize } from './input-limits';

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
    // A very long document is checked on open and save only, so typing stays fluid
    // (one too large to simulate is refused at once, so it can be screened on every change).
    if (reason === 'change' && document.lineCount > MAX_CHECK_ON_TYPE_LINES && withinAnalyzedSize(document.getText())) return;
    const analysis = analyses.of(document, s);
    await connection.sendDiagnostics({ uri, version: document.version, diagnostics: lspDiagnostics(analysis, ruleDocs, uri) });
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

// The language features answered at once from a document's analysis: hover,
// completion, quick fixes, navigation, outline and semantic tokens. Each
// handler is guarded: a bug in one is logged and answered with an empty
// result, and the server goes on.

import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { Analysis } from './analysis';
import { codeActions } from './code-actions';
import { complete } from './completion';
import type { ServerContext } from './context';
import { hover } from './hover';
import { definition, documentSymbols, highlights, prepareRename, references, rename } from './navigation';
import { semanticTokens } from './semantic-tokens';
import { MAX_LEXED_LINE } from '../scenario/lexer';

export function registerFeatures(ctx: ServerContext): void {
  const { connection, documents, settings, analyses, log } = ctx;

  /** Runs a request handler; a bug in it is logged and answered with `fallback`, never a crash. */
  function guarded<P, R>(what: string, fallback: R, handler: (params: P) => R): (params: P) => R {
    return (params: P) => {
      try {
        return handler(params);
      } catch (err) {
        // Errors meant for the client (ResponseError) go back as they are.
        if (err && typeof err === 'object' && 'code' in err && typeof (err as { code: unknown }).code === 'number') throw err;
        log.error(what, err);
        return fallback;
      }
    };
  }

  /** `f` of the open document's analysis (its last one, for a very long document, unless `allowStale` is false). */
  const withDoc = <T>(uri: string, fallback: T, f: (a: Analysis, d: TextDocument) => T, allowStale = true): T => {
    const document = documents.get(uri);
    if (!document) return fallback;
    return f(analyses.of(document, settings.now(uri), allowStale), document);
  };

  const lineText = (document: TextDocument, line: number): string =>
    document.getText({ start: { line, character: 0 }, end: { line, character: MAX_LEXED_LINE } }).replace(/\r?\n$|\r$/, '');

  connection.onHover(guarded('hover', null, (p) =>
    withDoc(p.textDocument.uri, null, (a) => hover(a, p.position) ?? null)));

  connection.onCompletion(guarded('completion', [], (p) =>
    withDoc(p.textDocument.uri, [], (a, d) => (a.analyzed ? complete(a, lineText(d, p.position.line), p.position) : []))));

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
}

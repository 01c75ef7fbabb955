// The language features answered at once from a document's analysis: hover,
// completion, quick fixes, navigation, outline and semantic tokens. Each
// request's params are checked first (valid-params.ts: InvalidParams saying
// what is wrong), and each handler is guarded: a bug in one is logged and
// answered with an empty result, and the server goes on.

import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { Analysis } from './analysis';
import { codeActions } from './code-actions';
import { complete } from './completion';
import type { ServerContext } from './context';
import { hover } from './hover';
import { definition, documentSymbols, highlights, prepareRename, references, rename } from './navigation';
import { semanticTokens } from './semantic-tokens';
import { MAX_LEXED_LINE } from '../scenario/lexer';
import type {
  CodeActionParams, CompletionParams, DefinitionParams, DocumentHighlightParams, DocumentSymbolParams, PrepareRenameParams, ReferenceParams,
  RenameParams, SemanticTokensParams, SemanticTokensRangeParams, TextDocumentPositionParams,
} from 'vscode-languageserver';
import { arrayOf, boolean, object, onValidRequest, optional, range, string, textDocument, textDocumentPosition, type Shape } from './valid-params';

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

  /** A feature: its params checked (InvalidParams when they are wrong), then its guarded handler. */
  const feature = <P, R>(method: string, shape: Record<string, Shape>, fallback: R, handler: (params: P) => R) =>
    onValidRequest(connection, method, object(shape), guarded(method, fallback, handler));

  feature('textDocument/hover', textDocumentPosition, null, (p: TextDocumentPositionParams) =>
    withDoc(p.textDocument.uri, null, (a) => hover(a, p.position, ctx.ruleDocs) ?? null));

  feature('textDocument/completion', textDocumentPosition, [], (p: CompletionParams) =>
    withDoc(p.textDocument.uri, [], (a, d) => (a.analyzed ? complete(a, lineText(d, p.position.line), p.position) : [])));

  // Quick fixes read the diagnostics' ranges and data (never their text); `only` narrows the kinds.
  const context = object({ diagnostics: arrayOf(object({ range, message: string })), only: optional(arrayOf(string)) });
  feature('textDocument/codeAction', { textDocument, range, context }, [], (p: CodeActionParams) =>
    withDoc(p.textDocument.uri, [], (a, d) => codeActions(a, d, p.context.diagnostics, p.range, p.context.only), false));

  feature('textDocument/definition', textDocumentPosition, null, (p: DefinitionParams) =>
    withDoc(p.textDocument.uri, null, (a) => definition(a, p.textDocument.uri, p.position) ?? null));

  feature('textDocument/references', { ...textDocumentPosition, context: object({ includeDeclaration: boolean }) }, [], (p: ReferenceParams) =>
    withDoc(p.textDocument.uri, [], (a) => references(a, p.textDocument.uri, p.position, p.context.includeDeclaration)));

  feature('textDocument/documentHighlight', textDocumentPosition, [], (p: DocumentHighlightParams) =>
    withDoc(p.textDocument.uri, [], (a) => highlights(a, p.position)));

  feature('textDocument/prepareRename', textDocumentPosition, null, (p: PrepareRenameParams) =>
    withDoc(p.textDocument.uri, null, (a) => prepareRename(a, p.position) ?? null));

  feature('textDocument/rename', { ...textDocumentPosition, newName: string }, null, (p: RenameParams) =>
    withDoc(p.textDocument.uri, null, (a) => rename(a, p.textDocument.uri, p.position, p.newName) ?? null, false));

  feature('textDocument/documentSymbol', { textDocument }, [], (p: DocumentSymbolParams) =>
    withDoc(p.textDocument.uri, [], (a) => documentSymbols(a)));

  feature('textDocument/semanticTokens/full', { textDocument }, { data: [] }, (p: SemanticTokensParams) =>
    withDoc(p.textDocument.uri, { data: [] }, (a) => semanticTokens(a)));

  feature('textDocument/semanticTokens/range', { textDocument, range }, { data: [] }, (p: SemanticTokensRangeParams) =>
    withDoc(p.textDocument.uri, { data: [] }, (a) => semanticTokens(a, p.range)));
}

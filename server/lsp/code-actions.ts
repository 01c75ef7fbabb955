import type { CodeAction, Diagnostic, Range } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { Analysis } from './analysis';
export function codeActions(_a: Analysis, _d: TextDocument, _diags: Diagnostic[], _r: Range): CodeAction[] { return []; }

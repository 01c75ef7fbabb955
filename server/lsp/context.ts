// What every part of the language server works with, built once per
// connection by startLanguageServer and handed to each feature and each
// custom request handler: none of them keeps its own settings, analyses or
// rule pages, so they cannot disagree (a document's diagnostics and its
// fuselens/simulate answer come from one analysis under one setting).

import { TextDocuments, type Connection } from 'vscode-languageserver';
import { AnalysisCache } from './analysis-cache';
import { linesDocuments, type LinesDocument } from './document-lines';
import { RuleDocs } from './rule-docs';
import { connectionLog, type ServerLog } from './server-log';
import { SettingsStore } from './settings';

export interface ServerContext {
  readonly connection: Connection;
  /** The documents open in the editor, as it has them. */
  readonly documents: TextDocuments<LinesDocument>;
  readonly settings: SettingsStore;
  readonly analyses: AnalysisCache;
  /** Where the rules' pages are, for diagnostics' links. */
  readonly ruleDocs: RuleDocs;
  readonly log: ServerLog;
}

export function createContext(connection: Connection): ServerContext {
  const log = connectionLog(connection);
  const documents = new TextDocuments(linesDocuments);
  const settings = new SettingsStore(connection, log);
  const analyses = new AnalysisCache(log);
  documents.onDidClose((e) => {
    analyses.forget(e.document.uri);
    settings.forget(e.document.uri);
  });
  return { connection, documents, settings, analyses, ruleDocs: new RuleDocs(), log };
}

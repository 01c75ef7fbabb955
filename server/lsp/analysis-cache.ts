// The analysis of each open document's current version under its settings,
// computed once and shared by diagnostics, every feature and the custom
// requests (fuselens/simulate answers from it). A new version is analyzed
// from the previous one, so only its changed lines are parsed again.

import type { TextDocument } from 'vscode-languageserver-textdocument';
import { defaultKernel, type Settings } from '../../protocol/settings';
import { analyze, type Analysis } from './analysis';
import { MAX_CHECK_ON_TYPE_LINES } from './input-limits';
import type { ServerLog } from './server-log';

interface Cached {
  version: number;
  kernel: string | undefined;
  analysis: Analysis;
}

export class AnalysisCache {
  private readonly cache = new Map<string, Cached>();

  constructor(private readonly log: ServerLog) {}

  /**
   * The analysis of the document's current version with `settings`. With `allowStale`, a very
   * long document's last analysis is taken as it is: hovers and completions there do not wait
   * for a new check (publish-diagnostics.ts re-checks it on open and save).
   */
  of(document: TextDocument, settings: Settings, allowStale = false): Analysis {
    const kernel = defaultKernel(settings);
    const cached = this.cache.get(document.uri);
    if (cached && cached.kernel === kernel) {
      if (cached.version === document.version) return cached.analysis;
      if (allowStale && document.lineCount > MAX_CHECK_ON_TYPE_LINES && cached.analysis.analyzed) return cached.analysis;
    }
    const analysis = this.analyze(document.uri, document.getText(), settings, cached?.analysis);
    this.cache.set(document.uri, { version: document.version, kernel, analysis });
    return analysis;
  }

  /** The analysis of a scenario that is not open in the editor (a file on disk), with its settings. */
  ofText(uri: string, text: string, settings: Settings): Analysis {
    return this.analyze(uri, text, settings, undefined);
  }

  forget(uri: string): void {
    this.cache.delete(uri);
  }

  private analyze(uri: string, text: string, settings: Settings, previous: Analysis | undefined): Analysis {
    return analyze(text, {
      defaultKernel: defaultKernel(settings),
      previous,
      onEngineError: (err) => this.log.error(`checking ${uri}`, err),
    });
  }
}

// The analysis of each open document's current version under its settings,
// computed once and shared by diagnostics, every feature and the custom
// requests (fuselens/simulate answers from it). A new version is analyzed
// from the previous one, so only its changed lines are parsed again and its
// simulation resumes near the edit. The diagnostics' check runs in slices of
// SLICE_MS, so that a long simulation (a 100,000-line scenario opened) leaves
// the server answering other requests in between; a feature that needs the
// analysis being made finishes it at once.

import { defaultKernel, type Settings } from '../../protocol/settings';
import { startAnalysis, type Analysis, type PendingAnalysis } from './analysis';
import type { LinesDocument } from './document-lines';
import { ANSWER_FROM_LAST_CHECK_LINES, type ScenarioText } from './input-limits';
import type { ServerLog } from './server-log';

interface Cached {
  version: number;
  kernel: string | undefined;
  analysis: Analysis;
}

interface InFlight {
  version: number;
  kernel: string | undefined;
  pending: PendingAnalysis;
}

/** Longest stretch of a sliced analysis between two turns of the event loop. */
const SLICE_MS = 20;

export class AnalysisCache {
  private readonly cache = new Map<string, Cached>();
  /** Analyses being made in slices, by document. */
  private readonly inFlight = new Map<string, InFlight>();

  constructor(private readonly log: ServerLog) {}

  /**
   * The analysis of the document's current version with `settings`. With `allowStale`, a very
   * long document's last analysis is taken as it is: hovers and completions there do not wait
   * for the check of its newest version (publish-diagnostics.ts makes that one in slices).
   */
  of(document: LinesDocument, settings: Settings, allowStale = false): Analysis {
    const kernel = defaultKernel(settings);
    const cached = this.cache.get(document.uri);
    if (cached && cached.kernel === kernel) {
      if (cached.version === document.version) return cached.analysis;
      if (allowStale && document.lineCount > ANSWER_FROM_LAST_CHECK_LINES && cached.analysis.analyzed) return cached.analysis;
    }
    const flying = this.inFlight.get(document.uri);
    const pending = flying && flying.version === document.version && flying.kernel === kernel
      ? flying.pending : this.start(document.uri, document.snapshot(), settings, cached?.analysis);
    return this.done(document.uri, document.version, kernel, pending.runUntil(Infinity)!);
  }

  /**
   * `of`, made in slices with the event loop free in between. Undefined when the
   * document changed meanwhile: the check of its new version takes over.
   */
  async ofInSlices(document: LinesDocument, settings: Settings): Promise<Analysis | undefined> {
    const kernel = defaultKernel(settings);
    const { uri, version } = document;
    const cached = this.cache.get(uri);
    if (cached && cached.kernel === kernel && cached.version === version) return cached.analysis;
    const mine: InFlight = { version, kernel, pending: this.start(uri, document.snapshot(), settings, cached?.analysis) };
    this.inFlight.set(uri, mine);
    for (;;) {
      const analysis = mine.pending.runUntil(performance.now() + SLICE_MS);
      if (analysis) return this.done(uri, version, kernel, analysis);
      await new Promise((resolve) => setImmediate(resolve));
      if (this.inFlight.get(uri) !== mine) {
        // Finished by `of` in the meantime, or given up for a newer version.
        const now = this.cache.get(uri);
        return now && now.version === version && now.kernel === kernel ? now.analysis : undefined;
      }
    }
  }

  /**
   * Makes the checkpoints that `analysis` (the document's at `version`) left for later, in
   * slices, until they are made or a newer version is being analyzed (whose analysis makes
   * those it still needs before it resumes from them).
   */
  async checkpointsInSlices(uri: string, version: number, analysis: Analysis): Promise<void> {
    const simulation = analysis.simulation;
    if (!simulation) return;
    while (!simulation.checkpointsUntil(performance.now() + SLICE_MS)) {
      await new Promise((resolve) => setImmediate(resolve));
      const cached = this.cache.get(uri);
      if (this.inFlight.has(uri) || cached?.version !== version || cached.analysis !== analysis) return;
    }
  }

  /** `version`: the one analyzed (the document object itself moves on to newer versions as they come). */
  private done(uri: string, version: number, kernel: string | undefined, analysis: Analysis): Analysis {
    const flying = this.inFlight.get(uri);
    if (flying && flying.version <= version) this.inFlight.delete(uri);
    const cached = this.cache.get(uri);
    if (!cached || cached.version <= version) this.cache.set(uri, { version, kernel, analysis });
    return analysis;
  }

  /** The analysis of a scenario that is not open in the editor (a file on disk), with its settings. */
  ofText(uri: string, text: string, settings: Settings): Analysis {
    return this.start(uri, text, settings, undefined).runUntil(Infinity)!;
  }

  forget(uri: string): void {
    this.cache.delete(uri);
    this.inFlight.delete(uri);
  }

  private start(uri: string, text: string | ScenarioText, settings: Settings, previous: Analysis | undefined): PendingAnalysis {
    return startAnalysis(text, {
      defaultKernel: defaultKernel(settings),
      previous,
      onEngineError: (err) => this.log.error(`checking ${uri}`, err),
    });
  }
}

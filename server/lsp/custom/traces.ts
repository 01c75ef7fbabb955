// fuselens/openTrace, exportTraceScenario, startCapture, stopCapture (+ captureProgress): the trace
// module (server/trace) behind the trace view. Also remembers the io modes the
// last trace of each connection reconstructed, for the sidebar's inodes.

import { basename } from 'node:path';
import type { CancellationToken } from 'vscode-languageserver';
import {
  Notifications, Requests, type ExportTraceScenarioResult, type OpenTraceParams, type OpenTraceResult, type TraceFileParams, type TraceReport, type TraceView,
} from '../../../protocol/messages';
import { captureStartText, exportTraceScenario, openTraceSource, traceView } from '../../trace';
import type { ServerContext } from '../context';
import { registerCaptureRequests } from './captures';
import { failure, handle } from './handle';

/** A trace opened in the editor, attached to the connections it covers until detached. */
export interface AttachedTrace {
  path: string;
  report: TraceReport;
  /** When its capture began, in words. */
  since: string;
}

export interface TraceState {
  /** The last trace read for `connection` that carried replies (tracking.ts gives its modes with their provenance). */
  attachedFor(connection: number): AttachedTrace | undefined;
  /** Forgets the trace of `connection`; false when none was attached. */
  detach(connection: number): boolean;
}

export function registerTraceRequests(ctx: ServerContext): TraceState {
  const { connection } = ctx;
  const attached = new Map<number, AttachedTrace>();

  // Cancelling abandons a file, and stops a source that never ends (trace_pipe, a FIFO) with what was read shown.
  async function openTrace({ path, progressId }: OpenTraceParams, token: CancellationToken): Promise<TraceView> {
    const stop = new AbortController();
    // A request cancelled before it was dispatched gets a token that is cancelled already, whose
    // onCancellationRequested fires only on a later timer tick: abort now.
    if (token.isCancellationRequested) stop.abort();
    const cancelled = token.onCancellationRequested(() => stop.abort());
    try {
      const source = openTraceSource(path, {
        signal: stop.signal,
        ...(progressId !== undefined
          ? { onProgress: (bytes, total) => void connection.sendNotification(Notifications.traceProgress.method, { progressId, bytes, total }) }
          : {}),
      });
      const view = await traceView(source);
      const since = captureStartText(view.report, path);
      // A trace is attached to each connection whose inodes it replayed (it carried OPEN replies).
      const inodes = view.report.inodes ?? [];
      for (const c of view.report.connections) {
        if (inodes.some((i) => i.connection === null || i.connection === c)) attached.set(c, { path, report: view.report, since });
      }
      return view;
    } finally {
      cancelled.dispose();
    }
  }

  handle(connection, Requests.openTrace, async (params: OpenTraceParams, token): Promise<OpenTraceResult> => {
    try {
      return { ok: true, view: await openTrace(params, token) };
    } catch (err) {
      return failure(err);
    }
  });

  handle(connection, Requests.exportTraceScenario, async ({ path }: TraceFileParams): Promise<ExportTraceScenarioResult> => {
    try {
      return { ok: true, text: (await exportTraceScenario(openTraceSource(path), { source: basename(path) })).text };
    } catch (err) {
      return failure(err);
    }
  });

  registerCaptureRequests(ctx);

  return {
    attachedFor: (c) => attached.get(c),
    detach: (c) => attached.delete(c),
  };
}

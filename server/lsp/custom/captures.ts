// fuselens/startCapture, fuselens/stopCapture and the captureProgress
// notification: live captures through server/trace's startCapture (tracefs,
// or strace on the daemon). Captures are written under the temp directory and
// cleaned up by capture.ts itself when the server exits (tracefs restored,
// strace detached). The capture file's header says when it began, for the
// sidebar's "since capture started at …" (server/trace captureStartText).

import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Notifications, Requests, type StartCaptureParams } from '../../../protocol/messages';
import { startCapture, type Capture } from '../../trace';
import type { ServerContext } from '../context';
import { failure, handle } from './handle';

const PROGRESS_EVERY_MS = 500;

export function registerCaptureRequests(ctx: ServerContext): void {
  const { connection } = ctx;
  const running = new Map<string, Capture>();
  let counter = 0;

  handle(connection, Requests.startCapture, async (params: StartCaptureParams) => {
    const captureId = `${process.pid}-${++counter}`;
    const dir = join(tmpdir(), 'fuselens-captures');
    try {
      mkdirSync(dir, { recursive: true });
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      const output = join(dir, `connection-${params.connection}-${stamp}.${params.daemon ? 'strace' : 'trace'}`);
      let lastSent = 0;
      const capture = await startCapture({
        connection: params.connection,
        output,
        daemon: params.daemon,
        onProgress: (requests) => {
          const now = Date.now();
          if (now - lastSent < PROGRESS_EVERY_MS) return;
          lastSent = now;
          void connection.sendNotification(Notifications.captureProgress.method, { captureId, events: requests });
        },
      });
      running.set(captureId, capture);
      void capture.done.then(
        (r) => connection.console.log(`capture ${captureId} (${r.file}) ended: ${r.stoppedBy}, ${r.requests} requests`),
        () => undefined,
      );
      return { ok: true as const, captureId, path: capture.file };
    } catch (err) {
      return failure(err);
    }
  });

  handle(connection, Requests.stopCapture, async (params: { captureId: string }) => {
    const capture = running.get(params.captureId);
    if (!capture) return { ok: false as const, errno: 'ENOENT', message: `no capture ${params.captureId} is running` };
    running.delete(params.captureId);
    try {
      const result = await capture.stop();
      for (const w of result.warnings) connection.console.warn(`capture: ${w}`);
      void connection.sendNotification(Notifications.captureProgress.method, { captureId: params.captureId, events: result.requests });
      return { ok: true as const, path: result.file };
    } catch (err) {
      return failure(err);
    }
  });
}

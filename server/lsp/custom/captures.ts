// fuselens/startCapture, fuselens/stopCapture and the captureProgress
// notification: live captures through server/trace's startCapture.

import type { Connection } from 'vscode-languageserver';
import { handle } from './handle';
import { Requests, type StartCaptureResult, type StopCaptureResult } from '../../../protocol/messages';

export function registerCaptureRequests(connection: Connection): void {
  handle(connection, Requests.startCapture, (): StartCaptureResult => ({
    ok: false,
    errno: 'ENOSYS',
    message: 'live capture is not available in this build of the server',
  }));
  handle(connection, Requests.stopCapture, (): StopCaptureResult => ({
    ok: false,
    errno: 'ENOENT',
    message: 'no such capture',
  }));
}

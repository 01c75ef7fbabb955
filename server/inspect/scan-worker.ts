// The helper thread of a /proc scan (scan-helper.ts): takes a share of each piece of
// work it is sent, posts the blocks it did on the port it was given, then says so in
// the work's shared word, which the scan may be waiting on.

import { parentPort, type MessagePort } from 'node:worker_threads';
import { helped, helpWith, type FromScanWorker, type ToScanWorker } from './scan-helper';

let port: MessagePort | undefined;
parentPort!.on('message', (m: ToScanWorker) => {
  if ('port' in m) {
    port = m.port;
    return;
  }
  const blocks = helpWith(m.work, m.shared);
  if (!blocks) return; // the scan did it all itself
  port!.postMessage({ id: m.id, blocks } satisfies FromScanWorker);
  helped(m.shared);
});

// The helper thread of a /proc scan (scan-helper.ts): takes a share of the blocks of
// each scan it is sent and posts each block it did on the port it was given.

import { parentPort, type MessagePort } from 'node:worker_threads';
import { helpWith, type ToScanWorker } from './scan-helper';

let port: MessagePort | undefined;
parentPort!.on('message', (m: ToScanWorker) => {
  if ('port' in m) port = m.port;
  else helpWith(m.id, m.work, m.shared, port!);
});

// The JSON of each message sent over standard output, encoded into one buffer kept
// from message to message. vscode-jsonrpc's own encoder makes a fresh Buffer per
// message (Buffer.from(JSON.stringify(msg))): the 1,001 diagnostics of a
// 100,000-line scenario are 600 KB at every version, and on this machine fresh
// pages of that size cost about 2 ms of CPU where writing into pages already
// touched costs 0.2 (bench/README.md; issue 14 gives an edit 20 ms). The stream
// writer encodes a message only once the one before has been written (its
// semaphore awaits the write's callback), so the buffer is free again by then.

import type { ContentTypeEncoder } from 'vscode-languageserver/node';

export function reusedBufferJsonEncoder(): ContentTypeEncoder {
  let buffer = Buffer.allocUnsafeSlow(64 * 1024);
  return {
    name: 'application/json',
    encode(msg, options) {
      try {
        const text = JSON.stringify(msg, undefined, 0);
        if (options.charset !== 'utf-8') return Promise.resolve(Buffer.from(text, options.charset));
        // A UTF-16 code unit is at most 3 bytes of UTF-8 (a surrogate pair, two units, is 4).
        if (3 * text.length > buffer.length) buffer = Buffer.allocUnsafeSlow(Math.max(2 * buffer.length, 3 * text.length));
        return Promise.resolve(buffer.subarray(0, buffer.write(text, 0, 'utf8')));
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
    },
  };
}

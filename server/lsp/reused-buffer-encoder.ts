// The JSON of each message sent over standard output, encoded into one buffer kept
// from message to message. vscode-jsonrpc's own encoder makes a fresh Buffer per
// message (Buffer.from(JSON.stringify(msg))): the 1,001 diagnostics of a
// 100,000-line scenario are 650 KB at every version, and on this machine fresh
// pages of that size cost milliseconds of CPU (issue 14 gives an edit 20 ms). The
// stream writer encodes a message only once the one before has been written (its
// semaphore awaits the write's callback), so the buffer is free again by then.
//
// A long list of diagnostics is stringified one diagnostic at a time: the `→` of a
// message makes JSON.stringify's text two-byte from there on, and the text it
// returns is then a rope that encoding first copies flat, 1.3 MB of fresh memory
// (12 ms of CPU per publish where the diagnostics one by one take 3, measured at
// load 9). The bytes are the same as JSON.stringify's (test/lsp/reused-buffer-encoder.test.ts).

import type { ContentTypeEncoder, Message } from 'vscode-languageserver/node';

/** Lists of diagnostics at least this long are written one diagnostic at a time. */
const ONE_BY_ONE = 64;

export function reusedBufferJsonEncoder(): ContentTypeEncoder {
  let buffer = Buffer.allocUnsafeSlow(64 * 1024);
  let length = 0;
  /** Appends `text` (JSON text: at most 3 bytes of UTF-8 per UTF-16 unit, a surrogate pair 4 for 2). */
  const write = (text: string) => {
    if (length + 3 * text.length > buffer.length) {
      const bigger = Buffer.allocUnsafeSlow(Math.max(2 * buffer.length, length + 3 * text.length));
      buffer.copy(bigger, 0, 0, length);
      buffer = bigger;
    }
    length += buffer.write(text, length, 'utf8');
  };
  return {
    name: 'application/json',
    encode(msg, options) {
      try {
        if (options.charset !== 'utf-8') return Promise.resolve(Buffer.from(JSON.stringify(msg), options.charset));
        length = 0;
        const diagnostics = diagnosticsOf(msg);
        if (!diagnostics) write(JSON.stringify(msg));
        else {
          // The message with no diagnostics, then the list put where its `[]` is: the key cannot
          // occur inside a string of it, whose quotes JSON.stringify escapes.
          const empty = JSON.stringify({ ...msg, params: { ...(msg as unknown as { params: object }).params, diagnostics: [] } });
          const at = empty.lastIndexOf('"diagnostics":[]') + '"diagnostics":['.length;
          write(empty.slice(0, at));
          for (let i = 0; i < diagnostics.length; i++) {
            if (i > 0) write(',');
            write(JSON.stringify(diagnostics[i]) ?? 'null');
          }
          write(empty.slice(at));
        }
        return Promise.resolve(buffer.subarray(0, length));
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
    },
  };
}

/** The diagnostics of a publishDiagnostics notification, when they are many. */
function diagnosticsOf(msg: Message): unknown[] | undefined {
  const params = (msg as { method?: unknown; params?: { diagnostics?: unknown } }).params;
  if ((msg as { method?: unknown }).method !== 'textDocument/publishDiagnostics' || !params) return undefined;
  const diagnostics = params.diagnostics;
  return Array.isArray(diagnostics) && diagnostics.length >= ONE_BY_ONE ? diagnostics : undefined;
}

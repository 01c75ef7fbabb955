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

/**
 * The JSON bytes of each frozen diagnostic written: diagnostics.ts freezes the LSP diagnostics it
 * makes and hands out the same object again while nothing it was made from changed, so that
 * most of a long scenario's 1,001 diagnostics are the last version's and are copied here as
 * bytes, not stringified and encoded again (9 ms of the server's CPU per edit, bench/README.md).
 */
const encoded = new WeakMap<object, Buffer>();

export function reusedBufferJsonEncoder(): ContentTypeEncoder {
  let buffer = Buffer.allocUnsafeSlow(64 * 1024);
  let length = 0;
  const room = (bytes: number) => {
    if (length + bytes > buffer.length) {
      const bigger = Buffer.allocUnsafeSlow(Math.max(2 * buffer.length, length + bytes));
      buffer.copy(bigger, 0, 0, length);
      buffer = bigger;
    }
  };
  /** Appends `text` (JSON text: at most 3 bytes of UTF-8 per UTF-16 unit, a surrogate pair 4 for 2). */
  const write = (text: string) => {
    room(3 * text.length);
    length += buffer.write(text, length, 'utf8');
  };
  /** Appends the JSON of one diagnostic: its bytes kept when it is frozen (never changed). */
  const writeDiagnostic = (d: unknown) => {
    if (typeof d !== 'object' || d === null || !Object.isFrozen(d)) return write(JSON.stringify(d) ?? 'null');
    let bytes = encoded.get(d);
    if (!bytes) encoded.set(d, (bytes = Buffer.from(JSON.stringify(d), 'utf8')));
    room(bytes.length);
    length += bytes.copy(buffer, length);
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
            writeDiagnostic(diagnostics[i]);
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

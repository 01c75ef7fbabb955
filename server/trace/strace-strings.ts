// strace's quoted strings ("\x2a\x00...", with -xx every byte a \xNN escape;
// without it printable bytes as they are, others as \n, \t, \ooo octal) made
// back into the bytes the call read or wrote. One home for the escapes: the
// FUSE messages' bytes (strace-messages.ts), a vmspliced reply header and the
// -y paths of descriptors (strace.ts).

import { ViewOf } from '../abi';

const enum C {
  quote = 34,
  backslash = 92,
  dot = 46,
  x = 120,
}

/** Hex digit values by byte, -1 for the others: -xx prints every byte of a string as \xNN. */
const HEX_VALUE = Int8Array.from({ length: 256 }, (_, c) => (c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1));
export function hexValue(c: number | undefined): number {
  return c === undefined ? -1 : HEX_VALUE[c]!;
}

/**
 * The byte of an escape's two digits by the high half of the 32-bit little-endian word `\xNN` reads as (the first digit
 * its low byte), -1 where either is not a hex digit.
 */
const DIGIT_PAIRS = Int16Array.from({ length: 65536 }, (_, w) => {
  const hi = HEX_VALUE[w & 0xff]!;
  const lo = HEX_VALUE[w >>> 8]!;
  return hi >= 0 && lo >= 0 ? (hi << 4) | lo : -1;
});
/** Four quotes: a 32-bit word XORed with it has a zero byte where the word has a quote. */
const QUOTES = 0x22222222;
/** `\x` as the low half of a little-endian 32-bit word. */
const ESCAPE_WORD = 0x785c;

/** The byte of each one-letter escape strace prints without -xx (its print_quoted_string). */
const ESCAPES: Record<number, number> = { 110: 10, 116: 9, 114: 13, 118: 11, 102: 12, 97: 7, 98: 8, 92: 92, 34: 34, 39: 39 };

/**
 * Decodes every "..." of a call's arguments, concatenated (writev's iovecs in order), into a buffer it keeps: `length`
 * bytes of `data` after decode(). Each byte decoded takes at least one character, so the text's length bounds it.
 */
export class StraceStrings {
  private own: Buffer = Buffer.alloc(64 * 1024);
  /** Where the bytes are: from `at` of `data`. */
  data: Buffer = this.own;
  at = 0;
  length = 0;
  /** strace cut a string short (`"..."...`: -s smaller than the call's bytes). */
  truncated = false;
  private readonly textView = new ViewOf();
  private readonly outView = new ViewOf();

  /** Into `out` from `at` (end - start bytes there suffice), or into a buffer of its own. */
  decode(buf: Buffer, start: number, end: number, out?: Buffer, at = 0): void {
    if (!out) {
      if (this.own.length < end - start) this.own = Buffer.alloc(Math.max(end - start, this.own.length * 2));
      out = this.own;
    }
    this.data = out;
    this.at = at;
    this.length = 0;
    this.truncated = false;
    let p = start;
    const text = this.textView.get(buf);
    while (p < end) {
      // Four bytes at a time up to the word that holds a quote (the fd's -y path, writev's `iov_len=16}, {iov_base=`).
      while (p + 4 <= end) {
        const w = text.getUint32(p, true) ^ QUOTES;
        if ((w - 0x01010101) & ~w & 0x80808080) break;
        p += 4;
      }
      if (buf[p] === C.quote) {
        p = this.quoted(buf, p + 1, end);
        if (buf[p] === C.dot && buf[p + 1] === C.dot && buf[p + 2] === C.dot) this.truncated = true;
      } else p++;
    }
  }

  /** One string's body from `p` (past its opening quote): where it ends, past its closing quote. */
  private quoted(buf: Buffer, p: number, end: number): number {
    const out = this.data;
    let n = this.at + this.length;
    while (p < end) {
      const c = buf[p]!;
      if (c === C.backslash && p + 15 < end) {
        // strace -xx prints every byte as \xNN: four of them at a time, as four 32-bit words (about half the time of
        // one byte at a time; 2026-12-02, bench/README.md). Anything else in the four, the closing quote or a bad digit,
        // leaves them to the loop below.
        const text = this.textView.get(buf);
        const bytes = this.outView.get(out);
        while (p + 15 < end) {
          const w0 = text.getUint32(p, true);
          const w1 = text.getUint32(p + 4, true);
          const w2 = text.getUint32(p + 8, true);
          const w3 = text.getUint32(p + 12, true);
          if (((w0 ^ ESCAPE_WORD) | (w1 ^ ESCAPE_WORD) | (w2 ^ ESCAPE_WORD) | (w3 ^ ESCAPE_WORD)) & 0xffff) break;
          const b0 = DIGIT_PAIRS[w0 >>> 16]!;
          const b1 = DIGIT_PAIRS[w1 >>> 16]!;
          const b2 = DIGIT_PAIRS[w2 >>> 16]!;
          const b3 = DIGIT_PAIRS[w3 >>> 16]!;
          if ((b0 | b1 | b2 | b3) < 0) break;
          bytes.setUint32(n, b0 | (b1 << 8) | (b2 << 16) | (b3 << 24), true);
          n += 4;
          p += 16;
        }
        if (buf[p] !== C.backslash) continue;
      }
      if (c === C.quote) {
        p++;
        break;
      }
      if (c !== C.backslash) {
        out[n++] = c;
        p++;
        continue;
      }
      const e = buf[p + 1];
      if (e === C.x) {
        out[n++] = (hexValue(buf[p + 2]) << 4) | hexValue(buf[p + 3]);
        p += 4;
      } else if (e !== undefined && e >= 48 && e <= 55) {
        let v = 0;
        let k = p + 1;
        while (k < p + 4 && buf[k]! >= 48 && buf[k]! <= 55) v = v * 8 + (buf[k++]! - 48);
        out[n++] = v & 0xff;
        p = k;
      } else {
        out[n++] = ESCAPES[e ?? 0] ?? e ?? 0;
        p += 2;
      }
    }
    this.length = n - this.at;
    return p;
  }
}

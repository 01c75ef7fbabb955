// Bulk output (`simulate`'s table and `--json` of a million steps) gathered as UTF-8
// bytes and handed on about 64 KiB at a time: a write per step would cost more than
// the simulation (issue 14). Measured ways of gathering, kept here:
// - a table's cells (short strings) are copied byte by byte while they are ASCII: a
//   row joined as text and encoded per chunk costs twice as much (padEnd, trimEnd and
//   the rope of pieces; the `→` of a blocked step makes the chunk's text two-byte and
//   its encoding slow), and a call into Buffer#write per cell more still;
// - long strings (a step's JSON) are joined as text (V8 keeps the pieces as a rope)
//   and encoded once when bytes follow or the chunk is full: a Buffer#write per step
//   costs more than that one flatten and encode;
// - JSON values (`--json`'s steps) are written straight into the bytes, as
//   JSON.stringify would write them: stringifying each step, then gathering and
//   encoding the text, was a sixth of `simulate --json` of a million steps.

import { isAscii } from 'node:buffer';

/** A chunk is handed on once it holds about this many bytes. */
const CHUNK_BYTES = 1 << 16;

/** Strings longer than this are joined as text; shorter ones copied byte by byte. */
const TEXT_FROM = 32;

/** DEL: ASCII, but changed by `finish` (jsonInert) as C1 is. */
const DEL = 0x7f;

/** ASCII characters JSON.stringify writes escaped (C0, `"` and `\\`), by code. */
const JSON_ESCAPED = new Uint8Array(128);
for (let c = 0; c < 0x20; c++) JSON_ESCAPED[c] = 1;
JSON_ESCAPED[0x22] = JSON_ESCAPED[0x5c] = 1;

/** The digits of a whole number ≥ 0 (String(n).length, without making the string). */
export function decimalLength(n: number): number {
  // Comparisons first: divisions for each of a million line numbers cost more (twice a table row).
  if (n < 10) return 1;
  if (n < 100) return 2;
  if (n < 1000) return 3;
  if (n < 10_000) return 4;
  if (n < 100_000) return 5;
  if (n < 1_000_000) return 6;
  if (n < 10_000_000) return 7;
  let digits = 1;
  for (let m = n; m >= 10; m = Math.floor(m / 10)) digits++;
  return digits;
}

export class ChunkedOutput {
  private bytes = Buffer.allocUnsafe(2 * CHUNK_BYTES);
  private length = 0;
  /** Long strings not yet encoded; they come after `bytes`. */
  private text = '';

  /**
   * `finish` is applied to each chunk's text before it is written (jsonInert for
   * `--json`); it must change only DEL and non-ASCII characters, so a chunk of other
   * ASCII bytes is handed on as it is.
   */
  constructor(private readonly sink: (bytes: Uint8Array) => void, private readonly finish?: (text: string) => string) {}

  /** Where the next byte goes: a mark for `trimEnd`. */
  get position(): number {
    this.encodeText();
    return this.length;
  }

  /** Appends `text`, then hands the chunk on if it is full. */
  write(text: string): void {
    this.append(text);
    if (this.length + this.text.length >= CHUNK_BYTES) this.flush();
  }

  /**
   * Appends `text` and keeps it in this chunk: the part of a row written so far, which
   * `trimEnd` may still shorten. `write` (or `flush`) ends the row.
   */
  append(text: string): void {
    const n = text.length;
    if (n > TEXT_FROM) {
      this.text += text;
      return;
    }
    this.encodeText();
    if (this.length + 3 * n > this.bytes.length) this.grow(3 * n);
    const bytes = this.bytes;
    let at = this.length;
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0x80) {
        this.length += bytes.write(text, this.length);
        return;
      }
      bytes[at++] = c;
    }
    this.length = at;
  }

  /** Appends bytes made once (the ASCII of a JSON key). */
  literal(b: Uint8Array): void {
    this.encodeText();
    const n = b.length;
    if (this.length + n > this.bytes.length) this.grow(n);
    const bytes = this.bytes;
    let at = this.length;
    for (let i = 0; i < n; i++) bytes[at++] = b[i]!;
    this.length = at;
  }

  /**
   * Appends the JSON text of `value`, byte for byte what JSON.stringify(value) encodes
   * to, then hands the chunk on if it is full. `value` is JSON data: objects are written
   * by their own enumerable properties, in JSON.stringify's order, and a toJSON method
   * is not called (a Date would be written as {}).
   */
  writeJson(value: unknown): void {
    this.encodeText();
    this.json(value);
    if (this.length >= CHUNK_BYTES) this.flush();
  }

  /** JSON of a value that has some (not undefined, a function or a symbol: the callers leave those out). */
  private json(value: unknown): void {
    if (typeof value === 'string') return this.jsonString(value);
    if (typeof value === 'number') return this.jsonNumber(value);
    if (typeof value === 'object') {
      if (value === null) return this.ascii('null');
      if (Array.isArray(value)) return this.jsonArray(value);
      return this.jsonObject(value as Record<string, unknown>);
    }
    if (typeof value === 'boolean') return this.ascii(value ? 'true' : 'false');
    // A bigint: JSON.stringify throws as it would have.
    this.jsonText(JSON.stringify(value));
  }

  private jsonObject(value: Record<string, unknown>): void {
    this.byte(0x7b); // {
    let first = true;
    // for…in takes no array of keys per object; of a plain object it enumerates the own enumerable
    // string keys in JSON.stringify's (Object.keys') order: Object.prototype has no enumerable ones.
    for (const key in value) {
      const v = value[key];
      if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
      if (!first) this.byte(0x2c); // ,
      first = false;
      this.jsonString(key);
      this.byte(0x3a); // :
      this.json(v);
    }
    this.byte(0x7d); // }
  }

  private jsonArray(value: unknown[]): void {
    this.byte(0x5b); // [
    for (let i = 0; i < value.length; i++) {
      if (i > 0) this.byte(0x2c);
      const v = value[i];
      if (v === undefined || typeof v === 'function' || typeof v === 'symbol') this.ascii('null');
      else this.json(v);
    }
    this.byte(0x5d); // ]
  }

  /** Appends the JSON text of a number, as JSON.stringify writes it. */
  jsonNumber(n: number): void {
    if (Number.isFinite(n)) this.number(n);
    else this.append('null');
  }

  /** Appends String(n). */
  number(n: number): void {
    // Line numbers and counters: the digits of a small whole number written directly.
    if (n >= 0 && n <= 0x7fffffff && (n | 0) === n) {
      this.encodeText();
      this.reserve(10);
      const bytes = this.bytes;
      let at = this.length + decimalLength(n);
      this.length = at;
      let m = n;
      do {
        bytes[--at] = 0x30 + (m % 10);
        m = (m / 10) | 0;
      } while (m > 0);
      return;
    }
    this.append(String(n));
  }

  /** Appends a JSON string: ASCII without escapes copied byte by byte, anything else as JSON.stringify writes it. */
  jsonString(s: string): void {
    this.encodeText();
    const n = s.length;
    this.reserve(n + 2);
    const bytes = this.bytes;
    let at = this.length;
    bytes[at++] = 0x22;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80 || JSON_ESCAPED[c] === 1) return this.jsonText(JSON.stringify(s));
      bytes[at++] = c;
    }
    bytes[at++] = 0x22;
    this.length = at;
  }

  /** JSON text made by JSON.stringify (well formed: lone surrogates escaped), encoded as UTF-8 (3 bytes a unit at most). */
  private jsonText(text: string): void {
    this.reserve(3 * text.length);
    this.length += this.bytes.write(text, this.length);
  }

  /** Appends a string known to be ASCII. */
  private ascii(text: string): void {
    this.reserve(text.length);
    for (let i = 0; i < text.length; i++) this.bytes[this.length++] = text.charCodeAt(i);
  }

  private byte(b: number): void {
    this.reserve(1);
    this.bytes[this.length++] = b;
  }

  /** Room for `more` bytes after those gathered. */
  private reserve(more: number): void {
    if (this.length + more > this.bytes.length) this.grow(more);
  }

  /** Appends `count` spaces (none when count ≤ 0), as padEnd pads. */
  spaces(count: number): void {
    this.encodeText();
    if (this.length + count > this.bytes.length) this.grow(count);
    const bytes = this.bytes;
    let at = this.length;
    // A loop: Buffer#fill checks its arguments at a cost greater than a few spaces.
    for (let i = 0; i < count; i++) bytes[at++] = 0x20;
    this.length = at;
  }

  /** Removes the white space that ends what was appended since `mark`, as String#trimEnd would. */
  trimEnd(mark: number): void {
    this.encodeText();
    const bytes = this.bytes;
    let end = this.length;
    // ASCII white space: TAB, LF, VT, FF, CR, space.
    while (end > mark && (bytes[end - 1] === 0x20 || (bytes[end - 1]! >= 0x09 && bytes[end - 1]! <= 0x0d))) end--;
    this.length = end;
    // A multi-byte character at the end may be white space too (NBSP, U+2000–U+200A, …).
    if (end > mark && bytes[end - 1]! >= 0x80) {
      const text = bytes.toString('utf8', mark, end).trimEnd();
      this.length = mark;
      this.append(text);
      this.encodeText();
    }
  }

  /** Hands on what is gathered. */
  flush(): void {
    this.encodeText();
    if (this.length === 0) return;
    let chunk = this.bytes.subarray(0, this.length);
    if (this.finish && !(isAscii(chunk) && !chunk.includes(DEL))) chunk = Buffer.from(this.finish(chunk.toString('utf8')));
    this.sink(chunk);
    // The sink may keep the chunk (a stream that cannot write yet): the next one is a new buffer.
    this.bytes = Buffer.allocUnsafe(this.bytes.length);
    this.length = 0;
  }

  private encodeText(): void {
    if (this.text === '') return;
    if (this.length + 3 * this.text.length > this.bytes.length) this.grow(3 * this.text.length);
    this.length += this.bytes.write(this.text, this.length);
    this.text = '';
  }

  private grow(more: number): void {
    const bigger = Buffer.allocUnsafe(Math.max(2 * this.bytes.length, this.length + more));
    this.bytes.copy(bigger, 0, 0, this.length);
    this.bytes = bigger;
  }
}

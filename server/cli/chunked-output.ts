// Bulk output (`simulate`'s table and `--json` of a million steps) gathered as UTF-8
// bytes and handed on about 64 KiB at a time: a write per step would cost more than
// the simulation, and so would strings joined per row and encoded again per chunk
// (issue 14: the table's rows carry `→`, which makes a chunk of JS text two-byte and
// its encoding slow). Short strings (a table's cells) are copied byte by byte while
// they are ASCII, which is cheaper than a call into Buffer#write for each; long ones
// (a step's JSON) are encoded by Buffer#write.

import { isAscii } from 'node:buffer';

/** A chunk is handed on once it holds this many bytes. */
const CHUNK_BYTES = 1 << 16;

/** Strings longer than this are encoded by Buffer#write; shorter ones by the loop in `append`. */
const NATIVE_FROM = 32;

/** DEL: ASCII, but changed by `finish` (jsonInert) as C1 is. */
const DEL = 0x7f;

export class ChunkedOutput {
  private bytes = Buffer.allocUnsafe(2 * CHUNK_BYTES);
  private length = 0;

  /**
   * `finish` is applied to each chunk's text before it is written (jsonInert for
   * `--json`); it must change only DEL and non-ASCII characters, so a chunk of other
   * ASCII bytes is handed on as it is.
   */
  constructor(private readonly sink: (bytes: Uint8Array) => void, private readonly finish?: (text: string) => string) {}

  /** Where the next byte goes: a mark for `trimEnd`. */
  get position(): number {
    return this.length;
  }

  /** Appends `text`, then hands the chunk on if it is full. */
  write(text: string): void {
    this.append(text);
    if (this.length >= CHUNK_BYTES) this.flush();
  }

  /**
   * Appends `text` and keeps it in this chunk: the part of a row written so far, which
   * `trimEnd` may still shorten. `write` (or `flush`) ends the row.
   */
  append(text: string): void {
    const n = text.length;
    if (this.length + 3 * n > this.bytes.length) this.grow(3 * n);
    const bytes = this.bytes;
    if (n > NATIVE_FROM) {
      this.length += bytes.write(text, this.length);
      return;
    }
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

  /** Appends `count` spaces (none when count ≤ 0), as padEnd pads. */
  spaces(count: number): void {
    if (this.length + count > this.bytes.length) this.grow(count);
    const end = this.length + Math.max(0, count);
    this.bytes.fill(0x20, this.length, end);
    this.length = end;
  }

  /** Removes the white space that ends what was appended since `mark`, as String#trimEnd would. */
  trimEnd(mark: number): void {
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
    }
  }

  /** Hands on what is gathered. */
  flush(): void {
    if (this.length === 0) return;
    let chunk = this.bytes.subarray(0, this.length);
    if (this.finish && !(isAscii(chunk) && !chunk.includes(DEL))) chunk = Buffer.from(this.finish(chunk.toString('utf8')));
    this.sink(chunk);
    // The sink may keep the chunk (a stream that is not writable yet): the next one is a new buffer.
    this.bytes = Buffer.allocUnsafe(this.bytes.length);
    this.length = 0;
  }

  private grow(more: number): void {
    const bigger = Buffer.allocUnsafe(Math.max(2 * this.bytes.length, this.length + more));
    this.bytes.copy(bigger, 0, 0, this.length);
    this.bytes = bigger;
  }
}

// Splits a byte stream into lines without holding more than one line (plus the
// current chunk) in memory. Lines longer than `maxLine` are skipped and
// reported, so a garbage file without newlines cannot exhaust memory.

export type LineHandler = (buf: Buffer, start: number, end: number, lineNo: number) => void;

/** strace -s 1048576 prints a 1 MiB write as 4 MiB of \xNN escapes; leave room for that. */
export const DEFAULT_MAX_LINE = 16 * 1024 * 1024;

export class LineSplitter {
  private carry: Buffer[] = [];
  private carryLength = 0;
  private overlong = false;
  private lineNo = 0;

  constructor(
    private readonly onLine: LineHandler,
    private readonly onOverlong: (lineNo: number, length: number, head: string) => void = () => {},
    private readonly maxLine = DEFAULT_MAX_LINE,
  ) {}

  get lines(): number {
    return this.lineNo;
  }

  /**
   * Where the lines of the chunk being pushed are read from, at the chunk's offsets: the chunk or this splitter's copy
   * of it (a line cut by the chunk's start or end is in a buffer of its own).
   */
  chunkLines: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): void {
    if (chunk.buffer instanceof SharedArrayBuffer) chunk = this.ownCopy(chunk);
    this.chunkLines = chunk;
    let pos = 0;
    const n = chunk.length;
    if (this.carryLength > 0 || this.overlong) {
      const nl = chunk.indexOf(10);
      if (nl < 0) {
        this.keep(chunk);
        return;
      }
      this.keep(chunk.subarray(0, nl));
      this.flushCarry();
      pos = nl + 1;
    }
    const onLine = this.onLine;
    while (pos < n) {
      const nl = chunk.indexOf(10, pos);
      if (nl < 0) break;
      let end = nl;
      if (end > pos && chunk[end - 1] === 13) end--;
      onLine(chunk, pos, end, ++this.lineNo);
      pos = nl + 1;
    }
    if (pos < n) this.keep(chunk.subarray(pos));
  }

  /**
   * A chunk in shared memory (a file's, file-chunks.ts) copied into memory of this thread's own, reused: Buffer.indexOf,
   * called once per line, costs about twice as much on shared memory (0.30 against 0.16 s per GB of strace text here),
   * and the copy 0.05 s per GB.
   */
  private ownCopy(chunk: Buffer): Buffer {
    if (this.own.length < chunk.length) this.own = Buffer.allocUnsafeSlow(chunk.length);
    chunk.copy(this.own);
    return this.own.subarray(0, chunk.length);
  }
  private own = Buffer.alloc(0);

  /** End of input: the last line may lack its newline. */
  end(): void {
    if (this.carryLength > 0 || this.overlong) this.flushCarry();
  }

  private keep(part: Buffer): void {
    if (this.overlong) {
      this.carryLength += part.length;
      return;
    }
    if (this.carryLength + part.length > this.maxLine) {
      // Keep the head for the report, drop the rest.
      this.carry = [Buffer.concat([...this.carry, part]).subarray(0, 120)];
      this.overlong = true;
      this.carryLength += part.length;
      return;
    }
    this.carry.push(Buffer.from(part)); // copy: the chunk's memory may be reused by the stream
    this.carryLength += part.length;
  }

  private flushCarry(): void {
    this.lineNo++;
    if (this.overlong) {
      this.onOverlong(this.lineNo, this.carryLength, this.carry[0]?.toString('latin1') ?? '');
    } else {
      const line = this.carry.length === 1 ? this.carry[0]! : Buffer.concat(this.carry);
      let end = line.length;
      if (end > 0 && line[end - 1] === 13) end--;
      this.onLine(line, 0, end, this.lineNo);
    }
    this.carry = [];
    this.carryLength = 0;
    this.overlong = false;
  }
}

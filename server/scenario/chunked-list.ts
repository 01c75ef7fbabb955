// A list that each version of a long document makes from the one before by replacing
// a range, sharing every chunk the replacement does not touch. The language server
// keeps a 100,000-line scenario's steps, step results and diagnostics once per
// version (server/scenario/resume.ts); as flat arrays each version copied them
// whole, and on this machine a fresh 100,000-entry array costs about 5 ms of CPU
// (its 800 KB of new pages, then their collection) where issue 14 gives an edit
// 20 ms. Chunks are about √n entries, so a replacement copies O(√n) references
// (its chunk and the table of chunks) whatever the length. The chunks are never
// changed once made: a version cannot see another's edit (test/unit/chunked-list.test.ts).

/** Chunks hold about √length entries, at least this many. */
const MIN_CHUNK = 32;

export class ChunkedList<T> {
  /** Where each chunk starts; one more entry than chunks, the last the length. */
  private readonly starts: number[];

  private constructor(private readonly chunks: readonly (readonly T[])[]) {
    const starts = new Array<number>(chunks.length + 1);
    let at = 0;
    for (let i = 0; i < chunks.length; i++) {
      starts[i] = at;
      at += chunks[i]!.length;
    }
    starts[chunks.length] = at;
    this.starts = starts;
  }

  /** `items`, chunked (copied: `items` may be changed afterwards). */
  static of<T>(items: readonly T[]): ChunkedList<T> {
    return new ChunkedList(chunksOf(items, 0, items.length, chunkSize(items.length)));
  }

  get length(): number {
    return this.starts[this.chunks.length]!;
  }

  /** The entry at `i` (0 ≤ i < length). */
  at(i: number): T {
    const c = this.chunkAt(i);
    return this.chunks[c]![i - this.starts[c]!]!;
  }

  /** This list with [start, end) replaced by `middle`: the chunks outside the range are shared. */
  replaced(start: number, end: number, middle: readonly T[]): ChunkedList<T> {
    if (start === end && middle.length === 0) return this;
    const { chunks, starts } = this;
    const n = chunks.length;
    // The chunks the range touches: [first, last], or none in an empty list.
    const first = n === 0 ? 0 : this.chunkAt(Math.min(start, this.length - 1));
    const last = n === 0 ? -1 : Math.max(first, this.chunkAt(Math.max(start, Math.min(end, this.length) - 1)));
    const joined: T[] = [];
    if (n > 0) {
      const head = chunks[first]!;
      for (let i = 0; i < start - starts[first]!; i++) joined.push(head[i]!);
    }
    for (let i = 0; i < middle.length; i++) joined.push(middle[i]!);
    if (n > 0) {
      const tail = chunks[last]!;
      for (let i = end - starts[last]!; i < tail.length; i++) joined.push(tail[i]!);
    }
    const size = chunkSize(this.length - (end - start) + middle.length);
    // A chunk grown past twice its size is split again; an emptied one is left out.
    const made = joined.length > 2 * size ? chunksOf(joined, 0, joined.length, size) : joined.length > 0 ? [joined] : [];
    const out: (readonly T[])[] = chunks.slice(0, first);
    for (const c of made) out.push(c);
    for (let i = last + 1; i < n; i++) out.push(chunks[i]!);
    return new ChunkedList(out);
  }

  /** Calls `f` with the entries [from, to) in order. */
  forEach(f: (item: T) => void, from = 0, to = this.length): void {
    this.forEachChunk((chunk, first, end) => {
      for (let i = first; i < end; i++) f(chunk[i]!);
    }, from, to);
  }

  /**
   * Calls `f` with each chunk that holds entries of [from, to), in order, and the part of it
   * that does: [first, end). A chunk is never changed, so what is worked out of a whole chunk
   * may be kept by the chunk's identity (it is shared by the versions made later).
   */
  forEachChunk(f: (chunk: readonly T[], first: number, end: number) => void, from = 0, to = this.length): void {
    if (from >= to) return;
    const { chunks, starts } = this;
    for (let c = this.chunkAt(from); c < chunks.length && starts[c]! < to; c++) {
      const chunk = chunks[c]!;
      f(chunk, Math.max(0, from - starts[c]!), Math.min(chunk.length, to - starts[c]!));
    }
  }

  /** The entries [from, to) as a new array. */
  slice(from = 0, to = this.length): T[] {
    const out: T[] = [];
    this.forEach((item) => out.push(item), from, to);
    return out;
  }

  /**
   * How many entries from the start `before` holds of, in a list ordered so that it holds of
   * a prefix (a binary search: over the chunks by their first entries, then in one chunk).
   */
  countWhile(before: (item: T) => boolean): number {
    const { chunks, starts } = this;
    let lo = 0;
    let hi = chunks.length;
    // The first chunk whose first entry `before` does not hold of: the prefix ends in the one before it.
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (before(chunks[mid]![0]!)) lo = mid + 1;
      else hi = mid;
    }
    if (lo === 0) return 0;
    const chunk = chunks[lo - 1]!;
    let a = 1;
    let b = chunk.length;
    while (a < b) {
      const mid = (a + b) >> 1;
      if (before(chunk[mid]!)) a = mid + 1;
      else b = mid;
    }
    return starts[lo - 1]! + a;
  }

  /**
   * How many entries from the start are the same in both lists by `same`; a chunk shared
   * at the same place is skipped whole (the entries are the same objects).
   */
  sameHead(other: ChunkedList<T>, same: (a: T, b: T) => boolean): number {
    const max = Math.min(this.length, other.length);
    let i = 0;
    while (i < max) {
      const c = this.chunkAt(i);
      const d = other.chunkAt(i);
      if (this.chunks[c] === other.chunks[d] && this.starts[c] === i && other.starts[d] === i) {
        i = Math.min(max, this.starts[c + 1]!);
        continue;
      }
      if (!same(this.at(i), other.at(i))) break;
      i++;
    }
    return i;
  }

  /** sameHead from the ends. */
  sameTail(other: ChunkedList<T>, same: (a: T, b: T) => boolean): number {
    const max = Math.min(this.length, other.length);
    let k = 0;
    while (k < max) {
      const i = this.length - 1 - k;
      const j = other.length - 1 - k;
      const c = this.chunkAt(i);
      const d = other.chunkAt(j);
      if (this.chunks[c] === other.chunks[d] && this.starts[c + 1] === i + 1 && other.starts[d + 1] === j + 1) {
        k = Math.min(max, k + this.chunks[c]!.length);
        continue;
      }
      if (!same(this.at(i), other.at(j))) break;
      k++;
    }
    return k;
  }

  /** The chunk holding entry `i`. */
  private chunkAt(i: number): number {
    const starts = this.starts;
    let lo = 0;
    let hi = this.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= i) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}

function chunkSize(length: number): number {
  return Math.max(MIN_CHUNK, Math.ceil(Math.sqrt(length)));
}

function chunksOf<T>(items: readonly T[], from: number, to: number, size: number): T[][] {
  const out: T[][] = [];
  for (let at = from; at < to; at += size) out.push(items.slice(at, Math.min(to, at + size)));
  return out;
}

// Tables the simulator empties at almost every step: a process's descriptors at
// its last close, its mappings at its last munmap, an inode's live files at the
// last release, the writes in flight at `write W end`. V8 reallocates a Map's or
// Set's hash table when a delete leaves fewer entries than half its buckets
// (OrderedHashTable::Shrink, through a runtime call), so a table of one entry made
// empty is copied into a new one each time: in the million-step scenario some
// 600,000 times, the delete lines of close, munmap, put and writeEnd a fifth of
// `check`'s CPU profile (bench/README.md, s12-sim). Keeping the table from emptying
// (an entry of its own) only moves the cost: a table of four slots full of deleted
// entries is rehashed on the next set, through the same runtime call. Here the
// delete that empties the table lets it go and starts a new, empty Map instead,
// which V8 allocates inline, without the runtime: ten times cheaper.
//
// The one difference from a Map: an iterator made before the table emptied does not
// see what is added after. No caller adds to a table it is iterating.

/** A Map whose last delete replaces the table instead of shrinking it: the subset of Map the simulator uses. */
export class ChurnMap<K, V> implements Iterable<[K, V]> {
  private table = new Map<K, V>();

  get size(): number {
    return this.table.size;
  }

  get(key: K): V | undefined {
    return this.table.get(key);
  }

  has(key: K): boolean {
    return this.table.has(key);
  }

  set(key: K, value: V): this {
    this.table.set(key, value);
    return this;
  }

  delete(key: K): boolean {
    if (this.table.size !== 1) return this.table.delete(key);
    if (!this.table.has(key)) return false;
    this.table = new Map();
    return true;
  }

  entries(): IterableIterator<[K, V]> {
    return this.table.entries();
  }

  keys(): IterableIterator<K> {
    return this.table.keys();
  }

  values(): IterableIterator<V> {
    return this.table.values();
  }

  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.table.entries();
  }
}

/** A Set whose last delete replaces the table instead of shrinking it: a ChurnMap of each value to itself. */
export class ChurnSet<T> implements Iterable<T> {
  private readonly table = new ChurnMap<T, T>();

  get size(): number {
    return this.table.size;
  }

  has(value: T): boolean {
    return this.table.has(value);
  }

  add(value: T): this {
    this.table.set(value, value);
    return this;
  }

  delete(value: T): boolean {
    return this.table.delete(value);
  }

  values(): IterableIterator<T> {
    return this.table.keys();
  }

  [Symbol.iterator](): IterableIterator<T> {
    return this.table.keys();
  }
}

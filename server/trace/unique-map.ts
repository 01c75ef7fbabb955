// The requests in flight by `unique`: a set, a lookup and a delete for every
// request of a capture, millions of times. A Map spends most of the analysis
// time there (deleted entries pile up until it rehashes); this open-addressing
// table with backward-shift deletion keeps no tombstones, and FUSE's uniques
// (even numbers counting up) spread evenly over it.

export class UniqueMap<V> {
  private keys: Float64Array;
  private slots: Array<V | undefined>;
  private mask: number;
  private count = 0;

  constructor(capacity = 64) {
    let n = 16;
    while (n < capacity * 2) n *= 2;
    this.keys = new Float64Array(n).fill(NaN); // NaN: an empty slot (no unique is NaN)
    this.slots = new Array<V | undefined>(n).fill(undefined);
    this.mask = n - 1;
  }

  get size(): number {
    return this.count;
  }

  get(key: number): V | undefined {
    const i = this.find(key);
    return i < 0 ? undefined : this.slots[i];
  }

  /** The value of `key`, which is removed: a get and a delete in one probe (a reply takes its request). */
  take(key: number): V | undefined {
    const i = this.find(key);
    if (i < 0) return undefined;
    const value = this.slots[i];
    this.removeAt(i);
    return value;
  }

  set(key: number, value: V): void {
    if ((this.count + 1) * 2 > this.keys.length) this.grow();
    const keys = this.keys;
    for (let i = slot(key, this.mask); ; i = (i + 1) & this.mask) {
      const k = keys[i]!;
      if (k === key) {
        this.slots[i] = value;
        return;
      }
      if (k !== k) {
        keys[i] = key;
        this.slots[i] = value;
        this.count++;
        return;
      }
    }
  }

  delete(key: number): boolean {
    const i = this.find(key);
    if (i < 0) return false;
    this.removeAt(i);
    return true;
  }

  /** The slot holding `key`, or -1. */
  private find(key: number): number {
    const keys = this.keys;
    for (let i = slot(key, this.mask); ; i = (i + 1) & this.mask) {
      const k = keys[i]!;
      if (k === key) return i;
      if (k !== k) return -1;
    }
  }

  private removeAt(hole: number): void {
    const keys = this.keys;
    const mask = this.mask;
    let i = hole;
    // Backward shift: move later entries of the run into the hole when their home slot allows it.
    for (let j = (i + 1) & mask; ; j = (j + 1) & mask) {
      const k = keys[j]!;
      if (k !== k) break;
      const home = slot(k, mask);
      // Entry j may move to i if its home is not within (i, j] (cyclically).
      if (i <= j ? home <= i || home > j : home <= i && home > j) {
        keys[i] = k;
        this.slots[i] = this.slots[j];
        i = j;
      }
    }
    keys[i] = NaN;
    this.slots[i] = undefined;
    this.count--;
  }

  *entries(): IterableIterator<[number, V]> {
    for (let i = 0; i < this.keys.length; i++) {
      const k = this.keys[i]!;
      if (k === k) yield [k, this.slots[i]!];
    }
  }

  *values(): IterableIterator<V> {
    for (const [, v] of this.entries()) yield v;
  }

  private grow(): void {
    const oldEntries = [...this.entries()];
    const n = this.keys.length * 2;
    this.keys = new Float64Array(n).fill(NaN);
    this.slots = new Array<V | undefined>(n).fill(undefined);
    this.mask = n - 1;
    this.count = 0;
    for (const [k, v] of oldEntries) this.set(k, v);
  }
}

/** Home slot: uniques step by 2, so drop the low bit; `>>>` folds larger ones modulo 2^32. */
function slot(key: number, mask: number): number {
  return (key >>> 1) & mask;
}

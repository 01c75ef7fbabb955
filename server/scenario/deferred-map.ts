// Tables written at every step and read only on a rare path: the simulator records each
// handle name opened or failed, and looks a name up only when a step uses a handle its
// process does not hold. A scenario as long as a capture opens hundreds of thousands of
// names, and a hash table that size misses the CPU's caches on every update: in a
// 1,000,000-step scenario the updates of two such tables were a tenth of the CPU time
// (issue 14). Here the updates are logged and applied when the table is read, so a table
// that is never read costs an array push per update.

const DELETED: unique symbol = Symbol('deleted');

/**
 * Updates per array of the log. One array of them all was copied whole each time it grew:
 * in a 1,000,000-step scenario it reached 700,000 entries, and its copies were a sixth of
 * the fresh memory (page faults) of `fuselens check`.
 */
const LOG_CHUNK = 4096;

/** Keys of the applied updates kept in the newest table before it is frozen as a level. */
const LEVEL_KEYS = 1024;

type LogEntry<V> = string | V | typeof DELETED;

/**
 * Applied updates, frozen: never changed again, so the copies of the simulator's state
 * (object-graph.ts, at resume.ts's checkpoints) share them instead of copying them, and
 * compare them at no cost. `rank`: it merged 2^rank levels of LEVEL_KEYS keys.
 */
interface Level<V> {
  readonly map: ReadonlyMap<string, V | typeof DELETED>;
  readonly rank: number;
}

/**
 * A Map<string, V> whose set and delete are applied when it is next read (V never
 * undefined). The applied updates are kept as a few frozen levels and a small table of the
 * newest (a log-structured merge): a checkpoint of a state that has used hundreds of
 * thousands of names copies at most LEVEL_KEYS of them, where copying the whole map made
 * 64,000 of the 66,000 values that a checkpoint of the 100,000-line scenario copied, and
 * kept its checkpoints 6,000 steps apart (issue 14). A read looks in each level, newest
 * first: a few look-ups on a rare path.
 */
export class DeferredMap<V> {
  /** Key, then value or DELETED, in the order given: the full arrays of LOG_CHUNK updates (frozen), then `log`. */
  private full: (readonly LogEntry<V>[])[] = [];
  private log: LogEntry<V>[] = [];
  /** The newest applied updates, a deletion as DELETED. */
  private newest = new Map<string, V | typeof DELETED>();
  /** The older ones, oldest first, ranks decreasing. */
  private levels: Level<V>[] = [];

  set(key: string, value: V): void {
    this.logUpdate(key, value);
  }

  delete(key: string): void {
    this.logUpdate(key, DELETED);
  }

  private logUpdate(key: string, value: V | typeof DELETED): void {
    if (this.log.length >= 2 * LOG_CHUNK) {
      this.full.push(Object.freeze(this.log));
      this.log = [];
    }
    this.log.push(key, value);
  }

  get(key: string): V | undefined {
    this.apply();
    const value = this.applied(key);
    return value === DELETED ? undefined : value;
  }

  /** The last applied update of `key` (undefined: none). */
  private applied(key: string): V | typeof DELETED | undefined {
    let value = this.newest.get(key);
    for (let i = this.levels.length - 1; value === undefined && i >= 0; i--) value = this.levels[i]!.map.get(key);
    return value;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  private apply(): void {
    if (this.log.length === 0) return;
    for (const log of this.full) this.applyLog(log);
    this.applyLog(this.log);
    this.full = [];
    this.log = [];
  }

  private applyLog(log: readonly LogEntry<V>[]): void {
    for (let i = 0; i < log.length; i += 2) {
      const key = log[i] as string;
      const value = log[i + 1] as V | typeof DELETED;
      // A deletion of a key that is not there is nothing to remember (the simulator deletes every
      // name it opens from the failed ones: a marker each would be copied by every merge).
      if (value === DELETED && (this.applied(key) ?? DELETED) === DELETED) continue;
      this.newest.set(key, value);
      if (this.newest.size >= LEVEL_KEYS) this.freezeNewest();
    }
  }

  /** The newest updates become a level; two levels of a rank merge into one of the next (as a binary counter carries). */
  private freezeNewest(): void {
    const levels = this.levels;
    levels.push(Object.freeze({ map: this.newest, rank: 0 }));
    this.newest = new Map();
    while (levels.length >= 2 && levels[levels.length - 1]!.rank === levels[levels.length - 2]!.rank) {
      const newer = levels.pop()!;
      const older = levels.pop()!;
      const map = new Map(older.map);
      // The oldest level has nothing below it to hide: its deletions are dropped.
      for (const [k, v] of newer.map) if (v !== DELETED || levels.length > 0) map.set(k, v);
      else map.delete(k);
      levels.push(Object.freeze({ map, rank: older.rank + 1 }));
    }
  }
}

/** A Set<string> whose add and delete are applied when it is next read. */
export class DeferredSet {
  private readonly map = new DeferredMap<true>();

  add(key: string): void {
    this.map.set(key, true);
  }

  delete(key: string): void {
    this.map.delete(key);
  }

  has(key: string): boolean {
    return this.map.has(key);
  }
}

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

type LogEntry<V> = string | V | typeof DELETED;

/** A Map<string, V> whose set and delete are applied when it is next read. */
export class DeferredMap<V> {
  private readonly map = new Map<string, V>();
  /** Key, then value or DELETED, in the order given: the full arrays of LOG_CHUNK updates, then `log`. */
  private full: LogEntry<V>[][] = [];
  private log: LogEntry<V>[] = [];

  set(key: string, value: V): void {
    this.logUpdate(key, value);
  }

  delete(key: string): void {
    this.logUpdate(key, DELETED);
  }

  private logUpdate(key: string, value: V | typeof DELETED): void {
    if (this.log.length >= 2 * LOG_CHUNK) {
      this.full.push(this.log);
      this.log = [];
    }
    this.log.push(key, value);
  }

  get(key: string): V | undefined {
    this.apply();
    return this.map.get(key);
  }

  has(key: string): boolean {
    this.apply();
    return this.map.has(key);
  }

  private apply(): void {
    if (this.log.length === 0) return;
    for (const log of this.full) this.applyLog(log);
    this.applyLog(this.log);
    this.full = [];
    this.log = [];
  }

  private applyLog(log: LogEntry<V>[]): void {
    for (let i = 0; i < log.length; i += 2) {
      const key = log[i] as string;
      const value = log[i + 1]!;
      if (value === DELETED) this.map.delete(key);
      else this.map.set(key, value as V);
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

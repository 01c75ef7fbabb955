// Tables written at every step and read only on a rare path: the simulator records each
// handle name opened or failed, and looks a name up only when a step uses a handle its
// process does not hold. A scenario as long as a capture opens hundreds of thousands of
// names, and a hash table that size misses the CPU's caches on every update: in a
// 1,000,000-step scenario the updates of two such tables were a tenth of the CPU time
// (issue 14). Here the updates are logged and applied when the table is read, so a table
// that is never read costs an array push per update.

const DELETED: unique symbol = Symbol('deleted');

/** A Map<string, V> whose set and delete are applied when it is next read. */
export class DeferredMap<V> {
  private readonly map = new Map<string, V>();
  /** Key, then value or DELETED, in the order given. */
  private log: (string | V | typeof DELETED)[] = [];

  set(key: string, value: V): void {
    this.log.push(key, value);
  }

  delete(key: string): void {
    this.log.push(key, DELETED);
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
    const log = this.log;
    if (log.length === 0) return;
    for (let i = 0; i < log.length; i += 2) {
      const key = log[i] as string;
      const value = log[i + 1]!;
      if (value === DELETED) this.map.delete(key);
      else this.map.set(key, value as V);
    }
    this.log = [];
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

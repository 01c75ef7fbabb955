// Copying and comparing an object graph whatever its shape: the simulator's
// state between two steps (resume.ts keeps copies of it as checkpoints and
// compares a re-simulated state with the one it replaced). Generic on purpose:
// state a new statement adds to the simulator is copied and compared without
// anyone listing it here. Objects keep their prototype, Maps, Sets and arrays
// their order, and shared references and cycles stay shared and cyclic.

/**
 * Objects that are not part of the state but plumbing around it (where steps and
 * diagnostics go): in a copy each is replaced by its counterpart, and a comparison
 * takes the two for equal.
 */
export type Counterparts = ReadonlyMap<unknown, unknown>;

function primitive(v: unknown): v is string | number | boolean | bigint | symbol | null | undefined {
  return (typeof v !== 'object' && typeof v !== 'function') || v === null;
}

/** A function in the state (a sleeping call's continuation) cannot be copied: the state is taken later. */
class NotCopyable extends Error {}

/**
 * A deep copy of `root` and how many values it copied (its cost), or null when the
 * graph holds a function other than the counterparts (a closure cannot be copied:
 * it would still act on the original).
 * Frozen objects are immutable and shared.
 */
export function copyGraph<T>(root: T, counterparts: Counterparts): { copy: T; size: number } | null {
  const copies = new Map<unknown, unknown>(counterparts);
  let size = 0;
  const copy = (v: unknown): unknown => {
    size++;
    if (typeof v === 'function') {
      if (copies.has(v)) return copies.get(v);
      throw new NotCopyable();
    }
    if (typeof v !== 'object' || v === null || Object.isFrozen(v)) return v;
    if (copies.has(v)) return copies.get(v);
    if (v instanceof Map) {
      const out = new Map();
      copies.set(v, out);
      for (const [k, x] of v) out.set(copy(k), copy(x));
      return out;
    }
    if (v instanceof Set) {
      const out = new Set();
      copies.set(v, out);
      for (const x of v) out.add(copy(x));
      return out;
    }
    if (Array.isArray(v)) {
      const out: unknown[] = new Array(v.length);
      copies.set(v, out);
      for (let i = 0; i < v.length; i++) out[i] = copy(v[i]);
      return out;
    }
    const out = Object.create(Object.getPrototypeOf(v) as object | null) as Record<string, unknown>;
    copies.set(v, out);
    for (const k of Object.keys(v)) out[k] = copy((v as Record<string, unknown>)[k]);
    return out;
  };
  try {
    return { copy: copy(root) as T, size };
  } catch (err) {
    if (err instanceof NotCopyable) return null;
    throw err;
  }
}

/**
 * Whether two graphs are the same state: the same shape and values, entries in the
 * same order (iteration order decides what the simulator does next), and sharing
 * alike (an object reached twice in one is one object reached twice in the other).
 */
export function sameGraph(a: unknown, b: unknown, counterparts: Counterparts): boolean {
  const paired = new Map<unknown, unknown>(counterparts);
  const same = (x: unknown, y: unknown): boolean => {
    if (primitive(x)) return Object.is(x, y);
    if (paired.has(x)) return paired.get(x) === y;
    if (typeof x === 'function' || typeof y !== 'object' || y === null) return x === y;
    if (x === y && Object.isFrozen(x)) return true;
    if (Object.getPrototypeOf(x) !== Object.getPrototypeOf(y)) return false;
    paired.set(x, y);
    if (Array.isArray(x)) {
      const ya = y as unknown[];
      if (x.length !== ya.length) return false;
      for (let i = 0; i < x.length; i++) if (!same(x[i], ya[i])) return false;
      return true;
    }
    if (x instanceof Map) {
      const ym = y as Map<unknown, unknown>;
      if (x.size !== ym.size) return false;
      const yi = ym.entries();
      for (const [k, v] of x) {
        const [k2, v2] = yi.next().value as [unknown, unknown];
        if (!(k === k2 && primitive(k)) && !same(k, k2)) return false;
        if (!(v === v2 && primitive(v)) && !same(v, v2)) return false;
      }
      return true;
    }
    if (x instanceof Set) {
      const ys = y as Set<unknown>;
      if (x.size !== ys.size) return false;
      const yi = ys.values();
      for (const v of x) {
        const w = yi.next().value;
        if (!(v === w && primitive(v)) && !same(v, w)) return false;
      }
      return true;
    }
    const xk = Object.keys(x);
    const yk = Object.keys(y);
    if (xk.length !== yk.length) return false;
    for (let i = 0; i < xk.length; i++) {
      const k = xk[i]!;
      if (k !== yk[i] || !same((x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k])) return false;
    }
    return true;
  };
  return same(a, b);
}

// A 64-bit unsigned value as it travels in JSON (docs/cli-json.md): inode
// numbers, and on the trace side FUSE node ids, file handles and uniques. The
// kernel prints them as `%lu`/`%llu`; a JSON number (an IEEE double) holds only
// integers up to 2^53 - 1 exactly, and servers such as rclone hand out inode
// numbers that are 64-bit hashes (5878266001153151637 would become
// 5878266001153152000). So a value is a number while it is a safe integer —
// what every consumer of small values already reads — and its decimal string
// above that. Each value has one form, so `===` and Map keys work on U64s made
// by toU64; order them with compareU64. `String(v)` is its decimal text.

export type U64 = number | string;

const MAX_U64 = (1n << 64n) - 1n;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * The U64 of a bigint, a decimal string (as /proc prints it) or a number; undefined
 * when it is not an unsigned 64-bit integer — or is a number beyond 2^53 - 1, which
 * has already lost its low digits.
 */
export function toU64(value: bigint | string | number): U64 | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  if (typeof value === 'string') {
    if (!/^\d{1,20}$/.test(value)) return undefined;
    // 15 digits are below 2^53: exact as a number, without a bigint per value (a scan reads thousands).
    if (value.length <= 15) return Number(value);
  }
  const n = BigInt(value);
  if (n < 0n || n > MAX_U64) return undefined;
  return n <= MAX_SAFE ? Number(n) : n.toString();
}

/** Numeric order of two U64s (negative, 0, positive), exact at every size. */
export function compareU64(a: U64, b: U64): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

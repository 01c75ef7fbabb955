// Field readers shared by the request and reply decoders (not exported from the module).

/** A u64 field as a JS number (exact below 2^53). */
export const u64 = (b: Buffer, off: number): number => Number(b.readBigUInt64LE(off));

/** A NUL-terminated string field (names in LOOKUP, CREATE, ...). */
export function cstring(b: Buffer, off: number): string {
  const end = b.indexOf(0, off);
  return b.toString('utf8', off, end < 0 ? b.length : end);
}

// Field readers shared by the request and reply decoders (not exported from the module).

import { toU64, type U64 } from '../../protocol/u64';
import { decodeName } from '../../protocol/byte-names';

/** A u64 field as a JS number (exact below 2^53): sizes and offsets. */
export const u64 = (b: Buffer, off: number): number => Number(b.readBigUInt64LE(off));

/** A u64 field that names something (a file handle): exact at every size, as the wire carries 64-bit values (protocol/u64.ts). */
export const u64Id = (b: Buffer, off: number): U64 => toU64(b.readBigUInt64LE(off))!;

/** A NUL-terminated string field (names in LOOKUP, CREATE, ...): bytes, so decoded keeping any that are not UTF-8. */
export function cstring(b: Buffer, off: number): string {
  const end = b.indexOf(0, off);
  return decodeName(b.subarray(off, end < 0 ? b.length : end));
}

// Field readers shared by the request and reply decoders, and by the trace readers that decode the same fields.

import { toU64, type U64 } from '../../protocol/u64';
import { decodeName } from '../../protocol/byte-names';

/**
 * A u64 field as a JS number (exact below 2^53): sizes and offsets. Read as two 32-bit halves, not through a bigint
 * (the strace reader decodes millions of headers): hi * 2^32 is exact and the one addition rounds as Number(bigint) does.
 */
export const u64 = (b: Buffer, off: number): number => u32(b, off + 4) * 0x1_0000_0000 + u32(b, off);

/** A DataView of the whole of a buffer, made again only when asked about another buffer than the last one. */
export class ViewOf {
  private of: Buffer | null = null;
  private view: DataView | null = null;
  get(b: Buffer): DataView {
    if (b !== this.of) {
      this.of = b;
      this.view = new DataView(b.buffer, b.byteOffset, b.length);
    }
    return this.view!;
  }
}

/**
 * The decoders' 32-bit fields, through a DataView of the buffer they read (kept while they read the same one): one load
 * per field, where Buffer.readUInt32LE reads four bytes and checks them — the strace reader decodes millions of
 * messages from one buffer. Out of bounds is a RangeError either way.
 */
const fields = new ViewOf();
export const u32 = (b: Buffer, off: number): number => fields.get(b).getUint32(off, true);
export const i32 = (b: Buffer, off: number): number => fields.get(b).getInt32(off, true);

/** A u64 field that names something (a file handle): exact at every size, as the wire carries 64-bit values (protocol/u64.ts). */
export function u64Id(b: Buffer, off: number): U64 {
  const hi = u32(b, off + 4);
  // Below 2^53 (hi < 2^21) the number is the U64 toU64 gives; above it, the decimal string through a bigint.
  return hi < 0x20_0000 ? hi * 0x1_0000_0000 + u32(b, off) : toU64(b.readBigUInt64LE(off))!;
}

/**
 * A u64 field kept as its two 32-bit halves and written as its decimal digits only when asked (text, JSON): for a field
 * the decoders carry and nothing compares, the lock owner of FLUSH and RELEASE. fuse_lock_owner_id scrambles a pointer,
 * so nearly every value is beyond 2^53, and a bigint per message (read through Buffer.readBigUInt64LE) cost the strace
 * reading a few percent of its main thread.
 */
export class U64Halves {
  constructor(
    readonly hi: number,
    readonly lo: number,
  ) {}

  /** The decimal digits, as a bigint of the field prints them. */
  toString(): string {
    return ((BigInt(this.hi) << 32n) | BigInt(this.lo)).toString();
  }

  toJSON(): string {
    return this.toString();
  }
}

/** The u64 at `off` as its halves (bounds checked as a 64-bit read: the field's last byte first). */
export const u64Halves = (b: Buffer, off: number): U64Halves => new U64Halves(u32(b, off + 4), u32(b, off));

/**
 * A NUL-terminated string field (names in LOOKUP, CREATE, ...) at `off`, in the body that ends at `end` (without a NUL,
 * the string ends there): bytes, so decoded keeping any that are not UTF-8.
 */
export function cstring(b: Buffer, off: number, end = b.length): string {
  const nul = b.indexOf(0, off);
  return decodeName(b.subarray(off, nul < 0 || nul > end ? end : nul));
}

/**
 * A body of `room` bytes shorter than the `bytes` of fixed fields its struct has: RangeError, thrown before they are
 * read, as a read past the end of a view of the body would throw (the decoders read bodies where they are, without one).
 */
export function needBytes(room: number, bytes: number): void {
  if (room < bytes) throw new RangeError(`a body of ${Math.max(0, room)} bytes is shorter than the ${bytes} its struct needs`);
}

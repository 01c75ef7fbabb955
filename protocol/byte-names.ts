// Names that come from the kernel — paths, comm names, mountpoints — are bytes, not
// text: whoever creates a file or names a process may put any byte but NUL (and '/'
// in a component) in it. UTF-8 decoding with replacement would turn every invalid
// byte into U+FFFD and lose which byte it was, so two different files could read
// the same. Instead each byte that is not part of valid UTF-8 travels as a lone
// low surrogate U+DC80–U+DCFF (Python's "surrogateescape", PEP 383): the string is
// still one JS string, JSON.stringify writes it as "\udcNN" (well-formed
// JSON.stringify, ES2019), JSON.parse gives it back, and every renderer shows it as
// `\xNN` (see nameByteOf). Valid UTF-8 decodes as usual.

const LOW = 0xdc00;

/** `bytes` decoded as UTF-8, each invalid byte kept as U+DC00+byte. */
export function decodeName(bytes: Uint8Array): string {
  const plain = utf8.decode(bytes);
  if (!plain.includes('\ufffd')) return plain;
  // Rare path: walk the bytes and keep every sequence that is valid UTF-8.
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const len = sequenceLength(bytes, i);
    if (len === 0) {
      out += String.fromCharCode(LOW + (bytes[i] ?? 0));
      i += 1;
    } else {
      out += utf8.decode(bytes.subarray(i, i + len));
      i += len;
    }
  }
  return out;
}

/** The byte a lone surrogate of decodeName stands for, or undefined for any other character. */
export function nameByteOf(c: string): number | undefined {
  const n = c.charCodeAt(0);
  return c.length === 1 && n >= LOW + 0x80 && n <= LOW + 0xff ? n - LOW : undefined;
}

const utf8 = new TextDecoder('utf-8');

/** Length of the well-formed UTF-8 sequence at `i` (RFC 3629 table), 0 if there is none. */
function sequenceLength(b: Uint8Array, i: number): number {
  const c = b[i] ?? 0;
  if (c < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf) => i + k < b.length && (b[i + k] ?? 0) >= lo && (b[i + k] ?? 0) <= hi;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c === 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if ((c >= 0xe1 && c <= 0xec) || c === 0xee || c === 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (c === 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0; // no UTF-16 surrogates in UTF-8
  if (c === 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xf1 && c <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c === 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

/** decodeName's inverse: the bytes a name stands for (each U+DC80–DCFF back to its byte). */
export function encodeName(name: string): Uint8Array {
  const out: number[] = [];
  for (const c of name) {
    const byte = nameByteOf(c);
    if (byte !== undefined) out.push(byte);
    else for (const b of utf8Encoder.encode(c)) out.push(b);
  }
  return Uint8Array.from(out);
}

const utf8Encoder = new TextEncoder();

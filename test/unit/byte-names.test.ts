import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeName, nameByteOf } from '../../protocol/byte-names';
import { termText, jsonText } from '../../server/cli/terminal-text';

const bytes = (...b: number[]) => Uint8Array.from(b);

test('valid UTF-8 decodes as usual, U+FFFD included', () => {
  const s = 'dätä-\ufffd-😀';
  assert.equal(decodeName(new TextEncoder().encode(s)), s);
});

test('each invalid byte is kept, distinguishably, and renders as \\xNN', () => {
  // "a" 0xff "b", a lone continuation byte, a truncated 3-byte sequence, an overlong '/', an encoded surrogate
  const cases: Array<[Uint8Array, string]> = [
    [bytes(0x61, 0xff, 0x62), 'a\\xffb'],
    [bytes(0x80), '\\x80'],
    [bytes(0xe2, 0x82), '\\xe2\\x82'],
    [bytes(0xc0, 0xaf), '\\xc0\\xaf'],
    [bytes(0xed, 0xa0, 0x80), '\\xed\\xa0\\x80'],
    [bytes(0xe2, 0x82, 0xac, 0xfe), '€\\xfe'],
  ];
  for (const [input, shown] of cases) {
    const name = decodeName(input);
    assert.equal(termText(name), shown);
  }
  assert.notEqual(decodeName(bytes(0xfe)), decodeName(bytes(0xff)));
});

test('a decoded name survives a JSON round trip exactly', () => {
  const name = decodeName(bytes(0x2f, 0x6d, 0xff, 0x0a, 0x1b));
  const back = JSON.parse(jsonText({ name })).name as string;
  assert.equal(back, name);
  assert.deepEqual([...back].map((c) => nameByteOf(c)).filter((b) => b !== undefined), [0xff]);
});

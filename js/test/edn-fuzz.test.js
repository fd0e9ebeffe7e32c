// Seeded random tests of the EDN reader and printer.
import assert from 'node:assert/strict';
import test from 'node:test';

import { Char, EdnError, List, Tagged, UUID, jsonPacker, kw, printEdn, readEdn, sym } from '../src/index.js';

/** A small seeded generator (mulberry32), so failures reproduce. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = '[]{}()#_:;\\"abcxyz019 ./NM^@~`\',-+\nEe';

test('arbitrary EDN-like text reads or fails with an EdnError, never anything else', () => {
  const r = rng(1);
  for (let i = 0; i < 20000; i++) {
    const len = Math.floor(r() * 40);
    let s = '';
    for (let j = 0; j < len; j++) s += ALPHABET[Math.floor(r() * ALPHABET.length)];
    try {
      readEdn(s);
    } catch (e) {
      assert.ok(e instanceof EdnError, `${JSON.stringify(s)} threw ${e}`);
    }
  }
});

function genValue(r, depth) {
  const pick = (xs) => xs[Math.floor(r() * xs.length)];
  const scalar = () =>
    pick([
      () => null,
      () => r() < 0.5,
      () => Math.floor((r() - 0.5) * 2 ** 40),
      () => (r() - 0.5) * 10 ** Math.floor(r() * 30 - 15),
      () => BigInt(Math.floor(r() * 1e9)) * 10n ** 12n,
      () => pick(['', 'hi', 'q"uote', 'back\\slash', 'new\nline', 'tab\t', 'é😀', '\u0001']),
      () => kw(pick(['a', 'ns/b', 'chsk/state', 'x.y/z?'])),
      () => sym(pick(['s', 'my.ns/f', '+', '/'])),
      () => new Char(pick(['a', '\n', ' ', 'é', '😀', '\\'])),
      () => new UUID('0b4c7e0e-4d2a-4a4e-9b8f-3f1d0f3d2a11'),
      () => new Date(Math.floor(r() * 4e12)),
      () => new Uint8Array([1, 2, Math.floor(r() * 256)]),
    ])();
  if (depth >= 4 || r() < 0.4) return scalar();
  const items = () => Array.from({ length: Math.floor(r() * 4) }, () => genValue(r, depth + 1));
  return pick([
    () => items(),
    () => List.from(items()),
    () => new Set(items()),
    () => new Map(items().map((v, i) => [kw(`k${i}`), v])),
    () => new Tagged('my/tag', genValue(r, depth + 1)),
  ])();
}

test('random values print, read back and print identically', () => {
  const r = rng(7);
  for (let i = 0; i < 3000; i++) {
    const v = genValue(r, 0);
    const text = printEdn(v);
    const again = printEdn(readEdn(text));
    assert.equal(again, text);
  }
});

test('random values pack as JSON that parses', () => {
  const r = rng(11);
  const p = jsonPacker();
  for (let i = 0; i < 2000; i++) {
    const v = genValue(r, 0);
    let packed;
    try {
      packed = p.pack(v);
    } catch (e) {
      // Only duplicate key texts can fail here (the generator makes no NaN).
      assert.match(e.message, /same JSON text/);
      continue;
    }
    assert.doesNotThrow(() => JSON.parse(packed), packed);
  }
});

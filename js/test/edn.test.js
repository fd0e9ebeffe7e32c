import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import test from 'node:test';

import { Char, EdnError, Keyword, List, Sym, Tagged, UUID, kw, printEdn, readEdn, sym } from '../src/index.js';

const fixture = JSON.parse(readFileSync(new URL('./fixtures/transcript-messages.json', import.meta.url), 'utf8'));

test('every EDN message of the reference transcripts reads and prints back byte-identical', () => {
  assert.ok(fixture.length >= 50, 'the fixture lists the transcript messages');
  for (const { edn, where } of fixture) {
    const value = readEdn(edn);
    assert.ok(Array.isArray(value), `${where}: ${edn} is a wrapper vector`);
    assert.equal(printEdn(value), edn, `${where}: ${edn}`);
  }
});

test('transcript messages read as the expected values', () => {
  const [payload, cb] = readEdn('[[:chsk/handshake ["ws-cid-1" nil nil]] nil]');
  assert.equal(payload[0], kw('chsk/handshake'));
  assert.deepEqual(payload[1], ['ws-cid-1', null, null]);
  assert.equal(cb, null);

  const [reply, token] = readEdn('[{:ws 1, :ajax 0, :any 1} "67cf1d"]');
  assert.ok(reply instanceof Map);
  assert.deepEqual([...reply], [[kw('ws'), 1], [kw('ajax'), 0], [kw('any'), 1]]);
  assert.equal(token, '67cf1d');
  assert.equal(readEdn('["pong" "p1ng00"]')[0], 'pong');
});

test('keywords and symbols are interned and split into namespace and name', () => {
  const k = readEdn(':chsk/state');
  assert.ok(k instanceof Keyword);
  assert.equal(k, kw('chsk/state'));
  assert.equal(kw(':chsk/state'), k);
  assert.equal(k.namespace, 'chsk');
  assert.equal(k.name, 'state');
  assert.equal(String(k), ':chsk/state');
  assert.equal(kw('a').namespace, null);
  assert.equal(readEdn('foo.bar/baz'), sym('foo.bar/baz'));
  assert.ok(readEdn('/') instanceof Sym);
  assert.equal(JSON.stringify([kw('a/b'), sym('c')]), '["a/b","c"]');
  assert.throws(() => new Keyword('x'), TypeError);
});

test('collections: vectors are arrays, lists are Lists, maps are Maps, sets are Sets', () => {
  const v = readEdn('[1 (2 3) {:a [4]} #{5 6}]');
  assert.ok(Array.isArray(v) && !(v instanceof List));
  assert.ok(v[1] instanceof List);
  assert.deepEqual([...v[1]], [2, 3]);
  assert.ok(v[2] instanceof Map);
  assert.deepEqual(v[2].get(kw('a')), [4]);
  assert.ok(v[3] instanceof Set);
  assert.deepEqual([...v[3]], [5, 6]);
  assert.equal(printEdn(v), '[1 (2 3) {:a [4]} #{5 6}]');
  assert.equal(printEdn(List.of(1, 2)), '(1 2)');
  assert.equal(printEdn(new List()), '()');
  assert.equal(printEdn(new Map([[1, 'x'], ['k', null]])), '{1 "x", "k" nil}');
  assert.equal(printEdn(new Map()), '{}');
  assert.equal(printEdn(new Set()), '#{}');
});

test('whitespace, commas, comments and #_ discards are skipped', () => {
  assert.deepEqual(readEdn(' ,[1,2 ; a comment\n #_ [3 4] 5] ; end'), [1, 2, 5]);
  assert.deepEqual(readEdn('#_#_ 1 2 [3]'), [3]);
  assert.equal(readEdn(''), null);
  assert.equal(readEdn('  ; only a comment'), null);
  assert.deepEqual([...readEdn('{:a 1,, :b 2}')], [[kw('a'), 1], [kw('b'), 2]]);
});

test('scalars: nil, booleans, strings with escapes, characters', () => {
  assert.deepEqual(readEdn('[nil true false]'), [null, true, false]);
  assert.equal(readEdn('"a\\"b\\\\c\\n\\t\\r\\f\\b\\u00e9\\101"'), 'a"b\\c\n\t\r\f\bé\u0041');
  assert.equal(readEdn('"\\ud83d\\ude00"'), '😀');
  assert.equal(readEdn('"😀 raw"'), '😀 raw');
  const chars = readEdn('[\\a \\newline \\space \\tab \\backspace \\formfeed \\return \\u00e9 \\o101 \\😀 \\\\ \\(]');
  assert.ok(chars.every((c) => c instanceof Char));
  assert.deepEqual(chars.map((c) => c.value), ['a', '\n', ' ', '\t', '\b', '\f', '\r', 'é', 'A', '😀', '\\', '(']);
  assert.equal(printEdn(chars), '[\\a \\newline \\space \\tab \\backspace \\formfeed \\return \\é \\A \\😀 \\\\ \\(]');
  assert.equal(printEdn(new Char('\u0001')), '\\u0001');
  assert.equal(printEdn('q"b\\s\n\t\r\f\b\u0001é'), '"q\\"b\\\\s\\n\\t\\r\\f\\b\\u0001é"');
});

test('integers are numbers up to 2^53 and BigInts beyond; N and M suffixes, ratios, radixes', () => {
  assert.equal(readEdn('42'), 42);
  assert.equal(readEdn('-7'), -7);
  assert.equal(readEdn('+7'), 7);
  assert.equal(readEdn('9007199254740991'), Number.MAX_SAFE_INTEGER);
  assert.equal(readEdn('9007199254740993'), 9007199254740993n);
  assert.equal(readEdn('-99999999999999999999'), -99999999999999999999n);
  assert.equal(readEdn('123N'), 123);
  assert.equal(readEdn('123456789012345678901234567890N'), 123456789012345678901234567890n);
  assert.equal(readEdn('1.5M'), 1.5);
  assert.equal(readEdn('2M'), 2);
  assert.equal(readEdn('1/2'), 0.5);
  assert.equal(readEdn('-6/3'), -2);
  assert.equal(readEdn('0x1F'), 31);
  assert.equal(readEdn('-0X1f'), -31);
  assert.equal(readEdn('017'), 15);
  assert.equal(readEdn('2r101'), 5);
  assert.equal(readEdn('36rZZ'), 1295);
  assert.equal(readEdn('0'), 0);
  assert.deepEqual(readEdn('[1.5 -2.25e3 1e-3 1. ##Inf ##-Inf]'), [1.5, -2250, 0.001, 1, Infinity, -Infinity]);
  assert.ok(Number.isNaN(readEdn('##NaN')));
  for (const bad of ['09', '1/0', '1.2.3', '0x', '37r1', '1e', '12abc']) {
    assert.throws(() => readEdn(bad), EdnError, bad);
  }
});

test('numbers print as Clojure prints them', () => {
  const cases = [
    [0, '0'],
    [-0, '0'],
    [42, '42'],
    [-42, '-42'],
    [1.0, '1'],
    [1e15, '1000000000000000'],
    [2 ** 60, '1152921504606846976'],
    [2 ** 63, '9.223372036854776E18'],
    [1e21, '1.0E21'],
    [1.5, '1.5'],
    [-2.5, '-2.5'],
    [0.1, '0.1'],
    [0.1 + 0.2, '0.30000000000000004'],
    [0.001, '0.001'],
    [0.0001, '1.0E-4'],
    [1234567.5, '1234567.5'],
    [12345678.5, '1.23456785E7'],
    [1.5e300, '1.5E300'],
    [-1.25e-7, '-1.25E-7'],
    [2.5e-300, '2.5E-300'],
    [Infinity, '##Inf'],
    [-Infinity, '##-Inf'],
    [NaN, '##NaN'],
    [12n, '12'],
    [-(2n ** 63n), '-9223372036854775808'],
    [2n ** 63n, '9223372036854775808N'],
  ];
  for (const [n, text] of cases) assert.equal(printEdn(n), text, String(n));
  for (const [, text] of cases.filter(([n]) => typeof n === 'number' && !Number.isInteger(n) && Number.isFinite(n))) {
    assert.equal(printEdn(readEdn(text)), text, `${text} round-trips`);
  }
});

test('#uuid, #inst, #sente/bytes and unknown tags', () => {
  const u = readEdn('#uuid "0B4C7E0E-4D2A-4A4E-9B8F-3F1D0F3D2A11"');
  assert.ok(u instanceof UUID);
  assert.equal(u.value, '0b4c7e0e-4d2a-4a4e-9b8f-3f1d0f3d2a11');
  assert.equal(printEdn(u), '#uuid "0b4c7e0e-4d2a-4a4e-9b8f-3f1d0f3d2a11"');
  assert.throws(() => readEdn('#uuid "nope"'), EdnError);
  assert.throws(() => readEdn('#uuid 1'), EdnError);

  const inst = readEdn('#inst "2024-01-01T00:00:00.000-00:00"');
  assert.ok(inst instanceof Date);
  assert.equal(inst.getTime(), Date.UTC(2024, 0, 1));
  assert.equal(printEdn(inst), '#inst "2024-01-01T00:00:00.000-00:00"');
  assert.equal(readEdn('#inst "2024-06-30T23:59:59.123456789+02:00"').toISOString(), '2024-06-30T21:59:59.123Z');
  assert.equal(readEdn('#inst "2024"').toISOString(), '2024-01-01T00:00:00.000Z');
  assert.equal(readEdn('#inst "2024-02-29T10:00Z"').toISOString(), '2024-02-29T10:00:00.000Z');
  assert.equal(printEdn(new Date(Date.UTC(2024, 4, 6, 7, 8, 9, 10))), '#inst "2024-05-06T07:08:09.010-00:00"');
  for (const bad of ['"2023-02-29"', '"2024-13-01"', '"yesterday"', '42']) {
    assert.throws(() => readEdn(`#inst ${bad}`), EdnError, bad);
  }
  assert.throws(() => printEdn(new Date(NaN)), EdnError);

  const bytes = readEdn('#sente/bytes "AAEC/w=="');
  assert.deepEqual(bytes, new Uint8Array([0, 1, 2, 255]));
  assert.equal(printEdn(bytes), '#sente/bytes "AAEC/w=="');
  assert.equal(printEdn(new Uint8Array([])), '#sente/bytes ""');
  assert.throws(() => readEdn('#sente/bytes "A"'), EdnError);

  const t = readEdn('#my.app/point [1 2]');
  assert.ok(t instanceof Tagged);
  assert.equal(t.tag, 'my.app/point');
  assert.deepEqual(t.value, [1, 2]);
  assert.equal(printEdn(t), '#my.app/point [1 2]');
});

test('namespaced maps qualify their keys', () => {
  const m = readEdn('#:user{:id 1, :_/plain 2, :other/x 3}');
  assert.deepEqual([...m.keys()], [kw('user/id'), kw('plain'), kw('other/x')]);
});

test('plain objects and undefined print as EDN', () => {
  assert.equal(printEdn({ a: 1, 'b/c': [true], 'not a keyword': null, n: undefined }), '{:a 1, :b/c [true], "not a keyword" nil, :n nil}');
  assert.equal(printEdn(Object.assign(Object.create(null), { x: 'y' })), '{:x "y"}');
});

test('a rich value round-trips', () => {
  const text =
    '{:id #uuid "0b4c7e0e-4d2a-4a4e-9b8f-3f1d0f3d2a11", :at #inst "1999-12-31T23:59:59.999-00:00", ' +
    ':tags #{:a :b/c}, :list (1 "two" \\3), :nested [{[1 2] sym} nil], :big 18446744073709551616N, ' +
    ':f -0.5, :e 6.02E23, :t #x/y {:z 1}}';
  assert.equal(printEdn(readEdn(text)), text);
});

test('malformed input is an EdnError with an offset, never a crash', () => {
  const bad = ['[1 2', '{:a 1', '"abc', '{:a}', '[1] 2', ')', '#{1 1}', '{:a 1 :a 2}', '@x', '#?(:clj 1)', '##Foo',
    ':', '::a', '\\', '"\\x"', '"\\u12"', '#_', '\\nope', '#:a/b{}', 'a/', '/a', 'a/b/c'];
  for (const text of bad) {
    assert.throws(() => readEdn(text), (e) => e instanceof EdnError && (e.offset === undefined || typeof e.offset === 'number'), text);
  }
  assert.throws(() => readEdn('[1 2] x'), (e) => e instanceof EdnError && e.offset === 6);
  assert.throws(() => readEdn('[1 "abc'), (e) => e instanceof EdnError && e.offset === 3);
  assert.throws(() => readEdn(42), EdnError);
});

test('nesting is bounded on read and on write', () => {
  const deep = '['.repeat(100000) + ']'.repeat(100000);
  assert.throws(() => readEdn(deep), /levels of nesting/);
  assert.throws(() => readEdn('#_' + deep), /levels of nesting/);
  assert.deepEqual(readEdn('[[[]]]', { maxDepth: 3 }), [[[]]]);
  assert.throws(() => readEdn('[[[]]]', { maxDepth: 2 }), EdnError);

  let v = [];
  for (let i = 0; i < 300; i++) v = [v];
  assert.throws(() => printEdn(v), /levels of nesting/);
  const cycle = [];
  cycle.push(cycle);
  assert.throws(() => printEdn(cycle), EdnError);
});

test('values EDN cannot express are refused', () => {
  for (const v of [() => 1, Symbol('s'), new (class Point {})(), new WeakMap()]) {
    assert.throws(() => printEdn(v), EdnError);
  }
});

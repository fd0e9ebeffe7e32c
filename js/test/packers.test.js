import assert from 'node:assert/strict';
import test from 'node:test';

import { Char, List, PackError, Tagged, UUID, ednPacker, expBackoff, jsonPacker, kw, sym } from '../src/index.js';
import { resolvePacker } from '../src/packers.js';
import { baseUrls, mergeUrlWithQuery } from '../src/url.js';

test('the EDN packer packs wrappers as text and unpacks them; nil and "" unpack to nil', () => {
  const p = ednPacker();
  assert.equal(p.name, 'edn');
  assert.equal(p.binary, false);
  assert.equal(p.keepsKeywords, true);
  assert.equal(p.pack([[kw('my/ev'), { a: 1 }], null], true), '[[:my/ev {:a 1}] nil]');
  assert.deepEqual(p.unpack('[:chsk/ws-ping nil]', true), [kw('chsk/ws-ping'), null]);
  assert.equal(p.unpack(null), null);
  assert.equal(p.unpack(''), null);
  assert.throws(() => p.unpack(new Uint8Array([1])), PackError);
  assert.throws(() => ednPacker({ maxDepth: 2 }).unpack('[[[1]]]'));
});

test('the JSON packer maps EDN values as the Rust JsonPacker does', () => {
  const p = jsonPacker();
  assert.equal(p.name, 'json');
  assert.equal(p.keepsKeywords, false);
  const value = [
    [kw('chat/msg'), new Map([[kw('text'), 'hi']])],
    null,
    sym('a.b/c'),
    new Char('x'),
    new UUID('0b4c7e0e-4d2a-4a4e-9b8f-3f1d0f3d2a11'),
    new Date(Date.UTC(2024, 0, 1)),
    new Set([1]),
    List.of(2, 3),
    new Uint8Array([1, 2, 3]),
    new Tagged('my/tag', 5),
    12345678901234567890n,
    1.5,
    undefined,
    { plain: true },
  ];
  assert.equal(
    p.pack(value, true),
    '[["chat/msg",{"text":"hi"}],null,"a.b/c","x","0b4c7e0e-4d2a-4a4e-9b8f-3f1d0f3d2a11",' +
      '"2024-01-01T00:00:00.000Z",[1],[2,3],"AQID",{"#my/tag":5},12345678901234567890,1.5,null,{"plain":true}]',
  );
  assert.equal(p.pack([[kw('my/ev')], kw('ajax')]), '[["my/ev"],"ajax"]');
});

test('JSON map keys: text of keywords and strings, else the EDN text of every key', () => {
  const p = jsonPacker();
  assert.equal(p.pack(new Map([[kw('a'), 1], ['b', 2], [sym('c/d'), 3]])), '{"a":1,"b":2,"c/d":3}');
  assert.equal(p.pack(new Map([[1, kw('x')], ['a', kw('y')]])), '{"1":"x","\\"a\\"":"y"}');
  assert.throws(() => p.pack(new Map([[kw('a'), 1], ['a', 2]])), PackError);
});

test('the JSON packer refuses what JSON cannot hold', () => {
  const p = jsonPacker();
  for (const v of [NaN, Infinity, -Infinity, new Date(NaN), () => 1, new (class X {})()]) {
    assert.throws(() => p.pack(v), PackError, String(v));
  }
  let deep = 1;
  for (let i = 0; i < 127; i++) deep = [deep];
  assert.throws(() => p.pack(deep), /levels/);
  assert.equal(jsonPacker({ maxDepth: 500 }).pack([[1]]), '[[1]]');
});

test('the JSON packer unpacks with JSON.parse, bounded and text only', () => {
  const p = jsonPacker();
  assert.deepEqual(p.unpack('[["chsk/handshake",["alice",null,null]],null]'), [['chsk/handshake', ['alice', null, null]], null]);
  assert.deepEqual(p.unpack('{"a":[1,{"b":2}]}'), { a: [1, { b: 2 }] });
  assert.throws(() => p.unpack(''), PackError);
  assert.throws(() => p.unpack('[1'), PackError);
  assert.throws(() => p.unpack(new Uint8Array([91, 93])), PackError);
  assert.throws(() => p.unpack('['.repeat(200) + ']'.repeat(200)), /levels/);
  assert.ok(Array.isArray(p.unpack('['.repeat(127) + ']'.repeat(127))));
  assert.throws(() => p.unpack('['.repeat(127) + '1' + ']'.repeat(127)), /levels/);
});

test('packers are chosen by name or given as objects', () => {
  assert.equal(resolvePacker(undefined).name, 'edn');
  assert.equal(resolvePacker('json').name, 'json');
  const custom = { name: 'x', binary: true, keepsKeywords: true, pack: () => new Uint8Array(), unpack: () => null };
  assert.equal(resolvePacker(custom), custom);
  assert.throws(() => resolvePacker('transit'), TypeError);
});

test('expBackoff is encore exp-backoff: uniform in [2^n·500, 2^n·1000) ms, capped at n = 36', () => {
  assert.equal(expBackoff(2, () => 0), 2000);
  assert.equal(expBackoff(2, () => 0.999999), 3999);
  assert.equal(expBackoff(3, () => 0.5), 6000);
  assert.equal(expBackoff(10, () => 0), 512000);
  assert.equal(expBackoff(99, () => 0), expBackoff(36, () => 0));
  assert.equal(expBackoff(2, () => NaN), 2000);
  for (let i = 0; i < 100; i++) {
    const ms = expBackoff(4);
    assert.ok(ms >= 8000 && ms < 16000, String(ms));
  }
});

test('URLs: ws and http bases from protocol, host, port and path', () => {
  assert.deepEqual(baseUrls('/chsk', { host: 'example.com' }), { wsUrl: 'ws://example.com/chsk', ajaxUrl: 'http://example.com/chsk' });
  assert.deepEqual(baseUrls('chsk', { protocol: 'https', host: 'example.com', port: 8443 }), {
    wsUrl: 'wss://example.com:8443/chsk',
    ajaxUrl: 'https://example.com:8443/chsk',
  });
  const location = { protocol: 'https:', host: 'site.org:444', hostname: 'site.org', pathname: '/app' };
  assert.deepEqual(baseUrls(undefined, { location }), { wsUrl: 'wss://site.org:444/app', ajaxUrl: 'https://site.org:444/app' });
  assert.equal(baseUrls('/chsk', { location, port: 9000 }).ajaxUrl, 'https://site.org:9000/chsk');
  assert.equal(baseUrls('/chsk', { location, protocol: 'http:' }).wsUrl, 'ws://site.org:444/chsk');
  assert.throws(() => baseUrls('/chsk', { protocol: 'ftp', host: 'x' }), TypeError);
  assert.throws(() => baseUrls('/chsk', { location: null }), TypeError);
});

test('URLs: query parameters merge, later maps win, nil is left out, * is escaped', () => {
  assert.equal(
    mergeUrlWithQuery('ws://h/chsk?x=1&client-id=old', { a: 'b c*', 'client-id': 'mine', gone: null }, { 'client-id': 'cid', 'csrf-token': 'Xyz/123' }),
    'ws://h/chsk?x=1&client-id=cid&a=b%20c%2A&csrf-token=Xyz%2F123',
  );
  assert.equal(mergeUrlWithQuery('http://h/chsk', { udt: 5, 'handshake?': 1 }), 'http://h/chsk?udt=5&handshake%3F=1');
  assert.equal(mergeUrlWithQuery('http://h/chsk', { a: null }), 'http://h/chsk');
  assert.equal(mergeUrlWithQuery('http://h/chsk#frag', { k: kw('a/b') }), 'http://h/chsk?k=a%2Fb#frag');
});

import assert from 'node:assert/strict';
import test from 'node:test';

import { CHSK, ChskReplyError, kw, makeChannelSocketClient, printEdn, readEdn } from '../src/index.js';
import { FakeClock, fakeFetch, fakeWebSocket, query } from './support/fakes.js';

/** A client on fakes: nothing touches the network or the real clock. */
function setup(opts = {}) {
  const clock = new FakeClock();
  const ws = fakeWebSocket();
  const http = fakeFetch();
  const client = makeChannelSocketClient('/chsk', opts.csrf ?? 'T', {
    type: 'ws',
    host: 'example.com',
    clientId: 'cid',
    WebSocket: ws.WebSocket,
    fetch: http.fetch,
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
    now: clock.now,
    random: () => 0,
    logger: null,
    ...opts,
  });
  const events = [];
  const states = [];
  client.onEvent((ev) => events.push(ev));
  client.onState((next, old, openChanged) => states.push({ next, old, openChanged }));
  const socket = () => ws.sockets.at(-1);
  return { client, clock, ws, http, events, states, socket };
}

const HANDSHAKE = '[[:chsk/handshake ["alice" nil nil]] nil]';

/** Opens the current socket and delivers the server's handshake. */
function handshake(t, text = HANDSHAKE) {
  t.socket().open();
  t.socket().receive(text);
}

/** The last frame the client sent, read back. */
function lastSent(t) {
  return readEdn(t.socket().sent.at(-1));
}

test('connects with client-id and csrf-token in the query; open only at the handshake', () => {
  const t = setup({ params: { room: 'a b' } });
  assert.equal(t.ws.sockets.length, 1);
  const s = t.socket();
  assert.equal(s.url, 'ws://example.com/chsk?room=a%20b&client-id=cid&csrf-token=T');
  assert.equal(s.binaryType, 'arraybuffer');
  assert.deepEqual(t.client.state, { type: 'ws', open: false, everOpened: false });
  s.open();
  assert.equal(t.client.state.open, false, 'the socket opening is not the handshake');
  s.receive(HANDSHAKE);
  const st = t.client.state;
  assert.deepEqual(
    { type: st.type, open: st.open, everOpened: st.everOpened, uid: st.uid, handshakeData: st.handshakeData },
    { type: 'ws', open: true, everOpened: true, uid: 'alice', handshakeData: null },
  );
  assert.ok(Object.isFrozen(st));
  assert.equal(t.states.length, 1);
  const { next, openChanged } = t.states[0];
  assert.equal(openChanged, true);
  assert.equal(next.opened, true);
  assert.equal(next.firstOpen, true);
  assert.equal(next.openChanged, true);
  assert.equal(t.client.state.firstOpen, undefined, 'transient keys are only in the change');
  assert.deepEqual(t.events.map((e) => e[0]), [CHSK.state, CHSK.handshake]);
  assert.deepEqual(t.events[1], [CHSK.handshake, ['alice', null, null, true]]);
});

test('a blank csrf token is left out of the URL; a token function is called per connect', () => {
  assert.equal(setup({ csrf: '  ' }).socket().url, 'ws://example.com/chsk?client-id=cid');
  let n = 0;
  const t = setup({ csrf: () => `tok${++n}` });
  assert.equal(query(t.socket().url)['csrf-token'], 'tok1');
  t.client.reconnect();
  assert.equal(query(t.socket().url)['csrf-token'], 'tok2');
});

test('a send with timeoutMs carries a 6-hex callback id and resolves with the reply', async () => {
  const t = setup();
  handshake(t);
  const p = t.client.send([kw('echo/echo'), new Map([[kw('n'), 1]])], { timeoutMs: 5000 });
  const frame = t.socket().sent.at(-1);
  const [ev, cb] = readEdn(frame);
  assert.match(cb, /^[0-9a-f]{6}$/);
  assert.equal(frame, `[[:echo/echo {:n 1}] "${cb}"]`);
  assert.equal(printEdn(ev), '[:echo/echo {:n 1}]');
  t.socket().receive(`[{:n 1, :s "hi"} "${cb}"]`);
  const reply = await p;
  assert.ok(reply instanceof Map);
  assert.equal(reply.get(kw('s')), 'hi');
});

test('string ids become keywords; events without a reply go out as [ev nil] and resolve true', async () => {
  const t = setup();
  handshake(t);
  assert.equal(await t.client.send(['echo/push', { x: 42 }]), true);
  assert.equal(t.socket().sent.at(-1), '[[:echo/push {:x 42}] nil]');
  assert.throws(() => t.client.send(['no-namespace']), TypeError);
  assert.throws(() => t.client.send('x/y'), TypeError);
  assert.throws(() => t.client.send([kw('a/b'), 1, 2]), TypeError);
  assert.throws(() => t.client.send([kw('a/b')], { timeoutMs: -1 }), TypeError);
});

test('a reply that does not come in time rejects with :chsk/timeout; a late reply is dropped', async () => {
  const t = setup();
  handshake(t);
  const p = t.client.send(['echo/echo', 1], { timeoutMs: 1000 });
  const [, cb] = lastSent(t);
  t.clock.advance(999);
  let settled = false;
  p.catch(() => {}).finally(() => (settled = true));
  await new Promise(setImmediate);
  assert.equal(settled, false);
  t.clock.advance(1);
  const err = await p.then(() => assert.fail('resolved'), (e) => e);
  assert.ok(err instanceof ChskReplyError);
  assert.equal(err.reply, CHSK.timeout);
  t.socket().receive(`[1 "${cb}"]`); // too late: ignored
  assert.equal(t.client.state.open, true);
});

test('sending while closed rejects with :chsk/closed (reply wanted) or resolves false', async () => {
  const t = setup();
  const err = await t.client.send(['echo/echo', 1], { timeoutMs: 100 }).catch((e) => e);
  assert.ok(err instanceof ChskReplyError);
  assert.equal(err.reply, CHSK.closed);
  assert.equal(await t.client.send(['echo/echo', 1]), false);
  assert.equal(t.socket().sent.length, 0);
});

test('a server reply of :chsk/error style keywords rejects too', async () => {
  const t = setup();
  handshake(t);
  const p = t.client.send(['echo/echo', 1], { timeoutMs: 1000 });
  const [, cb] = lastSent(t);
  t.socket().receive(`[:chsk/timeout "${cb}"]`);
  assert.equal((await p.catch((e) => e)).reply, CHSK.timeout);
});

test('pushes are delivered one by one; wrapRecvEvs wraps them; reserved ids become bad events', () => {
  const t = setup();
  handshake(t);
  t.events.length = 0;
  t.socket().receive('[[[:app/news 1] [:app/news 2] [:chsk/handshake 1] 7] nil]');
  assert.deepEqual(t.events, [
    [kw('app/news'), 1],
    [kw('app/news'), 2],
    [CHSK.badEvent, [CHSK.handshake, 1]],
    [CHSK.badEvent, 7],
  ]);
  const w = setup({ wrapRecvEvs: true });
  handshake(w);
  w.events.length = 0;
  w.socket().receive('[[[:app/news 1]] nil]');
  assert.deepEqual(w.events, [[CHSK.recv, [kw('app/news'), 1]]]);
});

test('a server ping is answered with [[:chsk/ws-pong] nil] and delivered as [:chsk/ws-ping]', () => {
  const t = setup();
  handshake(t);
  t.events.length = 0;
  t.socket().receive('[:chsk/ws-ping nil]');
  assert.equal(t.socket().sent.at(-1), '[[:chsk/ws-pong] nil]');
  assert.deepEqual(t.events, [[CHSK.wsPing]]);
});

test('malformed frames are dropped without closing', () => {
  const t = setup();
  handshake(t);
  for (const bad of ['{not edn', '42', '[1 2 3]', '[[:chsk/handshake] nil]']) t.socket().receive(bad);
  t.socket().receive(new ArrayBuffer(3));
  assert.equal(t.client.state.open, true);
  assert.equal(t.ws.sockets.length, 1);
});

test('a lost connection retries at once, then after the exponential backoff', () => {
  const t = setup({ random: () => 0 });
  handshake(t);
  t.socket().closed(1006, '', false);
  let st = t.client.state;
  assert.equal(st.open, false);
  assert.deepEqual({ ...st.lastClose }, { udt: t.clock.now(), reason: 'unexpected' });
  assert.equal(st.lastWsClose.code, 1006);
  assert.equal(st.lastWsClose.clean, false);
  assert.equal(t.ws.sockets.length, 2, 'attempt 1 is immediate');
  assert.equal(st.udtNextReconnect, undefined);

  t.socket().closed(1006, '', false); // attempt 1 failed: attempt 2 waits 2000 ms (random 0)
  assert.equal(t.ws.sockets.length, 2);
  assert.equal(t.client.state.udtNextReconnect, t.clock.now() + 2000);
  t.clock.advance(1999);
  assert.equal(t.ws.sockets.length, 2);
  t.clock.advance(1);
  assert.equal(t.ws.sockets.length, 3);

  t.socket().closed(1006, '', false); // attempt 3: 4000 ms
  assert.equal(t.client.state.udtNextReconnect, t.clock.now() + 4000);
  t.clock.advance(4000);
  assert.equal(t.ws.sockets.length, 4);

  handshake(t); // the handshake resets the count: the next loss retries at once
  st = t.client.state;
  assert.equal(st.open, true);
  assert.equal(t.events.filter((e) => e[0] === CHSK.handshake).at(-1)[1][3], false, 'not the first handshake');
  t.socket().closed(1000, 'bye', true);
  assert.equal(t.client.state.lastClose.reason, 'clean');
  assert.equal(t.ws.sockets.length, 5);
});

test('backoffMsFn replaces the backoff', () => {
  const seen = [];
  const t = setup({ backoffMsFn: (n) => (seen.push(n), 50) });
  t.socket().closed();
  t.socket().closed();
  assert.deepEqual(seen, [2]);
  t.clock.advance(50);
  assert.equal(t.ws.sockets.length, 3);
});

test('disconnect closes with 1000 CLOSE_NORMAL and stops retrying', () => {
  const t = setup();
  handshake(t);
  const s = t.socket();
  t.client.disconnect();
  assert.deepEqual(s.closedWith, { code: 1000, reason: 'CLOSE_NORMAL' });
  assert.equal(t.client.state.open, false);
  assert.equal(t.client.state.lastClose.reason, 'requested-disconnect');
  s.closed(1000, 'CLOSE_NORMAL', true);
  t.clock.advance(10 * 60 * 1000);
  assert.equal(t.ws.sockets.length, 1);
  assert.equal(t.clock.timers.size, 0, 'no timer is left behind');
});

test('reconnect closes and connects at once, skipping a pending backoff', () => {
  const t = setup();
  handshake(t);
  t.socket().closed();
  t.socket().closed(); // now waiting for the backoff
  assert.equal(t.ws.sockets.length, 2);
  t.client.reconnect();
  assert.equal(t.ws.sockets.length, 3);
  handshake(t);
  t.client.reconnect();
  assert.equal(t.client.state.lastClose.reason, 'requested-reconnect');
  assert.deepEqual(t.ws.sockets[2].closedWith, { code: 1000, reason: 'CLOSE_NORMAL' });
  assert.equal(t.ws.sockets.length, 4);
});

test('breakConnection closes with 3000 CLOSE_ABNORMAL and the close is retried', () => {
  const t = setup();
  handshake(t);
  t.client.breakConnection();
  assert.deepEqual(t.socket().closedWith, { code: 3000, reason: 'CLOSE_ABNORMAL' });
  t.socket().closed(3000, 'CLOSE_ABNORMAL', true);
  assert.equal(t.ws.sockets.length, 2);
});

test('breakConnection({closeWs: false}) detaches the socket: the next send fails with :chsk/error and reconnects', async () => {
  const t = setup();
  handshake(t);
  const s = t.socket();
  t.client.breakConnection({ closeWs: false });
  s.closed(3000, 'CLOSE_ABNORMAL', true); // ignored: no longer the client's socket
  assert.equal(t.client.state.open, true);
  assert.equal(t.ws.sockets.length, 1);
  const err = await t.client.send(['echo/echo', 1], { timeoutMs: 1000 }).catch((e) => e);
  assert.equal(err.reply, CHSK.error);
  assert.equal(t.client.state.lastClose.reason, 'ws-error');
  assert.equal(t.ws.sockets.length, 2);
});

test('keep-alive: an idle client pings every wsKaliveMs/2; no pong in wsPingTimeoutMs reconnects', () => {
  const t = setup();
  handshake(t);
  t.clock.advance(10000); // the handshake was traffic: no ping at the first tick
  assert.equal(t.socket().sent.length, 0);
  t.clock.advance(10000);
  const [ev, cb] = lastSent(t);
  assert.deepEqual(ev, [CHSK.wsPing]);
  assert.match(cb, /^[0-9a-f]{6}$/);
  t.socket().receive(`["pong" "${cb}"]`);
  assert.equal(t.client.state.open, true);

  t.clock.advance(10000); // the pong was traffic: no ping at this tick
  assert.equal(t.socket().sent.length, 1);
  t.clock.advance(10000);
  assert.equal(t.socket().sent.length, 2);
  const s = t.socket();
  t.clock.advance(5000); // no pong
  assert.deepEqual(s.closedWith, { code: 1000, reason: 'CLOSE_NORMAL' });
  assert.equal(t.client.state.lastClose.reason, 'ws-ping-timeout');
  assert.equal(t.ws.sockets.length, 2);
});

test('keep-alive: traffic postpones the ping; wsKaliveMs null disables it', () => {
  const t = setup({ wsKaliveMs: 6000, wsPingTimeoutMs: 1000 });
  handshake(t);
  t.clock.advance(2000);
  t.socket().receive('[[[:app/x 1]] nil]');
  t.clock.advance(1000); // tick at 3000: traffic since the start
  assert.equal(t.socket().sent.length, 0);
  t.clock.advance(3000); // tick at 6000: idle
  assert.equal(t.socket().sent.length, 1);

  const off = setup({ wsKaliveMs: null });
  handshake(off);
  off.clock.advance(600000);
  assert.equal(off.socket().sent.length, 0);
  assert.equal(off.clock.timers.size, 0);
});

test('a keep-alive tick before any handshake reconnects (ws-ping-timeout)', () => {
  const t = setup();
  t.clock.advance(10000);
  assert.equal(t.ws.sockets.length, 2);
  assert.deepEqual(t.ws.sockets[0].closedWith, { code: 1000, reason: 'CLOSE_NORMAL' });
});

test('auto: a WebSocket error before the first handshake downgrades to Ajax for good', async () => {
  const t = setup({ type: 'auto' });
  const s = t.socket();
  s.error();
  assert.ok(t.client.state.lastWsError.udt > 0);
  assert.deepEqual(s.closedWith, { code: 1000, reason: 'CLOSE_NORMAL' });
  s.closed(); // the failed socket's close is no longer the client's
  assert.equal(t.ws.sockets.length, 1);
  assert.equal(t.http.requests.length, 1);
  const poll = t.http.requests[0];
  assert.equal(poll.method, 'GET');
  assert.deepEqual(query(poll.url), { udt: String(t.clock.now()), 'client-id': 'cid', 'handshake?': '1' });
  poll.respond('[[:chsk/handshake ["alice" nil nil]] nil]');
  await new Promise(setImmediate);
  assert.equal(t.client.state.type, 'ajax');
  assert.equal(t.client.state.open, true);

  t.client.reconnect(); // auto starts over from a WebSocket
  assert.equal(t.ws.sockets.length, 2);
  assert.ok(t.http.requests[1].aborted);
});

test('auto: a WebSocket that handshook never downgrades', () => {
  const t = setup({ type: 'auto' });
  handshake(t);
  t.socket().error();
  t.socket().closed();
  assert.equal(t.http.requests.length, 0);
  assert.equal(t.ws.sockets.length, 2);
});

test('auto without a WebSocket class uses Ajax at once', () => {
  const t = setup({ type: 'auto', WebSocket: null });
  assert.equal(t.ws.sockets.length, 0);
  assert.equal(t.http.requests.length, 1);
});

test('the JSON packer: keywords arrive as strings and are recognised', async () => {
  const t = setup({ packer: 'json' });
  handshake(t, '[["chsk/handshake",["alice",null,{"role":"admin"}]],null]');
  assert.equal(t.client.state.open, true);
  assert.deepEqual(t.client.state.handshakeData, { role: 'admin' });
  const p = t.client.send(['echo/echo', { n: 1 }], { timeoutMs: 1000 });
  const [ev, cb] = JSON.parse(t.socket().sent.at(-1));
  assert.deepEqual(ev, ['echo/echo', { n: 1 }]);
  t.socket().receive(JSON.stringify([{ n: 1 }, cb]));
  assert.deepEqual(await p, { n: 1 });
  t.events.length = 0;
  t.socket().receive('[[["echo/pushed",{"x":42}]],null]');
  t.socket().receive('["chsk/ws-ping",null]');
  assert.deepEqual(t.events, [[kw('echo/pushed'), { x: 42 }], [CHSK.wsPing]]);
  assert.equal(t.socket().sent.at(-1), '[["chsk/ws-pong"],null]');
});

test('a binary packer sends binary frames and reads ArrayBuffers', async () => {
  const enc = new TextEncoder();
  const dec = new TextDecoder();
  const { ednPacker } = await import('../src/index.js');
  const edn = ednPacker();
  const binary = {
    name: 'edn-bytes',
    binary: true,
    keepsKeywords: true,
    pack: (v) => enc.encode(edn.pack(v)),
    unpack: (b) => edn.unpack(dec.decode(b)),
  };
  const t = setup({ packer: binary });
  t.socket().open();
  t.socket().receive(enc.encode(HANDSHAKE).buffer);
  assert.equal(t.client.state.open, true);
  await t.client.send(['a/b', 1]);
  const frame = t.socket().sent.at(-1);
  assert.ok(frame instanceof Uint8Array);
  assert.equal(dec.decode(frame), '[[:a/b 1] nil]');
});

test('listeners can unsubscribe and may throw without breaking the client', () => {
  const t = setup();
  let n = 0;
  const off = t.client.onEvent(() => n++);
  t.client.onEvent(() => {
    throw new Error('listener bug');
  });
  handshake(t);
  assert.equal(n, 2);
  off();
  t.socket().receive('[[[:a/b 1]] nil]');
  assert.equal(n, 2);
  assert.equal(t.events.at(-1)[0], kw('a/b'));
});

test('listeners may call the client: the calls run after the current transition', () => {
  const t = setup();
  t.client.onState((next) => {
    if (next.opened) t.client.disconnect();
  });
  handshake(t);
  assert.equal(t.client.state.open, false);
  assert.equal(t.client.state.lastClose.reason, 'requested-disconnect');
  assert.deepEqual(
    t.events.map((e) => e[0].fqn),
    ['chsk/state', 'chsk/handshake', 'chsk/state'],
  );
});

test('concurrent replies get distinct callback ids, even from a constant random source', async () => {
  const t = setup({ random: () => 0 });
  handshake(t);
  const ps = [1, 2, 3].map((n) => t.client.send(['echo/echo', n], { timeoutMs: 1000 }));
  const frames = t.socket().sent.map((f) => readEdn(f));
  const cbs = frames.map(([, cb]) => cb);
  assert.equal(new Set(cbs).size, 3);
  for (const [ev, cb] of frames.reverse()) t.socket().receive(`[${ev[1] * 10} "${cb}"]`);
  assert.deepEqual(await Promise.all(ps), [10, 20, 30]);
});

test('frames and closes of a replaced socket are ignored', () => {
  const t = setup();
  handshake(t);
  const old = t.socket();
  t.client.reconnect();
  const fresh = t.socket();
  assert.notEqual(old, fresh);
  t.events.length = 0;
  old.receive('[[[:app/stale 1]] nil]');
  old.error();
  old.closed(1006);
  assert.deepEqual(t.events, []);
  assert.equal(t.ws.sockets.length, 2);
  assert.equal(t.client.state.lastWsError, undefined);
  handshake(t);
  assert.equal(t.client.state.open, true);
});

test('a WebSocket constructor that throws is retried like a failed connection', () => {
  const ws = fakeWebSocket();
  let fail = 2;
  class Flaky extends ws.WebSocket {
    constructor(url) {
      if (fail-- > 0) throw new Error('SecurityError');
      super(url);
    }
  }
  const t = setup({ WebSocket: Flaky });
  // construction 1 throws -> attempt 1 at once throws too -> attempt 2 after 2000 ms
  assert.equal(ws.sockets.length, 0);
  t.clock.advance(2000);
  assert.equal(ws.sockets.length, 1);
});

test('a handshake clears udtNextReconnect; the close of an open socket records lastClose once', () => {
  const t = setup();
  handshake(t);
  t.socket().closed();
  t.socket().closed();
  assert.ok(t.client.state.udtNextReconnect > t.clock.now());
  const closeUdt = t.client.state.lastClose.udt;
  t.clock.advance(2000);
  handshake(t);
  assert.equal(t.client.state.udtNextReconnect, undefined);
  assert.equal(t.client.state.lastClose.udt, closeUdt, 'lastClose keeps the last open → closed transition');
});

test('auto: reconnect builds a fresh implementation, so the next handshake is a first one again', () => {
  const t = setup({ type: 'auto' });
  handshake(t);
  t.client.reconnect();
  handshake(t);
  const hs = t.events.filter((e) => e[0] === CHSK.handshake).map((e) => e[1][3]);
  assert.deepEqual(hs, [true, true]);
  const firstOpens = t.states.filter((s) => s.next.firstOpen).length;
  assert.equal(firstOpens, 1, 'but the state opens for the first time only once');
});

test('a :sente/nil-uid handshake and 2-element handshake data are accepted', () => {
  const t = setup();
  handshake(t, '[[:chsk/handshake [:sente/nil-uid nil]] nil]');
  assert.equal(t.client.state.uid, kw('sente/nil-uid'));
  assert.equal(t.client.state.handshakeData, null);
});

test('an unknown callback id in a reply is dropped', () => {
  const t = setup();
  handshake(t);
  t.socket().receive('[{:ok true} "abcdef"]');
  assert.equal(t.client.state.open, true);
  assert.equal(t.events.length, 2);
});

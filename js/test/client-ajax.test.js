import assert from 'node:assert/strict';
import test from 'node:test';

import { CHSK, kw, makeChannelSocketClient } from '../src/index.js';
import { FakeClock, fakeFetch, query, settle } from './support/fakes.js';

function setup(opts = {}) {
  const clock = new FakeClock();
  const http = fakeFetch();
  const client = makeChannelSocketClient('/chsk', 'T', {
    type: 'ajax',
    protocol: 'https:',
    host: 'example.com',
    clientId: 'cid',
    fetch: http.fetch,
    WebSocket: null,
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
    now: clock.now,
    random: () => 0,
    logger: null,
    ...opts,
  });
  const events = [];
  client.onEvent((ev) => events.push(ev));
  const last = () => http.requests.at(-1);
  const polls = () => http.requests.filter((r) => r.method === 'GET');
  const posts = () => http.requests.filter((r) => r.method === 'POST');
  return { client, clock, http, events, last, polls, posts };
}

/** Answers the current poll with `body` and lets the client react. */
async function answerPoll(t, body, status = 200) {
  const poll = t.polls().at(-1);
  assert.equal(poll.done, false, 'a poll is held');
  poll.respond(body, status);
  await settle();
}

async function open(t) {
  await answerPoll(t, '[[:chsk/handshake ["alice" nil {:role :admin}]] nil]');
}

/** The ppstr form field of a POST, read back. */
function ppstr(req) {
  return new URLSearchParams(req.body).get('ppstr');
}

test('the first poll asks for a handshake; then it polls without, at once', async () => {
  const t = setup({ params: { room: 'r1' }, ajaxOpts: { headers: { 'x-extra': '1' } } });
  const first = t.polls()[0];
  assert.equal(first.url.split('?')[0], 'https://example.com/chsk');
  assert.deepEqual(query(first.url), { room: 'r1', udt: String(t.clock.now()), 'client-id': 'cid', 'handshake?': '1' });
  assert.ok(first.url.includes('handshake%3F=1'));
  assert.deepEqual(first.headers, { 'x-extra': '1', 'x-requested-with': 'XMLHTTPRequest', 'x-csrf-token': 'T' });
  await open(t);
  const st = t.client.state;
  assert.equal(st.type, 'ajax');
  assert.equal(st.open, true);
  assert.equal(st.uid, 'alice');
  assert.deepEqual([...st.handshakeData], [[kw('role'), kw('admin')]]);
  assert.deepEqual(t.events.map((e) => e[0]), [CHSK.state, CHSK.handshake]);
  assert.equal(t.events[1][1][3], true);
  assert.equal(t.polls().length, 2);
  assert.deepEqual(query(t.polls()[1].url), { room: 'r1', udt: String(t.clock.now()), 'client-id': 'cid' });
});

test('the poll loop: pushes are delivered, :chsk/timeout just repolls', async () => {
  const t = setup();
  await open(t);
  t.events.length = 0;
  await answerPoll(t, '[[[:echo/pushed {:x 42}] [:echo/pushed 2]] nil]');
  assert.deepEqual(t.events.map((e) => [e[0].fqn, e[1] instanceof Map ? e[1].get(kw('x')) : e[1]]), [
    ['echo/pushed', 42],
    ['echo/pushed', 2],
  ]);
  assert.equal(t.polls().length, 3);
  await answerPoll(t, '[:chsk/timeout nil]');
  assert.equal(t.polls().length, 4);
  assert.equal(t.events.length, 2);
  assert.equal(t.client.state.open, true);
});

test('a poll that times out on the client side is simply reissued', async () => {
  const t = setup({ ajaxOpts: { timeoutMs: 30000 } });
  await open(t);
  const held = t.polls().at(-1);
  t.clock.advance(30000);
  await settle();
  assert.ok(held.aborted);
  assert.equal(t.polls().length, 3);
  assert.equal(t.client.state.open, true);
});

test('a failed poll closes (unexpected) and retries at once, then after the backoff', async () => {
  const t = setup();
  await open(t);
  await answerPoll(t, 'oops', 500);
  assert.equal(t.client.state.open, false);
  assert.equal(t.client.state.lastClose.reason, 'unexpected');
  assert.equal(t.polls().length, 3, 'attempt 1 is immediate');
  assert.deepEqual(query(t.polls().at(-1).url)['handshake?'], '1');
  t.polls().at(-1).fail();
  await settle();
  assert.equal(t.polls().length, 3);
  assert.equal(t.client.state.udtNextReconnect, t.clock.now() + 2000);
  t.clock.advance(2000);
  assert.equal(t.polls().length, 4);
  await open(t);
  assert.equal(t.client.state.open, true);
  assert.equal(t.events.filter((e) => e[0] === CHSK.handshake).at(-1)[1][3], false);
});

test('a poll body that does not unpack is a failure', async () => {
  const t = setup();
  await open(t);
  await answerPoll(t, '{not edn');
  assert.equal(t.client.state.open, false);
  assert.equal(t.polls().length, 3);
});

test('a send with a reply is one POST [ev :ajax]; the reply is the body', async () => {
  const t = setup();
  await open(t);
  const p = t.client.send(['echo/echo', { n: 1, s: 'hi there' }], { timeoutMs: 8000 });
  const post = t.posts()[0];
  assert.equal(post.url, 'https://example.com/chsk');
  assert.equal(post.headers['content-type'], 'application/x-www-form-urlencoded;charset=UTF-8');
  assert.equal(post.headers['x-csrf-token'], 'T');
  const form = new URLSearchParams(post.body);
  assert.deepEqual([...form.keys()], ['udt', 'client-id', 'ppstr']);
  assert.equal(form.get('client-id'), 'cid');
  assert.equal(ppstr(post), '[[:echo/echo {:n 1, :s "hi there"}] :ajax]');
  assert.ok(!post.body.includes('room'), 'params are not sent on POST');
  post.respond('[{:n 1, :s "hi there"} nil]');
  const reply = await p;
  assert.equal(reply.get(kw('s')), 'hi there');
});

test('a send without a reply posts [ev nil] and resolves true', async () => {
  const t = setup();
  await open(t);
  assert.equal(await t.client.send(['echo/echo', { n: 2 }]), true);
  const post = t.posts()[0];
  assert.equal(ppstr(post), '[[:echo/echo {:n 2}] nil]');
  post.respond('[:chsk/dummy-cb-200 nil]');
  await settle();
  assert.equal(t.client.state.open, true);
});

test('POST outcomes: HTTP error → :chsk/error and closed; timeout → :chsk/timeout; empty body → :chsk/error', async () => {
  const t = setup();
  await open(t);
  const timedOut = t.client.send(['a/b', 1], { timeoutMs: 1000 });
  t.clock.advance(1000);
  assert.equal((await timedOut.catch((e) => e)).reply, CHSK.timeout);
  assert.ok(t.posts()[0].aborted);
  assert.equal(t.client.state.open, true, 'a timeout leaves the state alone');

  const empty = t.client.send(['a/b', 2], { timeoutMs: 1000 });
  t.posts()[1].respond('');
  assert.equal((await empty.catch((e) => e)).reply, CHSK.error);
  assert.equal(t.client.state.open, true);

  const lpTimeout = t.client.send(['a/b', 3], { timeoutMs: 30000 });
  t.posts()[2].respond('[:chsk/timeout nil]');
  assert.equal((await lpTimeout.catch((e) => e)).reply, CHSK.timeout, "the server's own reply timeout");

  const failed = t.client.send(['a/b', 4], { timeoutMs: 1000 });
  t.posts()[3].respond('Bad CSRF token', 403);
  assert.equal((await failed.catch((e) => e)).reply, CHSK.error);
  assert.equal(t.client.state.open, false);
  assert.equal(t.client.state.lastClose.reason, 'unexpected');
});

test('a later successful POST reopens the state', async () => {
  const t = setup();
  await open(t);
  const failed = t.client.send(['a/b', 1], { timeoutMs: 1000 });
  t.posts()[0].fail();
  await failed.catch(() => {});
  assert.equal(t.client.state.open, false);
  await answerPoll(t, '[[[:x/y 1]] nil]'); // the poll still answers
  assert.equal(t.client.state.open, true);
});

test('a binary packer posts raw bytes with udt, client-id and binary?=true in the query', async () => {
  const enc = new TextEncoder();
  const dec = new TextDecoder();
  const { ednPacker } = await import('../src/index.js');
  const edn = ednPacker();
  const binary = {
    name: 'edn-bytes',
    binary: true,
    keepsKeywords: true,
    pack: (v) => enc.encode(edn.pack(v)),
    unpack: (b) => {
      assert.ok(b instanceof Uint8Array, 'bodies are read as bytes');
      return edn.unpack(dec.decode(b));
    },
  };
  const t = setup({ packer: binary });
  await answerPoll(t, enc.encode('[[:chsk/handshake ["alice" nil nil]] nil]'));
  assert.equal(t.client.state.open, true);
  const p = t.client.send(['a/b', 1], { timeoutMs: 1000 });
  const post = t.posts()[0];
  assert.ok(post.body instanceof Uint8Array);
  assert.equal(dec.decode(post.body), '[[:a/b 1] :ajax]');
  assert.equal(post.headers['content-type'], 'application/octet-stream');
  assert.deepEqual(query(post.url), { udt: String(t.clock.now()), 'client-id': 'cid', 'binary?': 'true' });
  assert.ok(post.url.includes('binary%3F=true'));
  post.respond(enc.encode('[:ok nil]'));
  assert.equal(await p, kw('ok'));
});

test('disconnect aborts the held poll and stops; breakConnection aborts it and retries', async () => {
  const t = setup();
  await open(t);
  t.client.breakConnection();
  assert.ok(t.polls()[1].aborted);
  assert.equal(t.client.state.open, false);
  assert.equal(t.polls().length, 3, 'retried at once');
  await open(t);
  t.client.disconnect();
  assert.ok(t.polls().at(-1).aborted);
  assert.equal(t.client.state.lastClose.reason, 'requested-disconnect');
  await settle();
  t.clock.advance(600000);
  assert.equal(t.polls().length, 4);
  assert.equal(t.clock.timers.size, 0);
});

test('the JSON packer over Ajax: "chsk/timeout" and "chsk/dummy-cb-200" are recognised', async () => {
  const t = setup({ packer: 'json' });
  await answerPoll(t, '[["chsk/handshake",["alice",null,null]],null]');
  assert.equal(t.client.state.open, true);
  await answerPoll(t, '["chsk/timeout",null]');
  assert.equal(t.events.filter((e) => e[0] === CHSK.badEvent).length, 0);
  const p = t.client.send(['a/b', 1], { timeoutMs: 40000 });
  assert.deepEqual(JSON.parse(ppstr(t.posts()[0])), [['a/b', 1], 'ajax']);
  t.posts()[0].respond('["chsk/timeout",null]');
  assert.equal((await p.catch((e) => e)).reply, CHSK.timeout);
});

test('without a token, no x-csrf-token header is sent', () => {
  const t = setup();
  const c = makeChannelSocketClient('/chsk', null, {
    type: 'ajax', host: 'h', clientId: 'c', fetch: t.http.fetch, setTimeout: t.clock.setTimeout,
    clearTimeout: t.clock.clearTimeout, now: t.clock.now, logger: null,
  });
  assert.equal('x-csrf-token' in t.last().headers, false);
  assert.equal(c.clientId, 'c');
});

test('the default client id is a random UUID; a missing transport is a TypeError', () => {
  const t = setup({ clientId: undefined, autoConnect: false });
  assert.match(t.client.clientId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(t.http.requests.length, 0, 'autoConnect: false waits for connect()');
  t.client.connect();
  assert.equal(t.http.requests.length, 1);
  assert.throws(() => makeChannelSocketClient('/chsk', null, { type: 'ws', host: 'h', WebSocket: null }), TypeError);
  assert.throws(() => makeChannelSocketClient('/chsk', null, { type: 'bogus', host: 'h' }), TypeError);
});

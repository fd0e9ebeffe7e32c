// End-to-end tests of examples/chat: the Rust server, the JavaScript client
// in headless Chromium, over WebSocket, Ajax and the auto fallback.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { existsSync } from 'node:fs';

import {
  launchBrowser,
  openChat,
  say,
  screenshot,
  startServer,
  waitClosed,
  waitMessage,
  waitOnline,
  waitOpen,
} from './support.js';

let browser;
const cleanups = [];

before(async () => {
  browser = await launchBrowser();
});

after(async () => {
  for (const f of cleanups.reverse()) await f().catch(() => {});
  await browser?.close();
});

async function server(args, opts) {
  const s = await startServer(args, opts);
  cleanups.push(() => s.stop());
  return s;
}

async function chat(url, name, type) {
  const page = await openChat(browser, url, name, type);
  cleanups.push(() => page.context().close());
  return page;
}

/** Alice and Bob say something to each other; each sees both lines. */
async function converse(alice, bob, tag) {
  await say(alice, `hello bob ${tag}`);
  await waitMessage(bob, 'alice', `hello bob ${tag}`);
  await waitMessage(alice, 'alice', `hello bob ${tag}`);
  await say(bob, `hi alice ${tag}`);
  await waitMessage(alice, 'bob', `hi alice ${tag}`);
  await waitMessage(bob, 'bob', `hi alice ${tag}`);
}

describe('chat', { timeout: 180_000 }, () => {
  test('two pages chat over WebSocket; a screenshot goes to artifacts/', async () => {
    const { url } = await server();
    const alice = await chat(url, 'alice', 'ws');
    const bob = await chat(url, 'bob', 'ws');
    await waitOpen(alice, 'ws');
    await waitOpen(bob, 'ws');
    await waitOnline(alice, ['alice', 'bob']);
    await waitOnline(bob, ['alice', 'bob']);
    assert.equal(await alice.textContent('#transport'), 'ws');
    assert.equal(await alice.textContent('#state'), 'open');
    await converse(alice, bob, 'ws');
    const shot = await screenshot(alice, 'chat.png');
    assert.ok(existsSync(shot), `screenshot at ${shot}`);
    assert.deepEqual([...alice.errors, ...bob.errors], []);

    // Bob leaves: after the WebSocket grace period (2.5 s) the server pushes the new list.
    await bob.context().close();
    await waitOnline(alice, ['alice']);
  });

  test('a page forced to Ajax chats with a WebSocket page', async () => {
    const { url } = await server();
    const alice = await chat(url, 'alice', 'ws');
    const bob = await chat(url, 'bob', 'ajax');
    await waitOpen(alice, 'ws');
    await waitOpen(bob, 'ajax');
    assert.equal(await bob.textContent('#transport'), 'ajax');
    await waitOnline(alice, ['alice', 'bob']);
    await waitOnline(bob, ['alice', 'bob']);
    await converse(alice, bob, 'mixed');

    // A name beyond ASCII travels in the Ajax POSTs' header too; text stays text.
    const zoe = await chat(url, 'Zoë 🙂', 'ajax');
    await waitOpen(zoe, 'ajax');
    await waitOnline(alice, ['alice', 'bob', 'Zoë 🙂']);
    await say(zoe, '<i>not html</i> & more');
    await waitMessage(alice, 'Zoë 🙂', '<i>not html</i> & more');
    await waitMessage(bob, 'Zoë 🙂', '<i>not html</i> & more');
    assert.equal(await alice.locator('#messages i').count(), 0);
    assert.deepEqual([...alice.errors, ...bob.errors, ...zoe.errors], []);
  });

  test('auto falls back to Ajax when the server refuses WebSockets', async () => {
    const { url } = await server(['--no-websocket']);
    const alice = await chat(url, 'alice', 'auto');
    const bob = await chat(url, 'bob', 'auto');
    await waitOpen(alice, 'ajax');
    await waitOpen(bob, 'ajax');
    assert.equal(await alice.textContent('#transport'), 'ajax');
    await waitOnline(alice, ['alice', 'bob']);
    await converse(alice, bob, 'fallback');
    assert.deepEqual([...alice.errors, ...bob.errors], []);
  });

  test('both pages reconnect without a reload when the server restarts', async () => {
    const first = await server();
    const alice = await chat(first.url, 'alice', 'ws');
    const bob = await chat(first.url, 'bob', 'ajax');
    await waitOpen(alice, 'ws');
    await waitOpen(bob, 'ajax');
    await converse(alice, bob, 'before');

    await first.stop();
    await waitClosed(alice);
    await waitClosed(bob);
    await server([], { port: first.port });

    // The clients' backoff: attempts 2, 3, 4 wait 2–4, 4–8, 8–16 s.
    await waitOpen(alice, 'ws', 40_000);
    await waitOpen(bob, 'ajax', 40_000);
    await waitOnline(alice, ['alice', 'bob']);
    await converse(alice, bob, 'after');
    // The same pages: the messages from before the restart are still there.
    await waitMessage(alice, 'bob', 'hi alice before', 1_000);
    assert.deepEqual([...alice.errors, ...bob.errors], []);
  });

  test('a reply timeout reaches the page\'s client', async () => {
    const { url } = await server();
    const alice = await chat(url, 'alice', 'auto');
    await waitOpen(alice, 'ws');
    // `chat/void` is never answered: the page's client (window.chsk) times out.
    const outcome = await alice.evaluate(async () => {
      try {
        await window.chsk.send(['chat/void'], { timeoutMs: 500 });
        return 'answered';
      } catch (err) {
        return err.reply ? err.reply.name : String(err);
      }
    });
    assert.equal(outcome, 'timeout');
    // The connection survives the timeout.
    await say(alice, 'still here');
    await waitMessage(alice, 'alice', 'still here');
  });
});

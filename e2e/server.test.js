// HTTP-level tests of examples/chat (no browser): what it serves, and that
// its channel socket insists on the CSRF token, the served origin and, with
// --no-websocket, refuses WebSocket upgrades.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { CSRF_TOKEN, repoRoot, startServer } from './support.js';

/** A WebSocket upgrade request to `url`; resolves with the status (101 when accepted). */
function upgradeStatus(url, headers) {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
        ...headers,
      },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve(res.statusCode);
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('error', reject);
    req.end();
  });
}

function chskUrl(base, uid) {
  return `${base}chsk?client-id=${uid}-client&handshake%3F=true&uid=${uid}`;
}

describe('the chat server', { timeout: 60_000 }, () => {
  let server;
  before(async () => {
    server = await startServer();
  });
  after(() => server?.stop());

  test('serves the page with the CSRF token embedded', async () => {
    const res = await fetch(server.url);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^text\/html/);
    const html = await res.text();
    assert.ok(html.includes(`<meta name="csrf-token" content="${CSRF_TOKEN}">`), html);
    assert.ok(!html.includes('{{'), 'no placeholder left');
  });

  test('serves every module of js/src at /js/, as JavaScript', async () => {
    const dir = join(repoRoot, 'js', 'src');
    const files = readdirSync(dir).filter((f) => f.endsWith('.js'));
    assert.ok(files.includes('index.js'));
    for (const file of files) {
      const res = await fetch(`${server.url}js/${file}`);
      assert.equal(res.status, 200, `/js/${file} (add it to STATIC_FILES in examples/chat/main.rs)`);
      assert.match(res.headers.get('content-type'), /^text\/javascript/, file);
      assert.equal(await res.text(), readFileSync(join(dir, file), 'utf8'), `/js/${file} is js/src/${file}`);
    }
    for (const [path, type] of [
      ['app.js', /^text\/javascript/],
      ['style.css', /^text\/css/],
    ]) {
      const res = await fetch(server.url + path);
      assert.equal(res.status, 200, path);
      assert.match(res.headers.get('content-type'), type, path);
    }
    assert.equal((await fetch(`${server.url}js/nope.js`)).status, 404);
    assert.equal((await fetch(`${server.url}../Cargo.toml`)).status, 404);
  });

  test('the channel socket wants the CSRF token and the served origin', async () => {
    const origin = server.url.replace(/\/$/, '');
    const ok = await fetch(chskUrl(server.url, 'alice'), { headers: { origin, 'x-csrf-token': CSRF_TOKEN } });
    assert.equal(ok.status, 200);
    assert.match(await ok.text(), /^\[\[:chsk\/handshake \["alice"/);

    const noToken = await fetch(chskUrl(server.url, 'eve'), { headers: { origin } });
    assert.equal(noToken.status, 403);
    const badToken = await fetch(chskUrl(server.url, 'eve'), { headers: { origin, 'x-csrf-token': 'guess' } });
    assert.equal(badToken.status, 403);
    const foreign = await fetch(chskUrl(server.url, 'eve'), {
      headers: { origin: 'http://evil.example', 'x-csrf-token': CSRF_TOKEN },
    });
    assert.equal(foreign.status, 403);

    const wsUrl = `${chskUrl(server.url, 'alice')}&csrf-token=${CSRF_TOKEN}`;
    assert.equal(await upgradeStatus(wsUrl, { origin }), 101);
    assert.equal(await upgradeStatus(wsUrl, { origin: 'http://evil.example' }), 403);
  });

  test('--no-websocket refuses upgrades and still serves Ajax', async () => {
    const noWs = await startServer(['--no-websocket']);
    try {
      const origin = noWs.url.replace(/\/$/, '');
      const wsUrl = `${chskUrl(noWs.url, 'alice')}&csrf-token=${CSRF_TOKEN}`;
      assert.equal(await upgradeStatus(wsUrl, { origin }), 403);
      const ajax = await fetch(chskUrl(noWs.url, 'alice'), { headers: { origin, 'x-csrf-token': CSRF_TOKEN } });
      assert.equal(ajax.status, 200);
    } finally {
      await noWs.stop();
    }
  });
});

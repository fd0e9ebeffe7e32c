// Helpers of the chat end-to-end tests: the chat server as a child process,
// headless Chromium, and the page's observable state.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
export const artifactsDir = join(repoRoot, 'artifacts');

/** The chat server binary: $CHAT_BIN (set by tests/browser_e2e.rs), else the debug build. */
export function chatBinary() {
  const bin = process.env.CHAT_BIN || join(repoRoot, 'target', 'debug', 'examples', 'chat');
  if (!existsSync(bin)) {
    throw new Error(`no chat server at ${bin}: build it first (cargo build --example chat), or set CHAT_BIN`);
  }
  return bin;
}

/** The same CSRF token for every start, so pages survive a restart. */
export const CSRF_TOKEN = 'e2e-csrf-token-0123456789abcdef';

/**
 * Starts the chat server with `args` and resolves when it prints its URL:
 * `{url, port, stop()}`; `stop()` kills it and waits for its exit.
 */
export function startServer(args = [], { port = 0 } = {}) {
  const child = spawn(chatBinary(), ['--port', String(port), '--csrf-token', CSRF_TOKEN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`the chat server did not start within 20 s: ${out}${stderr}`));
    }, 20_000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/chat on (http:\/\/127\.0\.0\.1:(\d+)\/)/);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1], port: Number(m[2]), stop });
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the chat server exited (${code ?? signal}) before listening: ${out}${stderr}`));
    });
  });
}

/** Debian's Chromium, headless. */
export function launchBrowser() {
  const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
  if (!existsSync(executablePath)) {
    throw new Error(`no Chromium at ${executablePath}: apt-get install -y chromium (or set CHROMIUM)`);
  }
  return chromium.launch({
    executablePath,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-quic',
      '--disable-sync',
    ],
  });
}

/**
 * Opens the chat as `name` in a browser context of its own (its own
 * cookies and storage, like another person's browser), with `type` the
 * client type. Console errors of the page are collected in `page.errors`.
 */
export async function openChat(browser, url, name, type = 'auto') {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  await page.goto(`${url}?type=${type}&name=${encodeURIComponent(name)}`);
  return page;
}

/** Waits until the page shows an open connection, over `type` when given. */
export async function waitOpen(page, type, timeout = 15_000) {
  const sel = type ? `#status[data-open="true"][data-type="${type}"]` : '#status[data-open="true"]';
  await page.waitForSelector(sel, { timeout, state: 'attached' });
}

/** Waits until the page shows the connection closed. */
export async function waitClosed(page, timeout = 15_000) {
  await page.waitForSelector('#status[data-open="false"]', { timeout, state: 'attached' });
}

/** Types `text` and sends it. */
export async function say(page, text) {
  await page.fill('#text', text);
  await page.click('#send');
}

/** Waits until the page shows a message `text` from `from`. */
export async function waitMessage(page, from, text, timeout = 10_000) {
  await page.waitForFunction(
    ([from, text]) =>
      [...document.querySelectorAll('#messages li')].some(
        (li) => li.querySelector('.from')?.textContent === from && li.querySelector('.text')?.textContent === text,
      ),
    [from, text],
    { timeout },
  );
}

/** Waits until the online list is exactly `names` (sorted). */
export async function waitOnline(page, names, timeout = 15_000) {
  await page.waitForFunction(
    (names) => [...document.querySelectorAll('#online li')].map((li) => li.textContent).join('\n') === names.join('\n'),
    [...names].sort(),
    { timeout },
  );
}

/** Saves a screenshot of `page` to artifacts/`file`. */
export async function screenshot(page, file) {
  mkdirSync(artifactsDir, { recursive: true });
  const path = join(artifactsDir, file);
  await page.screenshot({ path, fullPage: true });
  return path;
}

// Regenerates test/fixtures/transcript-messages.json from the reference
// transcripts of a real Sente 1.21 session (sente-transcripts.md):
//   node scripts/extract-transcript-messages.mjs path/to/sente-transcripts.md
// Every EDN message is kept verbatim: WebSocket text payloads (C->S and
// S->C), HTTP 200 response bodies, the decoded `ppstr` of Ajax POSTs, and the
// concrete messages quoted in the summary's "Compatibility checks".
// Not EDN, so left out: close-frame and control-frame payloads, the
// deliberately malformed "{not edn" frame and the plain-text HTTP 500 body.

import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const NOT_EDN = new Set(['{not edn', 'hello']);
const source = process.argv[2];
if (!source) {
  console.error('usage: node scripts/extract-transcript-messages.mjs sente-transcripts.md');
  process.exit(2);
}
const text = readFileSync(source, 'utf8');
const messages = [];
const add = (m, where) => {
  if (NOT_EDN.has(m) || m.startsWith('\\x')) return;
  messages.push({ where, edn: m });
};

let inCompat = false;
for (const line of text.split('\n')) {
  let m;
  if (line.startsWith('- ')) inCompat = line.startsWith('- Compatibility checks');
  if (inCompat) {
    for (const q of line.matchAll(/`(?:ppstr=)?(\[[^`]*\])`/g)) add(q[1], 'compatibility check');
  }
  if ((m = /^payload: (.*)$/.exec(line))) add(m[1], 'ws frame');
  if ((m = /^(?:C->S|S->C) \S+ ws text .* payload=b'(.*)'$/.exec(line))) add(m[1], 'jvm client ws frame');
  if ((m = /^HTTP\/1\.1 200 OK\\r\\n.*\\r\\n\\r\\n(.*)$/.exec(line))) add(m[1], 'http 200 body');
  if ((m = /^POST .*\\r\\n\\r\\n(.*)$/.exec(line))) {
    const ppstr = new URLSearchParams(m[1]).get('ppstr');
    if (ppstr !== null) add(ppstr, 'ajax post ppstr');
  }
}

const out = fileURLToPath(new URL('../test/fixtures/transcript-messages.json', import.meta.url));
writeFileSync(out, `${JSON.stringify(messages, null, 2)}\n`);
console.log(`${messages.length} messages -> ${out}`);

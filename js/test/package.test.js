import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import test from 'node:test';

import * as api from '../src/index.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const dts = readFileSync(new URL('../types/index.d.ts', import.meta.url), 'utf8');

test('package.json: an ES module package without runtime dependencies', () => {
  assert.equal(pkg.name, 'sente-client');
  assert.equal(pkg.type, 'module');
  assert.equal(pkg.exports['.'].default, './src/index.js');
  assert.equal(pkg.exports['.'].types, './types/index.d.ts');
  assert.equal(pkg.types, './types/index.d.ts');
  assert.equal(pkg.dependencies, undefined);
  assert.equal(pkg.devDependencies, undefined);
});

test('the TypeScript declarations declare exactly the runtime exports', () => {
  const declared = new Set([...dts.matchAll(/^export (?:declare )?(?:function|class|const) (\w+)/gm)].map((m) => m[1]));
  assert.deepEqual([...declared].sort(), Object.keys(api).sort());
});

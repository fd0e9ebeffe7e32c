// Packers: how the wrapper [value ?cb] becomes a frame or HTTP body and back.
//
// A packer is an object
//   { name, binary, keepsKeywords, pack(value, websocket) -> string | Uint8Array,
//     unpack(data, websocket) -> value }
// whose pack and unpack are synchronous and throw on failure. `binary`
// says whether pack returns bytes (Ajax bodies are then posted and read as
// bytes); `keepsKeywords` is false for packers that turn keywords into plain
// strings (JSON), so that the client recognises "chsk/handshake" too.

import { DEFAULT_MAX_DEPTH, EdnError, base64Encode, readEdn } from './edn-read.js';
import { isPlainObject, printEdn } from './edn-write.js';
import { Char, Keyword, Sym, Tagged, UUID } from './types.js';

/** A packer's failure to pack or unpack. */
export class PackError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = 'PackError';
  }
}

/**
 * The EDN packer, Sente's default: text frames, `pr-str` layout. Unpacking
 * `null` or `""` gives `null`; binary data is an error.
 *
 * @param {{maxDepth?: number}} [opts] nesting limit, 256 by default
 */
export function ednPacker(opts = {}) {
  const maxDepth = opts.maxDepth ?? DEFAULT_MAX_DEPTH;
  return Object.freeze({
    name: 'edn',
    binary: false,
    keepsKeywords: true,
    pack(value) {
      return printEdn(value, { maxDepth });
    },
    unpack(data) {
      if (data === null || data === undefined) return null;
      if (typeof data !== 'string') throw new PackError('the EDN packer reads text, not binary data');
      return readEdn(data, { maxDepth });
    },
  });
}

/** The deepest nesting the JSON packer handles (the Rust JsonPacker's limit). */
export const JSON_MAX_DEPTH = 127;

/**
 * The JSON packer, the same lossy mapping as the Rust `JsonPacker`: keywords
 * and symbols become "ns/name" strings, characters and UUIDs strings, dates
 * ISO strings, sets and lists arrays, bytes base64 strings, maps objects
 * (keyed by each key's text, or by the EDN text of every key when some key
 * is not a string, keyword or symbol), unknown tags `{"#tag": value}`.
 * NaN and infinities cannot be packed. Unpacking is `JSON.parse`: objects
 * stay plain objects, numbers beyond 2^53 lose precision.
 *
 * @param {{maxDepth?: number}} [opts] nesting limit, at most (and by default) 127
 */
export function jsonPacker(opts = {}) {
  const maxDepth = Math.min(opts.maxDepth ?? JSON_MAX_DEPTH, JSON_MAX_DEPTH);
  return Object.freeze({
    name: 'json',
    binary: false,
    keepsKeywords: false,
    pack(value) {
      const out = [];
      writeJson(out, value, 1, maxDepth);
      return out.join('');
    },
    unpack(data) {
      if (typeof data !== 'string') throw new PackError('the JSON packer reads text, not binary data');
      if (data === '') throw new PackError('empty JSON text');
      let value;
      try {
        value = JSON.parse(data);
      } catch (e) {
        throw new PackError(`invalid JSON: ${e.message}`, { cause: e });
      }
      if (jsonDepth(value, 1, maxDepth) > maxDepth) throw new PackError(`more than ${maxDepth} levels of nesting`);
      return value;
    },
  });
}

/** The nesting depth of parsed JSON, counting no further than `limit + 1`. */
function jsonDepth(v, depth, limit) {
  if (depth > limit || v === null || typeof v !== 'object') return depth;
  let max = depth;
  for (const x of Array.isArray(v) ? v : Object.values(v)) {
    max = Math.max(max, jsonDepth(x, depth + 1, limit));
    if (max > limit) break;
  }
  return max;
}

/** The text a map key becomes when every key is a string, keyword or symbol. */
function keyText(k) {
  if (typeof k === 'string') return k;
  if (k instanceof Keyword || k instanceof Sym) return k.fqn;
  return undefined;
}

function writeJson(out, v, depth, maxDepth) {
  if (depth > maxDepth) throw new PackError(`more than ${maxDepth} levels of nesting`);
  switch (typeof v) {
    case 'undefined':
      out.push('null');
      return;
    case 'boolean':
      out.push(v ? 'true' : 'false');
      return;
    case 'number':
      if (!Number.isFinite(v)) throw new PackError(`JSON has no ${v}`);
      out.push(JSON.stringify(v));
      return;
    case 'bigint':
      out.push(v.toString());
      return;
    case 'string':
      out.push(JSON.stringify(v));
      return;
    case 'object':
      break;
    default:
      throw new PackError(`cannot pack a ${typeof v} as JSON`);
  }
  if (v === null) {
    out.push('null');
  } else if (v instanceof Keyword || v instanceof Sym) {
    out.push(JSON.stringify(v.fqn));
  } else if (v instanceof Char || v instanceof UUID) {
    out.push(JSON.stringify(v.value));
  } else if (v instanceof Date) {
    if (!Number.isFinite(v.getTime())) throw new PackError('cannot pack an invalid Date');
    out.push(JSON.stringify(v.toISOString()));
  } else if (v instanceof Uint8Array) {
    out.push(JSON.stringify(base64Encode(v)));
  } else if (v instanceof Tagged) {
    writeObject(out, [[`#${v.tag}`, v.value]], depth, maxDepth);
  } else if (Array.isArray(v) || v instanceof Set) {
    out.push('[');
    let first = true;
    for (const x of v) {
      if (!first) out.push(',');
      first = false;
      writeJson(out, x, depth + 1, maxDepth);
    }
    out.push(']');
  } else if (v instanceof Map) {
    const entries = [...v];
    const simple = entries.every(([k]) => keyText(k) !== undefined);
    const texts = entries.map(([k, x]) => [simple ? keyText(k) : printKey(k), x]);
    if (new Set(texts.map(([k]) => k)).size !== texts.length) {
      throw new PackError('two map keys have the same JSON text');
    }
    writeObject(out, texts, depth, maxDepth);
  } else if (isPlainObject(v)) {
    writeObject(out, Object.entries(v), depth, maxDepth);
  } else {
    throw new PackError(`cannot pack a ${v.constructor?.name ?? 'object'} as JSON`);
  }
}

function printKey(k) {
  try {
    return printEdn(k);
  } catch (e) {
    throw new PackError(`cannot pack the map key: ${e.message}`, { cause: e });
  }
}

function writeObject(out, entries, depth, maxDepth) {
  out.push('{');
  entries.forEach(([k, x], j) => {
    if (j > 0) out.push(',');
    out.push(JSON.stringify(k), ':');
    writeJson(out, x, depth + 1, maxDepth);
  });
  out.push('}');
}

/** The packer named `name` ("edn" or "json"), or `packer` itself when it is an object. */
export function resolvePacker(packer) {
  if (packer === undefined || packer === null || packer === 'edn') return ednPacker();
  if (packer === 'json') return jsonPacker();
  if (typeof packer === 'object' && typeof packer.pack === 'function' && typeof packer.unpack === 'function') {
    return packer;
  }
  throw new TypeError(`unknown packer ${String(packer)}: use "edn", "json" or a packer object`);
}

export { EdnError };

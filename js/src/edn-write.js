// The EDN printer: Clojure's pr-str layout, as the Rust EDN packer prints it.

import { DEFAULT_MAX_DEPTH, EdnError, base64Encode, isSymbolText } from './edn-read.js';
import { Char, Keyword, List, Sym, Tagged, UUID, kw } from './types.js';

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
const TWO_POW_63 = 2 ** 63;

const STRING_ESCAPES = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\t': '\\t', '\r': '\\r', '\f': '\\f', '\b': '\\b' };
const CHAR_NAMES = { '\n': 'newline', ' ': 'space', '\t': 'tab', '\b': 'backspace', '\f': 'formfeed', '\r': 'return' };

/**
 * Prints `value` as EDN text, laid out as Clojure's `pr-str` does:
 * `[1 2]`, `(1 2)`, `{:a 1, :b "x"}`, `#{1}`, `:ns/kw`, `#uuid "…"`,
 * `#inst "2024-01-01T00:00:00.000-00:00"`, `1.5`, `1.0E10`, `##NaN`, `\newline`.
 *
 * Plain objects print as maps with keyword keys (`{a: 1}` → `{:a 1}`; a key
 * that is not valid keyword text, such as "a b", prints as a string);
 * `undefined` prints as `nil`.
 *
 * @param {unknown} value
 * @param {{maxDepth?: number}} [opts] nesting limit, 256 by default
 * @throws {EdnError} for values EDN cannot express (functions, JS symbols,
 *   class instances other than the supported ones, invalid dates) and for
 *   nesting deeper than `maxDepth` (cycles included).
 */
export function printEdn(value, opts = {}) {
  const out = [];
  write(out, value, 1, opts.maxDepth ?? DEFAULT_MAX_DEPTH);
  return out.join('');
}

function write(out, v, depth, maxDepth) {
  if (depth > maxDepth) throw new EdnError(`more than ${maxDepth} levels of nesting`);
  switch (typeof v) {
    case 'undefined':
      out.push('nil');
      return;
    case 'boolean':
      out.push(v ? 'true' : 'false');
      return;
    case 'number':
      out.push(printNumber(v));
      return;
    case 'bigint':
      out.push(v >= I64_MIN && v <= I64_MAX ? v.toString() : `${v}N`);
      return;
    case 'string':
      out.push(printString(v));
      return;
    case 'object':
      break;
    default:
      throw new EdnError(`cannot print a ${typeof v} as EDN`);
  }
  if (v === null) {
    out.push('nil');
  } else if (v instanceof Keyword) {
    out.push(':', v.fqn);
  } else if (v instanceof Sym) {
    out.push(v.fqn);
  } else if (v instanceof Char) {
    out.push(printChar(v.value));
  } else if (v instanceof UUID) {
    out.push('#uuid "', v.value, '"');
  } else if (v instanceof Date) {
    out.push('#inst "', printInst(v), '"');
  } else if (v instanceof Uint8Array) {
    out.push('#sente/bytes "', base64Encode(v), '"');
  } else if (v instanceof Tagged) {
    out.push('#', v.tag, ' ');
    write(out, v.value, depth + 1, maxDepth);
  } else if (Array.isArray(v)) {
    const list = v instanceof List;
    out.push(list ? '(' : '[');
    writeItems(out, v, depth, maxDepth);
    out.push(list ? ')' : ']');
  } else if (v instanceof Set) {
    out.push('#{');
    writeItems(out, v, depth, maxDepth);
    out.push('}');
  } else if (v instanceof Map) {
    writeEntries(out, v, depth, maxDepth);
  } else if (isPlainObject(v)) {
    writeEntries(out, Object.entries(v).map(([k, x]) => [isSymbolText(k) ? kw(k) : k, x]), depth, maxDepth);
  } else {
    throw new EdnError(`cannot print a ${v.constructor?.name ?? 'object'} as EDN`);
  }
}

function writeItems(out, items, depth, maxDepth) {
  let first = true;
  for (const x of items) {
    if (!first) out.push(' ');
    first = false;
    write(out, x, depth + 1, maxDepth);
  }
}

function writeEntries(out, entries, depth, maxDepth) {
  out.push('{');
  let first = true;
  for (const [k, x] of entries) {
    if (!first) out.push(', ');
    first = false;
    write(out, k, depth + 1, maxDepth);
    out.push(' ');
    write(out, x, depth + 1, maxDepth);
  }
  out.push('}');
}

/** True for `{…}` literals and `Object.create(null)` objects. */
export function isPlainObject(v) {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function printString(s) {
  // eslint-disable-next-line no-control-regex
  return `"${s.replace(/["\\\n\t\r\f\b]|[\u0000-\u001f]/g, (c) => STRING_ESCAPES[c] ?? `\\u${hex4(c)}`)}"`;
}

function printChar(c) {
  if (c in CHAR_NAMES) return `\\${CHAR_NAMES[c]}`;
  // eslint-disable-next-line no-control-regex
  if (/^[\u0000-\u001f\u007f-\u009f]$/.test(c)) return `\\u${hex4(c)}`;
  return `\\${c}`;
}

const hex4 = (c) => c.charCodeAt(0).toString(16).padStart(4, '0');

/**
 * A number as Clojure prints it. Integral numbers print as integers (a JS
 * number cannot tell `1.0` from `1`) while below 2^63 in magnitude; any
 * other finite number prints as Java's `Double.toString` lays it out:
 * `1.5`, `0.001`, `1.0E7`, `1.0E-4`, `1.0E21`; and `##Inf`, `##-Inf`, `##NaN`.
 */
export function printNumber(n) {
  if (Number.isNaN(n)) return '##NaN';
  if (n === Infinity) return '##Inf';
  if (n === -Infinity) return '##-Inf';
  if (Number.isInteger(n) && Math.abs(n) < TWO_POW_63) {
    return Number.isSafeInteger(n) ? String(n === 0 ? 0 : n) : BigInt(n).toString();
  }
  return printDouble(n);
}

/** Java's `Double.toString` layout of a finite, non-zero double (shortest round-trip digits). */
function printDouble(n) {
  const sign = n < 0 ? '-' : '';
  const abs = Math.abs(n);
  const [mantissa, expText] = abs.toExponential().split('e');
  const exp = Number(expText);
  const digits = mantissa.replace('.', '');
  if (abs >= 1e-3 && abs < 1e7) {
    if (exp >= 0) {
      const intLen = exp + 1;
      if (digits.length <= intLen) return `${sign}${digits.padEnd(intLen, '0')}.0`;
      return `${sign}${digits.slice(0, intLen)}.${digits.slice(intLen)}`;
    }
    return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  }
  return `${sign}${digits[0]}.${digits.length > 1 ? digits.slice(1) : '0'}E${exp}`;
}

/** `yyyy-MM-ddTHH:mm:ss.SSS-00:00`, as Clojure prints a java.util.Date. */
function printInst(d) {
  const t = d.getTime();
  if (!Number.isFinite(t)) throw new EdnError('cannot print an invalid Date');
  const iso = d.toISOString(); // 2024-01-01T00:00:00.000Z, or ±YYYYYY-… outside 0000–9999
  const year = d.getUTCFullYear();
  const rest = iso.slice(iso.indexOf('-', 1));
  const yearText = year < 0 ? `-${String(-year).padStart(4, '0')}` : String(year).padStart(4, '0');
  return `${yearText}${rest.slice(0, -1)}-00:00`;
}

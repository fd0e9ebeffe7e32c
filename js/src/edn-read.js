// The EDN reader: clojure.tools.reader.edn/read-string semantics, one value.

import { Char, Keyword, List, Sym, Tagged, UUID, kw, sym } from './types.js';

/** The default nesting limit of the reader and the printer. */
export const DEFAULT_MAX_DEPTH = 256;

/** An EDN text that cannot be read (or a value that cannot be printed). */
export class EdnError extends Error {
  constructor(message, offset) {
    super(offset === undefined ? message : `${message} (at offset ${offset})`);
    this.name = 'EdnError';
    /** The UTF-16 offset in the text where the problem is, when known. */
    this.offset = offset;
  }
}

const WS = new Set([' ', '\t', '\n', '\r', ',', '\f', '\v']);
const TERMINATORS = new Set([...WS, '"', ';', '@', '^', '`', '~', '(', ')', '[', ']', '{', '}', '\\']);
const CHAR_NAMES = {
  newline: '\n',
  space: ' ',
  tab: '\t',
  backspace: '\b',
  formfeed: '\f',
  return: '\r',
};
const STRING_ESCAPES = { t: '\t', r: '\r', n: '\n', '\\': '\\', '"': '"', b: '\b', f: '\f' };
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

const isDigit = (c) => c >= '0' && c <= '9';

/**
 * True when `text` is a readable symbol or keyword name (without the colon):
 * no delimiters, no leading digit, at most one namespace separator.
 */
export function isSymbolText(text) {
  if (typeof text !== 'string' || text === '') return false;
  if (text === '/') return true;
  for (const c of text) if (TERMINATORS.has(c)) return false;
  const c0 = text[0];
  if (isDigit(c0) || ((c0 === '+' || c0 === '-' || c0 === '.') && text.length > 1 && isDigit(text[1]))) return false;
  if (c0 === '#') return false;
  const slash = text.indexOf('/');
  if (slash < 0) return true;
  const ns = text.slice(0, slash);
  const name = text.slice(slash + 1);
  return ns !== '' && name !== '' && (name === '/' || !name.includes('/')) && !isDigit(name[0]);
}

/**
 * Reads exactly one EDN value from `text` (surrounding whitespace, commas,
 * comments and `#_` discards allowed). Empty text reads as `null`, as
 * Sente's EDN packer does.
 *
 * @param {string} text
 * @param {{maxDepth?: number}} [opts] nesting limit, 256 by default
 * @throws {EdnError} on malformed input, trailing input, a duplicate map key
 *   or set element, or nesting deeper than `maxDepth`.
 */
export function readEdn(text, opts = {}) {
  if (typeof text !== 'string') throw new EdnError('EDN text must be a string');
  const r = new Reader(text, opts.maxDepth ?? DEFAULT_MAX_DEPTH);
  r.skipWs();
  if (r.i === text.length) return null;
  const value = r.read(1);
  r.skipWs();
  if (r.i !== text.length) throw new EdnError('only one top-level value is allowed', r.i);
  return value;
}

class Reader {
  constructor(text, maxDepth) {
    this.s = text;
    this.i = 0;
    this.maxDepth = maxDepth;
  }

  skipWs() {
    const s = this.s;
    for (;;) {
      const c = s[this.i];
      if (c === undefined) return;
      if (WS.has(c)) {
        this.i++;
      } else if (c === ';') {
        const nl = s.indexOf('\n', this.i);
        this.i = nl < 0 ? s.length : nl + 1;
      } else if (c === '#' && s[this.i + 1] === '_') {
        this.i += 2;
        this.skipWs();
        if (this.i === s.length) throw new EdnError('#_ with nothing to discard', this.i);
        this.read(1); // a discarded form still counts against the depth limit
      } else {
        return;
      }
    }
  }

  read(depth) {
    if (depth > this.maxDepth) throw new EdnError(`more than ${this.maxDepth} levels of nesting`, this.i);
    const start = this.i;
    const c = this.s[this.i];
    switch (c) {
      case undefined:
        throw new EdnError('expected a value', this.i);
      case '[':
        this.i++;
        return this.readItems(']', depth, []);
      case '(':
        this.i++;
        return this.readItems(')', depth, new List());
      case '{':
        this.i++;
        return this.readMap(start, depth, null);
      case '"':
        return this.readString();
      case '\\':
        return this.readChar();
      case ':':
        return this.readKeyword();
      case '#':
        return this.readDispatch(depth);
      case ')':
      case ']':
      case '}':
        throw new EdnError(`unmatched delimiter '${c}'`, this.i);
      case '@':
      case '^':
      case '`':
      case '~':
        throw new EdnError(`'${c}' is not valid in EDN`, this.i);
      default:
        return this.readAtom(start, this.token());
    }
  }

  readItems(close, depth, items) {
    for (;;) {
      this.skipWs();
      const c = this.s[this.i];
      if (c === undefined) throw new EdnError(`expected '${close}'`, this.i);
      if (c === close) {
        this.i++;
        return items;
      }
      items.push(this.read(depth + 1));
    }
  }

  readMap(start, depth, ns) {
    const items = this.readItems('}', depth, []);
    if (items.length % 2 !== 0) throw new EdnError('a map literal must contain an even number of forms', start);
    const map = new Map();
    for (let j = 0; j < items.length; j += 2) {
      const key = ns === null ? items[j] : qualify(items[j], ns);
      if (map.has(key)) throw new EdnError('duplicate map key', start);
      map.set(key, items[j + 1]);
    }
    return map;
  }

  readDispatch(depth) {
    const start = this.i;
    this.i++;
    const c = this.s[this.i];
    if (c === '{') {
      this.i++;
      const items = this.readItems('}', depth, []);
      const set = new Set();
      for (const x of items) {
        if (set.has(x)) throw new EdnError('duplicate set element', start);
        set.add(x);
      }
      return set;
    }
    if (c === '#') {
      this.i++;
      const tok = this.token();
      if (tok === 'Inf') return Infinity;
      if (tok === '-Inf') return -Infinity;
      if (tok === 'NaN') return NaN;
      throw new EdnError(`unknown symbolic value ##${tok}`, start);
    }
    if (c === ':') {
      this.i++;
      const ns = this.token();
      if (!isSymbolText(ns) || ns.includes('/')) throw new EdnError('invalid namespaced map prefix', start);
      this.skipWs();
      if (this.s[this.i] !== '{') throw new EdnError('a namespaced map prefix must be followed by a map', this.i);
      this.i++;
      return this.readMap(start, depth, ns);
    }
    if (c !== undefined && /[A-Za-z]/.test(c)) {
      const tag = this.token();
      if (!isSymbolText(tag)) throw new EdnError(`invalid tag #${tag}`, start);
      this.skipWs();
      const at = this.i;
      return tagged(tag, this.read(depth + 1), at);
    }
    if (c === undefined) throw new EdnError("expected a dispatch form after '#'", this.i);
    throw new EdnError(`unsupported dispatch '#${c}'`, start);
  }

  /** A maximal run of non-terminating characters. */
  token() {
    const s = this.s;
    const start = this.i;
    while (this.i < s.length && !TERMINATORS.has(s[this.i])) this.i++;
    return s.slice(start, this.i);
  }

  readKeyword() {
    const start = this.i;
    this.i++;
    const tok = this.token();
    if (tok.startsWith(':') || !isSymbolText(tok)) throw new EdnError(`invalid keyword :${tok}`, start);
    return kw(tok);
  }

  readAtom(start, tok) {
    if (tok === '') throw new EdnError('unexpected character', start);
    const c0 = tok[0];
    if (isDigit(c0) || ((c0 === '+' || c0 === '-') && tok.length > 1 && isDigit(tok[1]))) {
      const n = parseNumber(tok);
      if (n === undefined) throw new EdnError(`invalid number ${tok}`, start);
      return n;
    }
    if (tok === 'nil') return null;
    if (tok === 'true') return true;
    if (tok === 'false') return false;
    if (isSymbolText(tok)) return sym(tok);
    throw new EdnError(`invalid symbol ${tok}`, start);
  }

  readString() {
    const s = this.s;
    const open = this.i;
    this.i++;
    let out = '';
    let run = this.i;
    for (;;) {
      const c = s[this.i];
      if (c === undefined) throw new EdnError('unterminated string', open);
      if (c === '"') {
        out += s.slice(run, this.i);
        this.i++;
        return out;
      }
      if (c !== '\\') {
        this.i++;
        continue;
      }
      out += s.slice(run, this.i);
      const escAt = this.i;
      const e = s[this.i + 1];
      this.i += 2;
      if (e === undefined) throw new EdnError('unterminated string', open);
      if (e in STRING_ESCAPES) {
        out += STRING_ESCAPES[e];
      } else if (e === 'u') {
        out += String.fromCharCode(this.hex4(escAt));
      } else if (e >= '0' && e <= '7') {
        let n = e.charCodeAt(0) - 48;
        for (let len = 1; len < 3 && s[this.i] >= '0' && s[this.i] <= '7'; len++) {
          n = n * 8 + (s.charCodeAt(this.i) - 48);
          this.i++;
        }
        if (n > 0o377) throw new EdnError('octal escape out of range', escAt);
        out += String.fromCharCode(n);
      } else {
        throw new EdnError(`unsupported escape \\${e}`, escAt);
      }
      run = this.i;
    }
  }

  /** The four hex digits after `\u` (surrogate halves combine in the JS string). */
  hex4(escAt) {
    const digits = this.s.slice(this.i, this.i + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(digits)) throw new EdnError('\\u needs four hex digits', escAt);
    this.i += 4;
    return parseInt(digits, 16);
  }

  readChar() {
    const s = this.s;
    const start = this.i;
    this.i++;
    const first = s.codePointAt(this.i);
    if (first === undefined) throw new EdnError("expected a character after '\\'", start);
    const firstLen = first > 0xffff ? 2 : 1;
    this.i += firstLen;
    while (this.i < s.length && !TERMINATORS.has(s[this.i])) this.i++;
    const tok = s.slice(start + 1, this.i);
    if (tok.length === firstLen) return new Char(tok);
    let ch;
    if (tok in CHAR_NAMES) {
      ch = CHAR_NAMES[tok];
    } else if (/^u[0-9a-fA-F]{4}$/.test(tok)) {
      ch = String.fromCharCode(parseInt(tok.slice(1), 16));
    } else if (/^o[0-7]{1,3}$/.test(tok) && parseInt(tok.slice(1), 8) <= 0o377) {
      ch = String.fromCharCode(parseInt(tok.slice(1), 8));
    } else {
      throw new EdnError(`unsupported character \\${tok}`, start);
    }
    return new Char(ch);
  }
}

function tagged(tag, value, at) {
  switch (tag) {
    case 'inst': {
      const d = typeof value === 'string' ? parseInst(value) : null;
      if (d === null) throw new EdnError(`invalid #inst ${JSON.stringify(value)}`, at);
      return d;
    }
    case 'uuid':
      try {
        return new UUID(value);
      } catch {
        throw new EdnError(`invalid #uuid ${JSON.stringify(value)}`, at);
      }
    case 'sente/bytes': {
      const bytes = typeof value === 'string' ? base64Decode(value) : null;
      if (bytes === null) throw new EdnError('#sente/bytes takes base64 text', at);
      return bytes;
    }
    default:
      return new Tagged(tag, value);
  }
}

/** Applies a namespaced-map prefix: `:a` becomes `:ns/a`, `:_/a` becomes `:a`. */
function qualify(key, ns) {
  if (key instanceof Keyword) {
    if (key.namespace === null) return kw(`${ns}/${key.name}`);
    if (key.namespace === '_') return kw(key.name);
  } else if (key instanceof Sym && key.namespace === null) {
    return sym(`${ns}/${key.name}`);
  }
  return key;
}

/** An integer as a number when it is safe, else as a BigInt. */
function integer(big) {
  return big >= -MAX_SAFE && big <= MAX_SAFE ? Number(big) : big;
}

/**
 * Parses an EDN number token. Integers are numbers up to 2^53 and BigInts
 * beyond (an `N` suffix only marks the literal: `1N` reads as 1); `M`
 * decimals, floats and ratios are numbers. Returns undefined when invalid.
 */
export function parseNumber(tok) {
  const neg = tok[0] === '-';
  const body = tok[0] === '-' || tok[0] === '+' ? tok.slice(1) : tok;
  const sign = neg ? '-' : '';
  const ratio = /^(\d+)\/(\d+)$/.exec(body);
  if (ratio) {
    const den = BigInt(ratio[2]);
    if (den === 0n) return undefined;
    const num = BigInt(sign + ratio[1]);
    return num % den === 0n ? integer(num / den) : Number(num) / Number(den);
  }
  const dec = /^(\d+)(\.\d*)?([eE][+-]?\d+)?(M)?$/.exec(body);
  if (dec && (dec[2] !== undefined || dec[3] !== undefined || dec[4] !== undefined)) {
    return Number(sign + body.replace(/M$/, ''));
  }
  let digits = body;
  let radix = 10;
  if (digits.endsWith('N')) digits = digits.slice(0, -1);
  let m;
  if ((m = /^0[xX]([0-9a-fA-F]+)$/.exec(digits))) {
    radix = 16;
    digits = m[1];
  } else if ((m = /^(\d{1,2})[rR]([0-9a-zA-Z]+)$/.exec(digits))) {
    radix = Number(m[1]);
    digits = m[2].toLowerCase();
    if (radix < 2 || radix > 36) return undefined;
  } else if (/^0[0-7]+$/.test(digits)) {
    radix = 8;
    digits = digits.slice(1);
  } else if (!/^(0|[1-9]\d*)$/.test(digits)) {
    return undefined;
  }
  let value = 0n;
  const r = BigInt(radix);
  for (const c of digits) {
    const d = parseInt(c, radix);
    if (Number.isNaN(d)) return undefined;
    value = value * r + BigInt(d);
  }
  return integer(neg ? -value : value);
}

const INST_RE =
  /^([+-]?\d{4,})(?:-(\d{2})(?:-(\d{2})(?:[Tt](\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?)?)?)?(?:([Zz])|([+-])(\d{2}):(\d{2}))?$/;

/**
 * Parses an `#inst` timestamp (RFC 3339, with omittable trailing parts as
 * Clojure accepts them) into a Date; null when invalid. Precision beyond
 * milliseconds is dropped.
 */
export function parseInst(text) {
  const m = INST_RE.exec(text);
  if (!m) return null;
  const year = Number(m[1]);
  const month = m[2] === undefined ? 1 : Number(m[2]);
  const day = m[3] === undefined ? 1 : Number(m[3]);
  const hour = Number(m[4] ?? 0);
  const minute = Number(m[5] ?? 0);
  const second = Number(m[6] ?? 0);
  const ms = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return null;
  let offsetMin = 0;
  if (m[9] !== undefined) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return null;
    offsetMin = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, Math.min(second, 59), ms);
  if (d.getUTCMonth() !== month - 1) return null; // a day past the month's end rolled over
  const t = d.getTime() - offsetMin * 60000;
  if (!Number.isFinite(t) || Math.abs(t) > 8.64e15) return null;
  return new Date(t);
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Standard padded base64 of bytes. */
export function base64Encode(bytes) {
  let out = '';
  for (let j = 0; j < bytes.length; j += 3) {
    const n = (bytes[j] << 16) | ((bytes[j + 1] ?? 0) << 8) | (bytes[j + 2] ?? 0);
    out += B64[(n >> 18) & 63] + B64[(n >> 12) & 63];
    out += j + 1 < bytes.length ? B64[(n >> 6) & 63] : '=';
    out += j + 2 < bytes.length ? B64[n & 63] : '=';
  }
  return out;
}

/** Decodes standard padded base64; null when malformed. */
export function base64Decode(text) {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return null;
  const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((text.length / 4) * 3 - pad);
  let o = 0;
  for (let j = 0; j < text.length; j += 4) {
    let n = 0;
    for (let k = 0; k < 4; k++) {
      const c = text[j + k];
      n = (n << 6) | (c === '=' ? 0 : B64.indexOf(c));
    }
    if (o < out.length) out[o++] = (n >> 16) & 255;
    if (o < out.length) out[o++] = (n >> 8) & 255;
    if (o < out.length) out[o++] = n & 255;
  }
  return out;
}

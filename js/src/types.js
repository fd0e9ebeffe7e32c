// The EDN value types that have no native JavaScript counterpart.
//
// Mapping (see README.md, "EDN values in JavaScript"):
//   nil -> null, true/false -> boolean, string -> string,
//   integer -> number (BigInt beyond 2^53), float -> number,
//   keyword -> Keyword (interned: kw("a/b") === kw("a/b")),
//   symbol -> Sym (interned), character -> Char, vector -> Array,
//   list -> List (an Array subclass), map -> Map, set -> Set,
//   #uuid -> UUID, #inst -> Date, #sente/bytes -> Uint8Array,
//   any other tag -> Tagged {tag, value}.

const keywords = new Map();
const symbols = new Map();

/** Splits "ns/name" into [ns, name]; "/" and "name" have no namespace. */
function splitName(text) {
  const slash = text.indexOf('/');
  if (slash <= 0 || text === '/') return [null, text];
  return [text.slice(0, slash), text.slice(slash + 1)];
}

/** An EDN keyword such as `:chsk/handshake`. Interned: compare with `===`. */
export class Keyword {
  /** Use `kw(text)` instead: keywords are interned. */
  constructor(text, token) {
    if (token !== keywords) throw new TypeError('use kw(text) to make a keyword');
    const [namespace, name] = splitName(text);
    /** The namespace, or null: "chsk" for :chsk/handshake. */
    this.namespace = namespace;
    /** The name: "handshake" for :chsk/handshake. */
    this.name = name;
    /** The full text without the colon: "chsk/handshake". */
    this.fqn = text;
    Object.freeze(this);
  }

  /** The EDN text, with the colon: ":chsk/handshake". */
  toString() {
    return `:${this.fqn}`;
  }

  /** JSON.stringify writes a keyword as its text without the colon. */
  toJSON() {
    return this.fqn;
  }
}

/** An EDN symbol such as `my.ns/foo`. Interned: compare with `===`. */
export class Sym {
  /** Use `sym(text)` instead: symbols are interned. */
  constructor(text, token) {
    if (token !== symbols) throw new TypeError('use sym(text) to make a symbol');
    const [namespace, name] = splitName(text);
    this.namespace = namespace;
    this.name = name;
    this.fqn = text;
    Object.freeze(this);
  }

  toString() {
    return this.fqn;
  }

  toJSON() {
    return this.fqn;
  }
}

/**
 * The keyword `:text` (text without the colon, e.g. "chsk/state"); the same
 * object for the same text. A leading colon is tolerated and dropped.
 */
export function kw(text) {
  if (typeof text !== 'string' || text === '') throw new TypeError('a keyword needs a non-empty string');
  if (text.startsWith(':') && text.length > 1) text = text.slice(1);
  let k = keywords.get(text);
  if (k === undefined) {
    k = new Keyword(text, keywords);
    keywords.set(text, k);
  }
  return k;
}

/** The symbol `text`; the same object for the same text. */
export function sym(text) {
  if (typeof text !== 'string' || text === '') throw new TypeError('a symbol needs a non-empty string');
  let s = symbols.get(text);
  if (s === undefined) {
    s = new Sym(text, symbols);
    symbols.set(text, s);
  }
  return s;
}

/** An EDN character such as `\a` or `\newline`: one Unicode code point. */
export class Char {
  constructor(value) {
    if (typeof value !== 'string' || [...value].length !== 1) {
      throw new TypeError('a Char holds exactly one code point');
    }
    /** The character as a one-code-point string. */
    this.value = value;
    Object.freeze(this);
  }

  toString() {
    return this.value;
  }

  toJSON() {
    return this.value;
  }
}

const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** An EDN `#uuid "…"`: the canonical lowercase text in `value`. */
export class UUID {
  constructor(text) {
    if (typeof text !== 'string' || !UUID_RE.test(text)) {
      throw new TypeError(`invalid UUID ${JSON.stringify(text)}`);
    }
    /** The lowercase canonical text, "0b4c7e0e-4d2a-4a4e-9b8f-3f1d0f3d2a11". */
    this.value = text.toLowerCase();
    Object.freeze(this);
  }

  toString() {
    return this.value;
  }

  toJSON() {
    return this.value;
  }
}

/** A tagged literal with a tag this library does not know: `#my/tag value`. */
export class Tagged {
  constructor(tag, value) {
    if (typeof tag !== 'string' || tag === '') throw new TypeError('a tag needs a non-empty string');
    /** The tag without `#`, e.g. "my/tag". */
    this.tag = tag;
    /** The tagged value. */
    this.value = value;
    Object.freeze(this);
  }
}

/**
 * An EDN list `(a b c)`. It is an Array (so it indexes, iterates and maps
 * like one); only the printer tells it from a vector. Make one with
 * `List.from(items)` or `List.of(a, b)`.
 */
export class List extends Array {}

/** True for an EDN vector: a plain Array that is not a List. */
export function isVector(x) {
  return Array.isArray(x) && !(x instanceof List);
}

/** True when `x` is the keyword `text` (a Keyword, or with `lenient` the bare string). */
export function isKw(x, text, lenient = false) {
  if (x instanceof Keyword) return x.fqn === text;
  return lenient && typeof x === 'string' && x === text;
}

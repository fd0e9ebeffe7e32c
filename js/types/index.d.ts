// Type declarations for sente-client (hand-written; see README.md).

// ---- EDN values -------------------------------------------------------------

/** An EDN keyword such as `:chsk/handshake`. Interned: compare with `===`. */
export class Keyword {
  private constructor();
  /** The namespace, or null: "chsk" for :chsk/handshake. */
  readonly namespace: string | null;
  /** The name: "handshake" for :chsk/handshake. */
  readonly name: string;
  /** The full text without the colon: "chsk/handshake". */
  readonly fqn: string;
  /** ":chsk/handshake". */
  toString(): string;
  /** "chsk/handshake". */
  toJSON(): string;
}

/** An EDN symbol such as `my.ns/foo`. Interned: compare with `===`. */
export class Sym {
  private constructor();
  readonly namespace: string | null;
  readonly name: string;
  readonly fqn: string;
  toString(): string;
  toJSON(): string;
}

/** The keyword `:text` (without the colon; a leading colon is dropped). */
export function kw(text: string): Keyword;
/** The symbol `text`. */
export function sym(text: string): Sym;

/** An EDN character: one Unicode code point. */
export class Char {
  constructor(value: string);
  readonly value: string;
}

/** An EDN `#uuid`: `value` is the lowercase canonical text. */
export class UUID {
  /** @throws {TypeError} when `text` is not a UUID. */
  constructor(text: string);
  readonly value: string;
}

/** A tagged literal with an unknown tag: `#my/tag value`. */
export class Tagged {
  constructor(tag: string, value: EdnValue);
  /** The tag without `#`. */
  readonly tag: string;
  readonly value: EdnValue;
}

/** An EDN list `(…)`: an Array that prints with parentheses. */
export class List<T = EdnValue> extends Array<T> {}

/**
 * What the EDN reader produces and the printer accepts. The printer also
 * accepts plain objects (maps with keyword keys) and `undefined` (nil).
 */
export type EdnValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Keyword
  | Sym
  | Char
  | UUID
  | Date
  | Uint8Array
  | Tagged
  | EdnValue[]
  | List<EdnValue>
  | Set<EdnValue>
  | Map<EdnValue, EdnValue>
  | { [key: string]: EdnValue | undefined }
  | undefined;

/** True for a plain Array (an EDN vector) that is not a List. */
export function isVector(x: unknown): x is unknown[];
/** True when `x` is the keyword `text` (or, with `lenient`, the string `text`). */
export function isKw(x: unknown, text: string, lenient?: boolean): boolean;

/** The default nesting limit of the EDN reader and printer: 256. */
export const DEFAULT_MAX_DEPTH: number;

/** Malformed EDN, or a value EDN cannot express. */
export class EdnError extends Error {
  /** The UTF-16 offset of the problem in the text, when known. */
  readonly offset: number | undefined;
}

/**
 * Reads one EDN value (empty text reads as null).
 * @throws {EdnError} on malformed or trailing input, duplicate keys, or nesting deeper than maxDepth.
 */
export function readEdn(text: string, opts?: { maxDepth?: number }): EdnValue;

/**
 * Prints a value as Clojure's `pr-str` would.
 * @throws {EdnError} for values EDN cannot express and nesting deeper than maxDepth.
 */
export function printEdn(value: EdnValue, opts?: { maxDepth?: number }): string;

// ---- Packers ----------------------------------------------------------------

/** Turns the wrapper `[value ?cb]` into a frame or HTTP body and back. Both methods throw on failure. */
export interface Packer {
  readonly name: string;
  /** True when `pack` returns bytes (Ajax bodies are then posted and read as bytes). */
  readonly binary: boolean;
  /** False when keywords travel as plain strings (JSON). */
  readonly keepsKeywords: boolean;
  pack(value: unknown, websocket?: boolean): string | Uint8Array;
  unpack(data: string | Uint8Array | null, websocket?: boolean): unknown;
}

/** A packer's failure. */
export class PackError extends Error {}

/** The EDN packer (Sente's default). */
export function ednPacker(opts?: { maxDepth?: number }): Packer;
/** The JSON packer, the Rust JsonPacker's lossy mapping (keywords as "ns/name" strings). */
export function jsonPacker(opts?: { maxDepth?: number }): Packer;

// ---- Events -----------------------------------------------------------------

/** An event: `[id]` or `[id, data]` with a namespaced keyword id. */
export type Event = [Keyword] | [Keyword, unknown];
/** What `send` accepts: the id may also be a string "ns/name". */
export type EventInput = [Keyword | string] | [Keyword | string, unknown];

/** The reserved keywords. */
export const CHSK: {
  readonly handshake: Keyword;
  readonly state: Keyword;
  readonly recv: Keyword;
  readonly wsPing: Keyword;
  readonly wsPong: Keyword;
  readonly badEvent: Keyword;
  readonly closed: Keyword;
  readonly timeout: Keyword;
  readonly error: Keyword;
  readonly dummyCb200: Keyword;
};

interface Actual {
  type: string;
  value: unknown;
}
/** Why a value is not an event (Sente's validate-event). */
export type EventErrors =
  | { wrongType: { expected: 'vector'; actual: Actual } }
  | { wrongLength: { expected: [1, 2]; actual: Actual } }
  | { wrongIdType: { expected: 'keyword'; actual: Actual } }
  | { unnamespacedId: { expected: 'namespaced-keyword'; actual: Actual } };

export function validateEvent(x: unknown): EventErrors | null;
export function isEvent(x: unknown): x is Event;
/** `x` when valid, else `[:chsk/bad-event x]`. */
export function asEvent(x: unknown): Event;
/** True for `:chsk/closed`, `:chsk/timeout`, `:chsk/error`. */
export function isCbError(x: unknown): boolean;
export function isCbSuccess(x: unknown): boolean;

/** The rejection of a `send` that wanted a reply. */
export class ChskReplyError extends Error {
  /** `:chsk/closed`, `:chsk/timeout` or `:chsk/error`. */
  readonly reply: Keyword;
}

// ---- The client -------------------------------------------------------------

/** Why the connection last closed. */
export type CloseReasonText =
  | 'clean'
  | 'unexpected'
  | 'requested-disconnect'
  | 'requested-reconnect'
  | 'downgrading-ws-to-ajax'
  | 'ws-ping-timeout'
  | 'ws-error';

export const CloseReason: {
  readonly clean: 'clean';
  readonly unexpected: 'unexpected';
  readonly requestedDisconnect: 'requested-disconnect';
  readonly requestedReconnect: 'requested-reconnect';
  readonly downgradingWsToAjax: 'downgrading-ws-to-ajax';
  readonly wsPingTimeout: 'ws-ping-timeout';
  readonly wsError: 'ws-error';
};

export type ChskType = 'auto' | 'ws' | 'ajax';

/** The client's state map (Sente's, camelCased). Keys that never got a value are absent. */
export interface ChskState {
  /** The requested type until a handshake, then the transport that handshook. */
  readonly type: ChskType;
  /** True from a handshake until the connection closes. */
  readonly open: boolean;
  /** True from the first handshake on. */
  readonly everOpened: boolean;
  /** From the latest handshake: a string, or `:sente/nil-uid`. */
  readonly uid?: unknown;
  readonly handshakeData?: unknown;
  readonly lastWsError?: { readonly udt: number; readonly ev: unknown };
  readonly lastWsClose?: {
    readonly udt: number;
    readonly code: number;
    readonly reason: string;
    readonly clean: boolean;
    readonly ev: unknown;
  };
  readonly lastClose?: { readonly udt: number; readonly reason: CloseReasonText };
  /** When the reconnect waiting for its backoff is due (ms since the epoch). */
  readonly udtNextReconnect?: number;
}

/** The new state as state listeners and `chsk/state` events see it. */
export interface ChskStateChange extends ChskState {
  readonly openChanged?: true;
  readonly opened?: true;
  readonly closed?: true;
  readonly firstOpen?: true;
}

/** The WebSocket surface the client uses. */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState?: number;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onclose: ((ev: { code?: number; reason?: string; wasClean?: boolean }) => void) | null;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
}

export interface ClientOptions {
  /** `auto` (WebSocket, downgrading to Ajax on an early error), `ws` or `ajax`. Default `auto`. */
  type?: ChskType;
  /** `http`/`https` (with or without colon); default the page's, else `http:`. */
  protocol?: string;
  /** Default the page's host. Required outside a browser. */
  host?: string;
  port?: number | string;
  /** Query parameters for the WebSocket URL and Ajax GETs (not POSTs). */
  params?: Record<string, string | number | boolean | Keyword | null | undefined>;
  /** "edn" (default), "json" or a Packer. */
  packer?: 'edn' | 'json' | Packer;
  /** Default `crypto.randomUUID()`. */
  clientId?: string;
  /** Idle time before a keep-alive ping, halved as Sente does (default 20000 → a tick every 10000 ms); null disables. */
  wsKaliveMs?: number | null;
  /** How long a keep-alive ping waits for "pong" (default 5000). */
  wsPingTimeoutMs?: number;
  /** The wait before reconnect attempt n ≥ 2 (default: encore's exp-backoff). */
  backoffMsFn?: (attempt: number) => number;
  /** Deliver pushes as `[:chsk/recv ev]` (default false). */
  wrapRecvEvs?: boolean;
  ajaxOpts?: {
    /** Request timeout (default 60000); a send's timeoutMs overrides it for that POST. */
    timeoutMs?: number;
    headers?: Record<string, string>;
    credentials?: RequestCredentials;
  };
  /** Connect on construction (default true). */
  autoConnect?: boolean;
  /** Default `globalThis.WebSocket`; null for none. */
  WebSocket?: (new (url: string) => WebSocketLike) | null;
  /** Default `globalThis.fetch`. */
  fetch?: typeof fetch;
  setTimeout?: (f: () => void, ms: number) => unknown;
  clearTimeout?: (handle: any) => void;
  /** Wall-clock ms, for `udt` fields. Default `Date.now`. */
  now?: () => number;
  /** Uniform in [0, 1): backoff jitter and callback ids. Default `Math.random`. */
  random?: () => number;
  randomUUID?: () => string;
  /** Where warnings go (default console); null for silence. */
  logger?: Partial<Pick<Console, 'debug' | 'info' | 'warn' | 'error'>> | null;
}

export class ChannelSocketClient {
  /** The client id sent on every request. */
  readonly clientId: string;
  /** The current state (a frozen snapshot). */
  readonly state: ChskState;
  readonly packer: Packer;
  /** Connects (again); under `auto`, from a WebSocket first. */
  connect(): void;
  /** Disconnects for good: no more retries. */
  disconnect(): void;
  /** Disconnects and connects at once, skipping any backoff wait. */
  reconnect(): void;
  /** Breaks the connection to exercise recovery (see README.md). */
  breakConnection(opts?: { closeWs?: boolean }): void;
  /**
   * Sends an event. With `timeoutMs` a reply is requested: resolves with it,
   * or rejects with a ChskReplyError (`:chsk/closed`, `:chsk/timeout`,
   * `:chsk/error`). Without, resolves true when sent, false when not open.
   * @throws {TypeError} synchronously for an invalid event or timeout.
   */
  send<R = unknown>(event: EventInput, opts: { timeoutMs: number }): Promise<R>;
  send(event: EventInput, opts?: { timeoutMs?: undefined | null }): Promise<boolean>;
  /** Calls `cb` on every state change; returns an unsubscribe function. */
  onState(cb: (newState: ChskStateChange, oldState: ChskState, openChanged: boolean) => void): () => void;
  /** Calls `cb` for every event (handshake, state, ws-ping, pushes); returns an unsubscribe function. */
  onEvent(cb: (event: Event) => void): () => void;
}

/** Makes a client for the Sente endpoint at `path`; it connects at once unless `autoConnect` is false. */
export function makeChannelSocketClient(
  path: string | undefined,
  csrfToken?: string | (() => string | null | undefined) | null,
  opts?: ClientOptions,
): ChannelSocketClient;

/** encore's exp-backoff: uniform in [2^n·500, 2^n·1000) ms, n capped at 36. */
export function expBackoff(attempt: number, random?: () => number): number;

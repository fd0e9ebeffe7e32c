// The Sente channel-socket client: WebSocket with an Ajax long-poll fallback.
// The behaviour follows PROTOCOL.md §5 (and the Rust `ClientCore`).

import { expBackoff } from './backoff.js';
import { CHSK, ChskReplyError, isCbError, pushedEvent, toEvent } from './event.js';
import { ajaxRequest } from './http.js';
import { resolvePacker } from './packers.js';
import { isKw, isVector, kw } from './types.js';
import { baseUrls, mergeUrlWithQuery } from './url.js';

const AJAX_MARKER = kw('ajax');
const DEFAULT_AJAX_TIMEOUT_MS = 60000;
const WS_OPEN = 1;

/** Why the connection last closed: the values of `state.lastClose.reason`. */
export const CloseReason = Object.freeze({
  clean: 'clean',
  unexpected: 'unexpected',
  requestedDisconnect: 'requested-disconnect',
  requestedReconnect: 'requested-reconnect',
  downgradingWsToAjax: 'downgrading-ws-to-ajax',
  wsPingTimeout: 'ws-ping-timeout',
  wsError: 'ws-error',
});

const TRANSIENT_KEYS = ['openChanged', 'opened', 'closed', 'firstOpen'];

function sameState(a, b) {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => Object.is(a[k], b[k]));
}

function without(obj, key) {
  const { [key]: _, ...rest } = obj;
  return rest;
}

/**
 * Makes a client for the Sente server at `path` (see README.md for every
 * option). It connects at once unless `opts.autoConnect` is false.
 *
 * @param {string} path e.g. "/chsk"
 * @param {string | (() => string | null | undefined) | null} [csrfToken]
 * @param {object} [opts]
 */
export function makeChannelSocketClient(path, csrfToken, opts = {}) {
  return new ChannelSocketClient(path, csrfToken, opts);
}

/** The client; make one with `makeChannelSocketClient`. */
export class ChannelSocketClient {
  #opts;
  #packer;
  #csrfToken;
  #urls;
  #WebSocket;
  #fetch;
  #setTimeout;
  #clearTimeout;
  #now;
  #random;
  #log;
  #backoffMsFn;
  #kaliveTickMs;
  #pingTimeoutMs;
  #ajaxTimeoutMs;

  #state;
  /** The current implementation (Sente's ChWebSocket / ChAjaxSocket). */
  #conn;
  /** The own WebSocket: {id, ws, closeRequested}. */
  #socket = null;
  /** The held long-poll: {id, request}. */
  #poll = null;
  /** Awaited WebSocket replies by callback id. */
  #callbacks = new Map();
  #seq = 0;
  /** Frames sent or received (Sente's udt-last-comms), and its value at the last keep-alive tick. */
  #comms = 0;
  #commsAtTick = 0;
  #retryTimer = null;
  #keepAliveTimer = null;
  #unloading = false;

  #stateListeners = new Set();
  #eventListeners = new Set();
  #outbox = [];
  #flushing = false;

  constructor(path, csrfToken, opts = {}) {
    const type = opts.type ?? 'auto';
    if (!['auto', 'ws', 'ajax'].includes(type)) throw new TypeError(`type must be auto, ws or ajax, not ${type}`);
    this.#opts = { ...opts, type };
    this.#packer = resolvePacker(opts.packer);
    this.#csrfToken = csrfToken;
    this.#urls = baseUrls(path, opts);
    this.#WebSocket = 'WebSocket' in opts ? opts.WebSocket : globalThis.WebSocket ?? null;
    this.#fetch = opts.fetch ?? globalThis.fetch?.bind(globalThis) ?? null;
    this.#setTimeout = opts.setTimeout ?? globalThis.setTimeout.bind(globalThis);
    this.#clearTimeout = opts.clearTimeout ?? globalThis.clearTimeout.bind(globalThis);
    this.#now = opts.now ?? Date.now;
    this.#random = opts.random ?? Math.random;
    const logger = opts.logger === undefined ? console : opts.logger;
    this.#log = (level, ...args) => logger?.[level]?.('[sente]', ...args);
    this.#backoffMsFn = opts.backoffMsFn ?? ((n) => expBackoff(n, this.#random));
    const kalive = opts.wsKaliveMs === undefined ? 20000 : opts.wsKaliveMs;
    this.#kaliveTickMs = kalive === null ? null : Math.floor(kalive / 2);
    this.#pingTimeoutMs = opts.wsPingTimeoutMs ?? 5000;
    this.#ajaxTimeoutMs = opts.ajaxOpts?.timeoutMs ?? DEFAULT_AJAX_TIMEOUT_MS;
    /** The client id sent on every request. */
    this.clientId = opts.clientId ?? (opts.randomUUID ?? (() => globalThis.crypto.randomUUID()))();
    if (type === 'ws' && !this.#WebSocket) throw new TypeError('type "ws" needs a WebSocket class (opts.WebSocket)');
    if (type !== 'ws' && !this.#fetch) throw new TypeError(`type "${type}" needs fetch (opts.fetch)`);
    this.#state = Object.freeze({ type, open: false, everOpened: false });
    this.#conn = this.#freshConn(type === 'ajax' || !this.#WebSocket ? 'ajax' : 'ws');
    if (typeof window !== 'undefined' && typeof window.addEventListener === 'function') {
      window.addEventListener('beforeunload', () => {
        this.#unloading = true;
      });
    }
    if (opts.autoConnect !== false) this.connect();
  }

  // ---- Public API ---------------------------------------------------------

  /** The state map (a frozen snapshot; see README.md for its keys). */
  get state() {
    return this.#state;
  }

  /** The packer in use. */
  get packer() {
    return this.#packer;
  }

  /**
   * Calls `cb(newState, oldState, openChanged)` on every state change;
   * `newState` then also carries `openChanged`, `opened`, `closed` and
   * `firstOpen` when true. Returns a function that unsubscribes.
   */
  onState(cb) {
    this.#stateListeners.add(cb);
    return () => this.#stateListeners.delete(cb);
  }

  /**
   * Calls `cb(event)` for every event, as Sente's `ch-recv` delivers them:
   * `[:chsk/handshake [uid nil data first?]]`, `[:chsk/state [old new
   * openChanged]]`, `[:chsk/ws-ping]`, and each pushed event (wrapped as
   * `[:chsk/recv ev]` with `wrapRecvEvs`). Returns a function that unsubscribes.
   */
  onEvent(cb) {
    this.#eventListeners.add(cb);
    return () => this.#eventListeners.delete(cb);
  }

  /** Connects (again): under `auto`, from a WebSocket first. The retry count starts at 0. */
  connect() {
    this.#run(() => this.#connect());
  }

  /** Disconnects for good (no more retries): reason `requested-disconnect`. */
  disconnect() {
    this.#run(() => this.#stop(CloseReason.requestedDisconnect));
  }

  /** Disconnects (`requested-reconnect`) and connects at once, skipping any backoff wait. */
  reconnect() {
    this.#run(() => {
      this.#stop(CloseReason.requestedReconnect);
      this.#connect();
    });
  }

  /**
   * Breaks the connection to exercise recovery. WebSocket: with `closeWs`
   * (the default) closes it (3000, "CLOSE_ABNORMAL") and the close is
   * retried as usual; without, detaches it first, as a half-dead socket —
   * the next ping or send finds out. Ajax: aborts the held poll, which fails
   * and is retried.
   */
  breakConnection({ closeWs = true } = {}) {
    this.#run(() => {
      if (this.#conn.transport === 'ws') {
        if (closeWs) {
          this.#closeSocket(3000, 'CLOSE_ABNORMAL');
        } else if (this.#socket) {
          const s = this.#socket;
          this.#socket = null;
          if (!s.closeRequested) this.#closeWs(s.ws, 3000, 'CLOSE_ABNORMAL');
        }
      } else if (this.#abortPoll()) {
        this.#pollFailed();
      }
    });
  }

  /**
   * Sends an event (`[id]` or `[id data]`; the id a keyword, or a string
   * "ns/name" that becomes one).
   *
   * With `timeoutMs`, a reply is requested: the promise resolves with it, or
   * rejects with a `ChskReplyError` whose `reply` is `:chsk/closed` (not
   * open, nothing sent), `:chsk/timeout` (no reply in time) or `:chsk/error`
   * (the send or request failed). Without, the promise resolves with true
   * when the event went out and false when the client was not open.
   *
   * @throws {TypeError} synchronously, for an invalid event or timeout.
   */
  send(event, { timeoutMs } = {}) {
    const ev = toEvent(event);
    const wantsReply = timeoutMs !== undefined && timeoutMs !== null;
    if (wantsReply && !(Number.isInteger(timeoutMs) && timeoutMs >= 0)) {
      throw new TypeError('timeoutMs must be a non-negative integer');
    }
    return new Promise((resolve, reject) => {
      this.#run(() => {
        if (!this.#state.open) {
          this.#log('warn', 'send while the channel socket is closed', ev);
          if (wantsReply) reject(new ChskReplyError(CHSK.closed));
          else resolve(false);
          return;
        }
        const want = wantsReply
          ? {
              purpose: 'user',
              timeoutMs,
              settle: (reply) => (isCbError(reply) ? reject(new ChskReplyError(reply)) : resolve(reply)),
            }
          : null;
        try {
          this.#dispatch(ev, want);
        } catch (e) {
          reject(e);
          return;
        }
        if (!wantsReply) resolve(true);
      });
    });
  }

  // ---- Plumbing -----------------------------------------------------------

  /** Runs a transition, then delivers what it emitted (never re-entrantly). */
  #run(f) {
    try {
      f();
    } finally {
      this.#flush();
    }
  }

  #flush() {
    if (this.#flushing) return;
    this.#flushing = true;
    try {
      while (this.#outbox.length > 0) {
        const [kind, args] = this.#outbox.shift();
        const listeners = kind === 'state' ? this.#stateListeners : this.#eventListeners;
        for (const cb of [...listeners]) {
          try {
            cb(...args);
          } catch (e) {
            this.#log('error', `an ${kind} listener threw`, e);
          }
        }
      }
    } finally {
      this.#flushing = false;
    }
  }

  #emitEvent(ev) {
    this.#outbox.push(['event', [ev]]);
  }

  #freshConn(transport) {
    return { transport, gen: null, everOpened: false, retryCount: 0, awaitingRetry: false };
  }

  #timer(ms, f) {
    return this.#setTimeout(() => this.#run(f), ms);
  }

  #csrf() {
    const t = typeof this.#csrfToken === 'function' ? this.#csrfToken() : this.#csrfToken;
    return typeof t === 'string' && t.trim() !== '' ? t : null;
  }

  /** Applies `f` to the state and emits the change, if any. */
  #updateState(f) {
    const old = this.#state;
    const next = Object.freeze(f(old));
    if (sameState(old, next)) return;
    this.#state = next;
    const opened = next.open && !old.open;
    const closed = old.open && !next.open;
    const flags = { openChanged: opened || closed, opened, closed, firstOpen: opened && !old.everOpened };
    const shown = { ...next };
    for (const k of TRANSIENT_KEYS) if (flags[k]) shown[k] = true;
    Object.freeze(shown);
    if (opened) this.#log('info', 'chsk opened');
    if (closed) this.#log('warn', 'chsk closed', next.lastClose?.reason);
    this.#outbox.push(['state', [shown, old, flags.openChanged]]);
    this.#emitEvent([CHSK.state, [old, shown, flags.openChanged]]);
  }

  /** Sente's chsk-state->closed. */
  #markClosed(reason) {
    const udt = this.#now();
    this.#updateState((s) => {
      const next = { ...without(s, 'udtNextReconnect'), open: false };
      if (s.open) next.lastClose = Object.freeze({ udt, reason });
      return next;
    });
  }

  #receiveHandshake(transport, uid, data) {
    const first = !this.#conn.everOpened;
    this.#conn.everOpened = true;
    this.#updateState((s) => ({
      ...without(s, 'udtNextReconnect'),
      type: transport,
      open: true,
      everOpened: true,
      uid,
      handshakeData: data,
    }));
    this.#emitEvent([CHSK.handshake, [uid, null, data, first]]);
  }

  #deliverFromServer(ev) {
    this.#emitEvent(this.#opts.wrapRecvEvs ? [CHSK.recv, ev] : ev);
  }

  /** Unpacks `[payload ?cb]` (a 1-element wrapper too). Throws when it is none. */
  #unpackEnvelope(data, websocket) {
    const v = this.#packer.unpack(data, websocket);
    if (!Array.isArray(v) || v.length < 1 || v.length > 2) {
      throw new TypeError('a message must be a [payload ?cb] vector');
    }
    return [v[0], v[1] ?? null];
  }

  #isKw(x, text) {
    return isKw(x, text, !this.#packer.keepsKeywords);
  }

  /** A reply value as the application sees it (JSON's "chsk/timeout" is the keyword). */
  #replyValue(v) {
    if (!this.#packer.keepsKeywords && typeof v === 'string') {
      for (const k of [CHSK.dummyCb200, CHSK.timeout, CHSK.closed, CHSK.error]) if (v === k.fqn) return k;
    }
    return v;
  }

  /** `[:chsk/handshake [uid nil data]]` → {uid, data}; null when malformed. */
  #readHandshake(payload) {
    const args = payload[1];
    if (payload.length !== 2 || !Array.isArray(args) || args.length < 1 || args.length > 4) return null;
    return { uid: args[0], data: args[2] ?? null };
  }

  // ---- Connection lifecycle -----------------------------------------------

  #connect() {
    if (this.#opts.type === 'auto') {
      this.#dropTransport();
      this.#conn = this.#freshConn(this.#WebSocket ? 'ws' : 'ajax');
    }
    this.#start();
  }

  /** Sente's -chsk-connect! on the current implementation. */
  #start() {
    const gen = ++this.#seq;
    const conn = this.#conn;
    conn.gen = gen;
    conn.retryCount = 0;
    conn.awaitingRetry = false;
    this.#clearTimers();
    if (conn.transport === 'ws') {
      this.#commsAtTick = this.#comms;
      this.#openWs();
      const stillWs = this.#conn === conn && conn.gen === gen && conn.transport === 'ws';
      if (stillWs && this.#kaliveTickMs !== null) this.#scheduleKeepAlive(gen);
    } else {
      this.#abortPoll();
      this.#pollNext();
    }
  }

  /** Sente's -chsk-disconnect! on the current implementation. */
  #stop(reason) {
    this.#conn.gen = null;
    this.#conn.awaitingRetry = false;
    this.#clearTimers();
    this.#markClosed(reason);
    this.#closeSocket(1000, 'CLOSE_NORMAL');
    this.#abortPoll();
  }

  /** Sente's -chsk-reconnect! on the current implementation (ping timeout, send error). */
  #restart(reason) {
    this.#stop(reason);
    this.#start();
  }

  #clearTimers() {
    if (this.#retryTimer !== null) this.#clearTimeout(this.#retryTimer);
    if (this.#keepAliveTimer !== null) this.#clearTimeout(this.#keepAliveTimer);
    this.#retryTimer = null;
    this.#keepAliveTimer = null;
  }

  /** Forgets the socket and poll of an implementation being replaced. */
  #dropTransport() {
    this.#closeSocket(1000, 'CLOSE_NORMAL');
    this.#socket = null;
    this.#abortPoll();
  }

  /** Sente's retry-fn: attempt 1 at once, later ones after the backoff. */
  #retry() {
    const gen = this.#conn.gen;
    if (gen === null || this.#unloading) return;
    const attempt = ++this.#conn.retryCount;
    if (attempt === 1) {
      this.#attempt();
      return;
    }
    const wait = Math.max(0, Number(this.#backoffMsFn(attempt)) || 0);
    this.#log('debug', `reconnect attempt ${attempt} in ${wait} ms`);
    this.#conn.awaitingRetry = true;
    const conn = this.#conn;
    this.#retryTimer = this.#timer(wait, () => {
      this.#retryTimer = null;
      if (this.#conn === conn && conn.gen === gen) this.#attempt();
    });
    const udt = this.#now() + wait;
    this.#updateState((s) => ({ ...s, udtNextReconnect: udt }));
  }

  #attempt() {
    this.#conn.awaitingRetry = false;
    if (this.#conn.transport === 'ws') this.#openWs();
    else this.#pollNext();
  }

  // ---- WebSocket ----------------------------------------------------------

  #wsUrl() {
    return mergeUrlWithQuery(this.#urls.wsUrl, this.#opts.params, { 'client-id': this.clientId, 'csrf-token': this.#csrf() });
  }

  /** Sente's ws connect-fn: a new socket replaces (and closes) the old one. */
  #openWs() {
    if (this.#conn.gen === null) return;
    this.#closeSocket(1000, 'CLOSE_NORMAL');
    this.#socket = null;
    const id = ++this.#seq;
    let ws;
    try {
      ws = new this.#WebSocket(this.#wsUrl());
    } catch (e) {
      this.#log('warn', 'WebSocket construction failed', e);
      this.#retry();
      return;
    }
    try {
      ws.binaryType = 'arraybuffer';
    } catch {
      // Not every WebSocket implementation lets it be set.
    }
    this.#socket = { id, ws, closeRequested: false };
    ws.onmessage = (e) => this.#run(() => this.#wsMessage(id, e?.data));
    ws.onerror = (e) => this.#run(() => this.#wsError(id, e));
    ws.onclose = (e) => this.#run(() => this.#wsClosed(id, e ?? {}));
  }

  #ownSocket(id) {
    return this.#socket !== null && this.#socket.id === id;
  }

  #closeWs(ws, code, reason) {
    try {
      ws.close(code, reason);
    } catch (e) {
      this.#log('debug', 'WebSocket close failed', e);
    }
  }

  /** Asks for the own socket to be closed, once. */
  #closeSocket(code, reason) {
    const s = this.#socket;
    if (s && !s.closeRequested) {
      s.closeRequested = true;
      this.#closeWs(s.ws, code, reason);
    }
  }

  #wsMessage(id, data) {
    if (!this.#ownSocket(id) || this.#conn.gen === null) return;
    this.#comms++;
    let payload;
    let cb;
    try {
      const packed = data instanceof ArrayBuffer ? new Uint8Array(data) : data;
      [payload, cb] = this.#unpackEnvelope(packed, true);
    } catch (e) {
      this.#log('warn', 'bad message from the server', e);
      return;
    }
    if (isVector(payload) && this.#isKw(payload[0], 'chsk/handshake')) {
      const hs = this.#readHandshake(payload);
      if (hs === null) {
        this.#log('warn', 'malformed handshake', payload);
        return;
      }
      this.#receiveHandshake('ws', hs.uid, hs.data);
      this.#conn.retryCount = 0;
    } else if (this.#isKw(payload, 'chsk/ws-ping')) {
      if (this.#state.open) this.#dispatch([CHSK.wsPong], null);
      this.#deliverFromServer([CHSK.wsPing]);
    } else if (cb !== null && cb !== false) {
      this.#wsReply(this.#replyValue(payload), cb);
    } else if (this.#isKw(payload, 'chsk/timeout')) {
      this.#log('warn', 'unexpected :chsk/timeout over WebSocket');
    } else if (isVector(payload)) {
      for (const ev of payload) this.#deliverFromServer(pushedEvent(ev, !this.#packer.keepsKeywords));
    } else {
      this.#log('warn', 'a push must be a vector of events', payload);
    }
  }

  #wsError(id, ev) {
    if (!this.#ownSocket(id)) return;
    const udt = this.#now();
    this.#updateState((s) => ({ ...s, lastWsError: Object.freeze({ udt, ev }) }));
    const conn = this.#conn;
    if (this.#opts.type === 'auto' && conn.transport === 'ws' && conn.gen !== null && !conn.everOpened) {
      this.#log('warn', 'WebSocket failed before its handshake: downgrading to Ajax');
      this.#stop(CloseReason.downgradingWsToAjax);
      this.#socket = null;
      this.#conn = this.#freshConn('ajax');
      this.#start();
    }
  }

  #wsClosed(id, ev) {
    if (!this.#ownSocket(id)) return;
    this.#socket = null;
    const udt = this.#now();
    const clean = Boolean(ev.wasClean);
    const lastWsClose = Object.freeze({ udt, code: ev.code ?? 1006, reason: ev.reason ?? '', clean, ev });
    this.#updateState((s) => {
      const next = { ...without(s, 'udtNextReconnect'), open: false, lastWsClose };
      if (s.open) next.lastClose = Object.freeze({ udt, reason: clean ? CloseReason.clean : CloseReason.unexpected });
      return next;
    });
    this.#retry();
  }

  #scheduleKeepAlive(gen) {
    this.#keepAliveTimer = this.#timer(this.#kaliveTickMs, () => {
      this.#keepAliveTimer = null;
      this.#keepAlive(gen);
    });
  }

  /** A keep-alive tick: with no frame sent or received since the last one, ping. */
  #keepAlive(gen) {
    const conn = this.#conn;
    if (conn.gen !== gen || conn.transport !== 'ws') return;
    if (this.#comms === this.#commsAtTick && !conn.awaitingRetry) {
      if (this.#state.open) {
        const want = { purpose: 'ping', gen, timeoutMs: this.#pingTimeoutMs, settle: () => {} };
        this.#dispatch([CHSK.wsPing], want);
      } else {
        this.#log('debug', 'keep-alive tick while not open: reconnecting');
        this.#restart(CloseReason.wsPingTimeout);
      }
    }
    if (this.#conn === conn && conn.gen === gen) {
      this.#commsAtTick = this.#comms;
      this.#scheduleKeepAlive(gen);
    }
  }

  // ---- Sending and replies ------------------------------------------------

  /** Sente's -chsk-send! while open. Throws only when packing fails. */
  #dispatch(ev, want) {
    if (this.#conn.transport === 'ws') this.#wsSend(ev, want);
    else this.#ajaxSend(ev, want);
  }

  #wsSend(ev, want) {
    const token = want ? this.#freshToken() : null;
    const payload = this.#packer.pack([ev, token], true);
    if (want) this.#register(token, want);
    const gen = this.#conn.gen;
    const s = this.#socket;
    let sent = false;
    if (s !== null && (s.ws.readyState === undefined || s.ws.readyState === WS_OPEN)) {
      try {
        s.ws.send(payload);
        sent = true;
        this.#comms++;
      } catch (e) {
        this.#log('warn', 'WebSocket send failed', e);
      }
    }
    if (!sent) {
      if (want) this.#resolve(token, CHSK.error);
      if (gen !== null && this.#conn.gen === gen) this.#restart(CloseReason.wsError);
    }
  }

  #register(token, want) {
    const timer = this.#timer(want.timeoutMs, () => this.#resolve(token, CHSK.timeout));
    this.#callbacks.set(token, { ...want, timer });
  }

  /** Ends an awaited WebSocket reply; a keep-alive ping answered by anything but "pong" reconnects. */
  #resolve(token, reply) {
    const p = this.#callbacks.get(token);
    if (p === undefined) return;
    this.#callbacks.delete(token);
    this.#clearTimeout(p.timer);
    if (p.purpose === 'ping') {
      if (reply !== 'pong' && this.#conn.gen === p.gen) {
        this.#log('debug', 'keep-alive ping failed: reconnecting', reply);
        this.#restart(CloseReason.wsPingTimeout);
      }
    } else {
      p.settle(reply);
    }
  }

  #wsReply(value, cb) {
    if (typeof cb === 'string' && this.#callbacks.has(cb)) this.#resolve(cb, value);
    else this.#log('warn', 'reply without an awaiting callback (timed out?)', cb);
  }

  /** A 6-lowercase-hex-digit callback id (Sente's uuid-str 6), unique among the awaited ones. */
  #freshToken() {
    const hex = (n) => n.toString(16).padStart(6, '0');
    let n = 0;
    for (let i = 0; i < 8; i++) {
      n = Math.floor(this.#random() * 0x1000000) & 0xffffff;
      if (!this.#callbacks.has(hex(n))) return hex(n);
    }
    // A poor random source: probe onwards from the last draw.
    for (let i = 0; i < 0x1000000; i++) {
      n = (n + 1) & 0xffffff;
      if (!this.#callbacks.has(hex(n))) return hex(n);
    }
    throw new Error('no free callback id');
  }

  // ---- Ajax ---------------------------------------------------------------

  #ajaxHeaders(extra) {
    const headers = { ...(this.#opts.ajaxOpts?.headers ?? {}), 'x-requested-with': 'XMLHTTPRequest', ...extra };
    const token = this.#csrf();
    if (token !== null) headers['x-csrf-token'] = token;
    return headers;
  }

  #ajax(req, onDone) {
    return ajaxRequest(
      {
        fetch: this.#fetch,
        setTimeout: this.#setTimeout,
        clearTimeout: this.#clearTimeout,
        credentials: this.#opts.ajaxOpts?.credentials,
        binary: Boolean(this.#packer.binary),
        ...req,
      },
      (result) => this.#run(() => onDone(result)),
    );
  }

  /** Sente's poll-fn: the next long-poll of the own connection. */
  #pollNext() {
    const gen = this.#conn.gen;
    if (gen === null) return;
    const id = ++this.#seq;
    const url = mergeUrlWithQuery(this.#urls.ajaxUrl, this.#opts.params, {
      udt: this.#now(),
      'client-id': this.clientId,
      'handshake?': this.#state.open ? null : 1,
    });
    const poll = { id, request: null };
    this.#poll = poll;
    poll.request = this.#ajax({ url, method: 'GET', headers: this.#ajaxHeaders({}), timeoutMs: this.#ajaxTimeoutMs }, (r) => {
      if (this.#poll !== null && this.#poll.id === id) {
        this.#poll = null;
        this.#pollResult(r);
      }
    });
  }

  /** Aborts the held poll; true when there was one. */
  #abortPoll() {
    const p = this.#poll;
    if (p === null) return false;
    this.#poll = null;
    p.request?.abort();
    return true;
  }

  /** Sente's Ajax retry-fn: closed (unexpected), then a retry. */
  #pollFailed() {
    if (this.#conn.gen === null) return;
    this.#markClosed(CloseReason.unexpected);
    this.#retry();
  }

  #pollResult(r) {
    if (!r.ok) {
      if (r.error === 'timeout') {
        this.#conn.retryCount = 0;
        this.#pollNext();
      } else {
        this.#log('warn', 'Ajax long-poll failed', r.error, r.status ?? r.cause);
        this.#pollFailed();
      }
      return;
    }
    let payload;
    try {
      [payload] = this.#unpackEnvelope(r.body, false);
    } catch (e) {
      this.#log('warn', 'Ajax long-poll body does not unpack', e);
      this.#pollFailed();
      return;
    }
    const handshake = isVector(payload) && this.#isKw(payload[0], 'chsk/handshake') ? this.#readHandshake(payload) : null;
    if (handshake !== null) this.#receiveHandshake('ajax', handshake.uid, handshake.data);
    this.#updateState((s) => ({ ...s, open: true }));
    this.#conn.retryCount = 0;
    this.#pollNext();
    if (handshake !== null || this.#isKw(payload, 'chsk/timeout')) return;
    if (isVector(payload)) {
      for (const ev of payload) this.#deliverFromServer(pushedEvent(ev, !this.#packer.keepsKeywords));
    } else {
      this.#log('warn', 'Ajax long-poll body is not a batch of events', payload);
    }
  }

  /** One POST per event, `[event :ajax]` when a reply is awaited. */
  #ajaxSend(ev, want) {
    const payload = this.#packer.pack([ev, want ? AJAX_MARKER : null], false);
    const gen = this.#conn.gen;
    const udt = this.#now();
    const timeoutMs = want ? want.timeoutMs : this.#ajaxTimeoutMs;
    let req;
    if (payload instanceof Uint8Array) {
      req = {
        url: mergeUrlWithQuery(this.#urls.ajaxUrl, { udt, 'client-id': this.clientId, 'binary?': 'true' }),
        headers: this.#ajaxHeaders({ 'content-type': 'application/octet-stream' }),
        body: payload,
      };
    } else {
      const form = new URLSearchParams({ udt: String(udt), 'client-id': this.clientId, ppstr: payload });
      req = {
        url: this.#urls.ajaxUrl,
        headers: this.#ajaxHeaders({ 'content-type': 'application/x-www-form-urlencoded;charset=UTF-8' }),
        body: form.toString(),
      };
    }
    this.#ajax({ ...req, method: 'POST', timeoutMs }, (r) => this.#postResult(gen, want, r));
  }

  /** The end of a POST (PROTOCOL.md §3.5). */
  #postResult(gen, want, r) {
    let reply;
    let ok = false;
    if (!r.ok) {
      if (r.error === 'timeout') {
        reply = CHSK.timeout;
      } else {
        this.#log('warn', 'Ajax POST failed', r.error, r.status ?? r.cause);
        if (gen !== null && gen === this.#conn.gen) this.#markClosed(CloseReason.unexpected);
        reply = CHSK.error;
      }
    } else if (r.body.length === 0) {
      reply = CHSK.error;
    } else {
      try {
        reply = this.#replyValue(this.#unpackEnvelope(r.body, false)[0]);
        ok = true;
      } catch (e) {
        this.#log('warn', 'Ajax POST reply does not unpack', e);
        reply = CHSK.error;
      }
    }
    if (want) want.settle(reply);
    else if (ok && reply !== CHSK.dummyCb200) this.#log('warn', 'Ajax reply without a callback', reply);
    if (ok && gen !== null && gen === this.#conn.gen) this.#updateState((s) => ({ ...s, open: true }));
  }
}

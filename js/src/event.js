// Sente events: `[id]` or `[id data]` with a namespaced keyword id.

import { Keyword, isVector, kw } from './types.js';

/** Reserved ids and reply values (PROTOCOL.md §6.1). */
export const CHSK = Object.freeze({
  handshake: kw('chsk/handshake'),
  state: kw('chsk/state'),
  recv: kw('chsk/recv'),
  wsPing: kw('chsk/ws-ping'),
  wsPong: kw('chsk/ws-pong'),
  badEvent: kw('chsk/bad-event'),
  closed: kw('chsk/closed'),
  timeout: kw('chsk/timeout'),
  error: kw('chsk/error'),
  dummyCb200: kw('chsk/dummy-cb-200'),
});

function actual(x) {
  return { type: x === null ? 'nil' : Array.isArray(x) ? 'vector' : typeof x, value: x };
}

/**
 * Sente's `validate-event`: null for a valid event, else one of
 * `{wrongType}`, `{wrongLength}`, `{wrongIdType}`, `{unnamespacedId}`,
 * each `{expected, actual: {type, value}}`.
 */
export function validateEvent(x) {
  if (!isVector(x)) return { wrongType: { expected: 'vector', actual: actual(x) } };
  if (x.length !== 1 && x.length !== 2) return { wrongLength: { expected: [1, 2], actual: actual(x) } };
  const id = x[0];
  if (!(id instanceof Keyword)) return { wrongIdType: { expected: 'keyword', actual: actual(id) } };
  if (id.namespace === null) return { unnamespacedId: { expected: 'namespaced-keyword', actual: actual(id) } };
  return null;
}

/** True for a valid event. */
export function isEvent(x) {
  return validateEvent(x) === null;
}

/** `x` when it is a valid event, else `[:chsk/bad-event x]`. */
export function asEvent(x) {
  return isEvent(x) ? x : [CHSK.badEvent, x];
}

/**
 * Makes an event from what the application passes to `send`: a string id
 * ("ns/name") becomes a keyword. Throws a TypeError, carrying `errors`, for
 * anything that is still not a valid event.
 */
export function toEvent(x) {
  let ev = x;
  if (Array.isArray(ev) && typeof ev[0] === 'string') ev = [kw(ev[0]), ...ev.slice(1)];
  const errors = validateEvent(ev);
  if (errors !== null) {
    const err = new TypeError(`Invalid event: ${Object.keys(errors)[0]}`);
    err.errors = errors;
    err.given = x;
    throw err;
  }
  return ev;
}

/**
 * Reads a pushed event leniently: for packers that turn keywords into
 * strings, a string id "ns/name" becomes a keyword. Invalid events, and
 * events in the reserved `chsk` namespace, become `[:chsk/bad-event x]`.
 */
export function pushedEvent(x, lenient) {
  let ev = x;
  if (lenient && isVector(ev) && typeof ev[0] === 'string' && ev[0] !== '') ev = [kw(ev[0]), ...ev.slice(1)];
  if (!isEvent(ev)) return [CHSK.badEvent, x];
  if (ev[0].namespace === 'chsk') return [CHSK.badEvent, ev];
  return ev;
}

/** True for Sente's error replies: `:chsk/closed`, `:chsk/timeout`, `:chsk/error`. */
export function isCbError(x) {
  return x === CHSK.closed || x === CHSK.timeout || x === CHSK.error;
}

/** The negation of `isCbError`. */
export function isCbSuccess(x) {
  return !isCbError(x);
}

/**
 * The Error a `send` promise rejects with: `reply` is the keyword
 * `:chsk/closed`, `:chsk/timeout` or `:chsk/error`.
 */
export class ChskReplyError extends Error {
  constructor(reply) {
    super(`no reply: ${reply}`);
    this.name = 'ChskReplyError';
    /** The reserved reply keyword. */
    this.reply = reply;
  }
}

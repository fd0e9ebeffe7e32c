// Test doubles: a virtual clock, a scripted WebSocket class and a scripted
// fetch. (node --test also loads this file; it defines no tests.)

/** A virtual clock with setTimeout / clearTimeout / now, advanced by hand. */
export class FakeClock {
  constructor(start = 1_700_000_000_000) {
    this.t = start;
    this.timers = new Map();
    this.seq = 0;
    this.now = () => this.t;
    this.setTimeout = (f, ms) => {
      const id = ++this.seq;
      this.timers.set(id, { at: this.t + Math.max(0, ms ?? 0), seq: id, f });
      return id;
    };
    this.clearTimeout = (id) => {
      this.timers.delete(id);
    };
  }

  /** Pending timers, soonest first. */
  pending() {
    return [...this.timers.entries()].sort(([, a], [, b]) => a.at - b.at || a.seq - b.seq);
  }

  /** Moves time forward by `ms`, running every timer that falls due, in order. */
  advance(ms) {
    const end = this.t + ms;
    for (;;) {
      const next = this.pending()[0];
      if (!next || next[1].at > end) break;
      const [id, timer] = next;
      this.timers.delete(id);
      this.t = timer.at;
      timer.f();
    }
    this.t = end;
  }
}

/** A WebSocket class whose instances the test drives; instances are in `sockets`. */
export function fakeWebSocket() {
  const sockets = [];
  class FakeWebSocket {
    static CONNECTING = 0;
    static OPEN = 1;
    static CLOSING = 2;
    static CLOSED = 3;

    constructor(url) {
      this.url = url;
      this.readyState = 0;
      this.sent = [];
      this.closedWith = null;
      this.binaryType = 'blob';
      this.onmessage = null;
      this.onerror = null;
      this.onclose = null;
      sockets.push(this);
    }

    send(data) {
      if (this.readyState === 0) throw new Error('InvalidStateError: still connecting');
      this.sent.push(data);
    }

    close(code, reason) {
      this.closedWith = { code, reason };
      this.readyState = 2;
    }

    // ---- driven by the test ----
    open() {
      this.readyState = 1;
    }

    receive(data) {
      this.onmessage?.({ data });
    }

    error() {
      this.onerror?.({ type: 'error' });
    }

    /** The connection ends: `onclose` with this code. */
    closed(code = 1006, reason = '', wasClean = false) {
      this.readyState = 3;
      this.onclose?.({ code, reason, wasClean });
    }
  }
  return { WebSocket: FakeWebSocket, sockets };
}

/** A fetch whose requests the test answers; requests are in `requests`. */
export function fakeFetch() {
  const requests = [];
  const fetch = (url, init = {}) =>
    new Promise((resolve, reject) => {
      const req = {
        url,
        method: init.method ?? 'GET',
        headers: init.headers ?? {},
        body: init.body,
        aborted: false,
        done: false,
        respond(body, status = 200) {
          if (req.done) return;
          req.done = true;
          const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
          resolve({
            ok: status >= 200 && status < 300,
            status,
            text: async () => (typeof body === 'string' ? body : new TextDecoder().decode(body)),
            arrayBuffer: async () => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
          });
        },
        fail(error = new TypeError('fetch failed')) {
          if (req.done) return;
          req.done = true;
          reject(error);
        },
      };
      init.signal?.addEventListener('abort', () => {
        req.aborted = true;
        if (!req.done) {
          req.done = true;
          reject(new DOMException('aborted', 'AbortError'));
        }
      });
      requests.push(req);
    });
  return { fetch, requests };
}

/** Lets pending promise chains (fetch, body reads) run. */
export function settle() {
  return new Promise((resolve) => setImmediate(resolve));
}

/** The query parameters of a URL as a plain object. */
export function query(url) {
  return Object.fromEntries(new URL(url).searchParams);
}

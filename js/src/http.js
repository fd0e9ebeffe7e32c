// One Ajax request on `fetch`, with a timeout and an abort, whose outcome is
// a plain result object instead of an exception.

/**
 * @typedef {{ok: true, body: string | Uint8Array}
 *   | {ok: false, error: 'timeout' | 'abort' | 'status' | 'network', status?: number, cause?: unknown}} AjaxResult
 */

/**
 * Starts a request. `onDone` is called once with an AjaxResult, unless the
 * request was aborted with `abort()` (then never).
 *
 * @param {object} req
 * @param {typeof fetch} req.fetch
 * @param {string} req.url
 * @param {string} req.method
 * @param {Record<string, string>} req.headers
 * @param {BodyInit} [req.body]
 * @param {RequestCredentials} [req.credentials]
 * @param {number} req.timeoutMs
 * @param {boolean} req.binary read the response as bytes, else as text
 * @param {(f: () => void, ms: number) => unknown} req.setTimeout
 * @param {(t: unknown) => void} req.clearTimeout
 * @param {(r: AjaxResult) => void} onDone
 * @returns {{abort: () => void}}
 */
export function ajaxRequest(req, onDone) {
  const controller = new AbortController();
  let finished = false;
  let timedOut = false;
  const finish = (result) => {
    if (finished) return;
    finished = true;
    req.clearTimeout(timer);
    onDone(result);
  };
  const timer = req.setTimeout(() => {
    timedOut = true;
    controller.abort();
    finish({ ok: false, error: 'timeout' });
  }, req.timeoutMs);

  const init = { method: req.method, headers: req.headers, signal: controller.signal };
  if (req.body !== undefined) init.body = req.body;
  if (req.credentials !== undefined) init.credentials = req.credentials;

  let started;
  try {
    started = Promise.resolve(req.fetch(req.url, init));
  } catch (cause) {
    started = Promise.reject(cause);
  }
  started
    .then(async (res) => {
      if (!res.ok) return { ok: false, error: 'status', status: res.status };
      const body = req.binary ? new Uint8Array(await res.arrayBuffer()) : await res.text();
      return { ok: true, body };
    })
    .then(
      (result) => finish(result),
      (cause) => finish({ ok: false, error: timedOut ? 'timeout' : controller.signal.aborted ? 'abort' : 'network', cause }),
    );

  return {
    abort() {
      if (finished) return;
      finished = true;
      req.clearTimeout(timer);
      controller.abort();
    },
  };
}

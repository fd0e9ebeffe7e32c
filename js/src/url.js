// The client's URLs (PROTOCOL.md §3.2–3.4).

/** encodeURIComponent, with `*` also escaped (as encore's url-encode does). */
export function urlEncode(text) {
  return encodeURIComponent(String(text)).replace(/\*/g, '%2A');
}

function paramText(v) {
  return typeof v === 'object' && v !== null && 'fqn' in v ? v.fqn : String(v);
}

/**
 * `url` with the entries of `params` merged into its query string: later
 * entries override earlier ones of the same name (in place), null and
 * undefined values are left out (and remove an earlier value).
 *
 * @param {string} url
 * @param {...Record<string, unknown>} paramMaps
 */
export function mergeUrlWithQuery(url, ...paramMaps) {
  const hash = url.indexOf('#');
  const fragment = hash < 0 ? '' : url.slice(hash);
  let base = hash < 0 ? url : url.slice(0, hash);
  const merged = new Map();
  const q = base.indexOf('?');
  if (q >= 0) {
    for (const part of base.slice(q + 1).split('&')) {
      if (part === '') continue;
      const eq = part.indexOf('=');
      const key = decodeURIComponent((eq < 0 ? part : part.slice(0, eq)).replace(/\+/g, ' '));
      const value = eq < 0 ? '' : decodeURIComponent(part.slice(eq + 1).replace(/\+/g, ' '));
      merged.set(key, value);
    }
    base = base.slice(0, q);
  }
  for (const params of paramMaps) {
    for (const [k, v] of Object.entries(params ?? {})) {
      if (v === null || v === undefined) merged.delete(k);
      else merged.set(k, paramText(v));
    }
  }
  if (merged.size === 0) return base + fragment;
  const query = [...merged].map(([k, v]) => `${urlEncode(k)}=${urlEncode(v)}`).join('&');
  return `${base}?${query}${fragment}`;
}

/**
 * The WebSocket and Ajax base URLs (without query) for `path` and the
 * `protocol`, `host`, `port` options, defaulting to `location` (the page's,
 * when there is one).
 *
 * @returns {{wsUrl: string, ajaxUrl: string}}
 */
export function baseUrls(path, { protocol, host, port, location } = {}) {
  const loc = location ?? globalThis.location;
  let proto = protocol ?? loc?.protocol ?? 'http:';
  proto = String(proto).replace(/^:/, '');
  if (!proto.endsWith(':')) proto += ':';
  if (proto !== 'http:' && proto !== 'https:') throw new TypeError(`protocol must be http or https, not ${proto}`);
  let authority;
  if (host !== undefined && host !== null) authority = port !== undefined && port !== null ? `${host}:${port}` : String(host);
  else if (port !== undefined && port !== null) authority = `${loc?.hostname ?? 'localhost'}:${port}`;
  else if (loc?.host) authority = loc.host;
  else throw new TypeError('no host: pass the host option (there is no page location)');
  const p = String(path ?? loc?.pathname ?? '/').replace(/^\/+/, '');
  const tail = `//${authority.replace(/\/+$/, '')}/${p}`;
  return { wsUrl: (proto === 'https:' ? 'wss:' : 'ws:') + tail, ajaxUrl: proto + tail };
}

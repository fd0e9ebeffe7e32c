// sente-client: a browser (and Node) client for Sente channel sockets.

export { makeChannelSocketClient, ChannelSocketClient, CloseReason } from './client.js';
export { CHSK, ChskReplyError, asEvent, isCbError, isCbSuccess, isEvent, validateEvent } from './event.js';
export { ednPacker, jsonPacker, PackError } from './packers.js';
export { readEdn, EdnError, DEFAULT_MAX_DEPTH } from './edn-read.js';
export { printEdn } from './edn-write.js';
export { Keyword, Sym, Char, UUID, Tagged, List, kw, sym, isKw, isVector } from './types.js';
export { expBackoff } from './backoff.js';

//! The `Sec-WebSocket-Accept` of the opening handshake.

use base64::Engine as _;
use sha1::{Digest, Sha1};

/// The GUID RFC 6455 appends to the client's key.
const WEBSOCKET_GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The `Sec-WebSocket-Accept` header value answering a `Sec-WebSocket-Key`:
/// base64 of the SHA-1 of the key followed by RFC 6455's GUID. Never fails;
/// the key is used as given (surrounding whitespace is the caller's to trim).
///
/// ```
/// // The example of RFC 6455, section 1.3.
/// assert_eq!(
///     sente::ws::accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
///     "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
/// );
/// ```
pub fn accept_key(key: &[u8]) -> String {
    let mut sha = Sha1::new();
    sha.update(key);
    sha.update(WEBSOCKET_GUID);
    base64::engine::general_purpose::STANDARD.encode(sha.finalize())
}

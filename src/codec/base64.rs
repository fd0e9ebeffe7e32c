//! Bytes in text formats: standard base64, as EDN's `#sente/bytes` and
//! transit's `~b` carry them.

use base64::Engine as _;

/// `bytes` as standard base64 (with padding).
pub(crate) fn encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The bytes of standard base64 `text`; `None` when it is not base64.
pub(crate) fn decode(text: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD.decode(text).ok()
}

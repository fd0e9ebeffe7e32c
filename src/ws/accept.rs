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

/// Why a WebSocket upgrade request is refused before the upgrade.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpgradeError {
    /// `Sec-WebSocket-Version` is missing or not 13: answer 426 Upgrade
    /// Required with `Sec-WebSocket-Version: 13` (RFC 6455 §4.4).
    #[error("Sec-WebSocket-Version must be 13")]
    Version,
    /// `Sec-WebSocket-Key` is missing or not the base64 of 16 bytes: 400.
    #[error("Sec-WebSocket-Key must be the base64 of 16 bytes")]
    Key,
}

impl UpgradeError {
    /// The response to send instead of the upgrade: 426 (with
    /// `Sec-WebSocket-Version: 13`) or 400, with the reason as text.
    pub fn response(&self) -> crate::server::HttpResponse {
        let mut resp = crate::server::text_response(
            match self {
                Self::Version => 426,
                Self::Key => 400,
            },
            &self.to_string(),
        );
        if *self == Self::Version {
            resp.headers_mut().insert(
                http::header::SEC_WEBSOCKET_VERSION,
                http::HeaderValue::from_static("13"),
            );
        }
        resp
    }
}

/// Checks a WebSocket upgrade request's version and key (RFC 6455 §4.2.1)
/// and returns the `Sec-WebSocket-Accept` value to answer with.
///
/// # Errors
/// [`UpgradeError`] for a version other than 13 or a malformed key.
pub fn check_upgrade(headers: &http::HeaderMap) -> Result<String, UpgradeError> {
    let version = headers.get(http::header::SEC_WEBSOCKET_VERSION);
    if version.is_none_or(|v| v.as_bytes().trim_ascii() != b"13") {
        return Err(UpgradeError::Version);
    }
    let key = headers
        .get(http::header::SEC_WEBSOCKET_KEY)
        .map(|k| k.as_bytes().trim_ascii())
        .ok_or(UpgradeError::Key)?;
    match base64::engine::general_purpose::STANDARD.decode(key) {
        Ok(raw) if raw.len() == 16 => Ok(accept_key(key)),
        _ => Err(UpgradeError::Key),
    }
}

#[cfg(test)]
mod upgrade_tests {
    use super::*;

    fn headers(version: Option<&str>, key: Option<&str>) -> http::HeaderMap {
        let mut h = http::HeaderMap::new();
        if let Some(v) = version {
            h.insert(http::header::SEC_WEBSOCKET_VERSION, v.parse().unwrap());
        }
        if let Some(k) = key {
            h.insert(http::header::SEC_WEBSOCKET_KEY, k.parse().unwrap());
        }
        h
    }

    #[test]
    fn version_13_and_a_16_byte_key_only() {
        let key = "dGhlIHNhbXBsZSBub25jZQ==";
        assert_eq!(
            check_upgrade(&headers(Some("13"), Some(key))).as_deref(),
            Ok("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        );
        assert_eq!(
            check_upgrade(&headers(Some("8"), Some(key))),
            Err(UpgradeError::Version)
        );
        assert_eq!(
            check_upgrade(&headers(None, Some(key))),
            Err(UpgradeError::Version)
        );
        assert_eq!(
            check_upgrade(&headers(Some("13"), None)),
            Err(UpgradeError::Key)
        );
        assert_eq!(
            check_upgrade(&headers(Some("13"), Some("c2hvcnQ="))),
            Err(UpgradeError::Key)
        );
        assert_eq!(
            check_upgrade(&headers(Some("13"), Some("not base64!"))),
            Err(UpgradeError::Key)
        );
        assert_eq!(UpgradeError::Version.response().status(), 426);
        assert_eq!(UpgradeError::Key.response().status(), 400);
    }
}

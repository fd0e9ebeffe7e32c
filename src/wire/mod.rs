//! The envelope: every message on the wire is one packed `[payload cb]` pair.
//!
//! This module writes exactly what Sente 1.21 writes (its "Era C" format: a
//! 2-element vector, `nil` when there is no callback) and reads leniently:
//! a 1-element wrapper (Sente ≤ 1.20), the Ajax callback markers `:ajax` and
//! `0` (any truthy value), and the legacy `+`/`-` prefixes of text payloads
//! (Sente ≤ 1.17).
//!
//! | message | direction | EDN on the wire |
//! |---|---|---|
//! | event, no reply wanted | client → server | `[[:my/ev {:a 1}] nil]` |
//! | event, reply wanted (WebSocket) | client → server | `[[:my/ev {:a 1}] "3fa2c9"]` |
//! | event, reply wanted (Ajax POST) | client → server | `[[:my/ev {:a 1}] :ajax]` |
//! | reply (WebSocket) | server → client | `[{:ok true} "3fa2c9"]` |
//! | reply (Ajax POST body) | server → client | `[{:ok true} nil]` |
//! | push batch | server → client | `[[[:my/ev 1] [:my/ev2 2]] nil]` |
//! | handshake | server → client | `[[:chsk/handshake ["alice" nil nil]] nil]` |
//! | server keep-alive ping | server → client | `[:chsk/ws-ping nil]` |
//! | client pong | client → server | `[[:chsk/ws-pong] nil]` |
//! | client keep-alive ping | client → server | `[[:chsk/ws-ping] "3fa2c9"]` |
//! | answer to a client ping | server → client | `["pong" "3fa2c9"]` |
//! | long-poll timeout, reply timeout | server → client | `[:chsk/timeout nil]` |
//! | POST that wanted no reply | server → client | `[:chsk/dummy-cb-200 nil]` |

mod read;
mod write;

pub use read::{
    ClientMessage, ServerMessage, read_ajax_reply, read_client_message, read_server_message,
};
pub use write::{
    pack_ajax_reply, pack_client_event, pack_client_ping, pack_client_pong, pack_dummy_reply,
    pack_handshake, pack_lp_timeout, pack_pong, pack_push_batch, pack_server_ping, pack_ws_reply,
};

use crate::codec::{PackError, UnpackError};
use crate::event::EventError;
use crate::value::Value;

/// The uid Sente gives connections whose user-id function returned nothing.
pub const NIL_UID: &str = "sente/nil-uid";

/// The Ajax "reply wanted" marker Sente 1.21 clients send.
pub const AJAX_CB_MARKER: &str = "ajax";

/// The string the server answers a client keep-alive ping with.
pub const PONG: &str = "pong";

/// Why a payload is not a valid message.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum WireError {
    /// The packer could not unpack the payload.
    #[error(transparent)]
    Unpack(#[from] UnpackError),
    /// The packer could not pack the message.
    #[error(transparent)]
    Pack(#[from] PackError),
    /// The payload unpacked, but is not a `[payload cb]` wrapper.
    #[error("not a [payload cb] envelope: {detail} (got {value})")]
    BadEnvelope {
        /// What is wrong.
        detail: &'static str,
        /// The unpacked value.
        value: Value,
    },
    /// A message that must carry an event carries something else.
    #[error("bad event in envelope: {0}")]
    BadEvent(#[from] EventError),
}

#[cfg(test)]
mod tests;

//! Server-side WebSocket framing (RFC 6455), built for many idle connections.
//!
//! [`Decoder`] is sans-IO: it takes whatever bytes arrived and streams them
//! into the message being assembled, unmasking as it copies, so it needs no
//! read buffer of its own: a partial frame header waits in 14 bytes, and an
//! idle connection holds no heap memory for reading at all. [`WsChannel`]
//! puts it on any futures-io stream (an upgraded HTTP connection) as a
//! [`ServerChannel`](crate::channel::ServerChannel): it reads into a stack
//! buffer, keeps only the bytes of a frame it could not finish, and writes
//! queued frames straight from their shared payloads with vectored writes
//! (a push to many connections is packed once and never copied).
//!
//! The handshake (the `101 Switching Protocols` answer) stays with the web
//! server; [`accept_key`] computes its `Sec-WebSocket-Accept`.
//!
//! What the decoder enforces on client frames, with the close code it asks
//! for: frames must be masked, reserved bits clear (no extension is
//! negotiated) and opcodes known (1002); control frames unfragmented and at
//! most 125 bytes (1002); continuation frames only inside a fragmented
//! message and no new message inside one (1002); text valid UTF-8 (1007);
//! close frames with a valid code and a UTF-8 reason (1002/1007); a message
//! no larger than the bound, checked on each frame header before any of its
//! payload is buffered (1009).

mod accept;
mod channel;
mod decoder;
mod frame;

pub use accept::{UpgradeError, accept_key, check_upgrade};
pub use channel::WsChannel;
pub use decoder::{Decoded, Decoder, ProtocolError};

#[cfg(test)]
mod tests;

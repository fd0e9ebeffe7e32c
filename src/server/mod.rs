//! The server half of Sente.
//!
//! [`ServerCore`] is the protocol as a sans-IO state machine: the registry of
//! connections per user id and client id, `connected_uids`, the push buffers
//! and their flush deadlines, keep-alive pings and ping timeouts, long-poll
//! and reply timeouts, and the reconnect grace periods behind
//! `chsk/uidport-open` / `chsk/uidport-close`. It takes inputs stamped with
//! an `Instant` and returns [`Output`]s; it never reads a clock or touches a
//! socket, so every deadline is tested with a virtual clock.

mod config;
mod core;
mod types;

pub use config::{ConfigError, ServerConfig};
pub use core::ServerCore;
pub use types::{
    AjaxGet, AjaxPost, CloseReason, ConnId, ConnectError, ConnectedUids, DropReason, Incoming,
    Output, ReplyTo, SendError, Transport,
};

#[cfg(test)]
mod tests;

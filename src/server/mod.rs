//! The server half of Sente.
//!
//! * [`ServerCore`]: the protocol as a sans-IO state machine — the registry
//!   of connections per user id and client id, `connected_uids`, the push
//!   buffers and their flush deadlines, keep-alive pings and ping timeouts,
//!   long-poll and reply timeouts, and the reconnect grace periods behind
//!   `chsk/uidport-open` / `chsk/uidport-close`. It takes inputs stamped
//!   with an `Instant` and returns [`Output`]s; it never reads a clock or
//!   touches a socket, so every deadline is tested with a virtual clock.
//! * [`ChannelSocketServer`]: the async driver on any
//!   [`Runtime`](crate::runtime::Runtime), with the framework-neutral HTTP
//!   handlers ([`ChannelSocketServer::handle_get`],
//!   [`ChannelSocketServer::handle_post`]) and the WebSocket loop
//!   ([`ChannelSocketServer::serve_websocket`]) that adapters call.

pub mod broker;
mod cluster_link;
mod config;
mod core;
mod driver;
mod event_msg;
mod frame_queue;
mod http;
mod options;
mod pending;
mod post_body;
mod request;
mod security;
mod send;
mod shared;
mod shared_ajax;
mod types;
mod ws_connection;

pub use config::{ConfigError, ServerConfig};
pub use core::{ServerCore, pack_reply};
pub use driver::{ChannelSocketServer, ConnectedUidsWatch, SendOptions, ServerEvents};
pub use event_msg::ServerEventMsg;
pub use http::{GetResponse, WsAccept, is_websocket_upgrade};
pub use options::{HandshakeDataFn, ServerOptions, UserIdFn};
pub use request::{ChskRequest, CsrfToken, SessionUid};
pub use security::{
    AllowedOrigins, AuthorizedFn, CsrfCheck, HttpResponse, RejectFn, ResponseFn, TokenFn,
    allow_origin, text_response, valid_csrf_token,
};
pub use shared::MAX_LOCK_SHARDS;
pub use types::{
    AjaxGet, AjaxPost, CloseReason, ConnId, ConnectError, ConnectedUids, DropReason, Incoming,
    Output, ReplyTo, SendError, ServerStats, Transport,
};

#[cfg(test)]
mod tests;

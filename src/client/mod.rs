//! The client half of Sente.
//!
//! [`ClientCore`] is the protocol as a sans-IO state machine, as Sente's
//! ClojureScript/JVM client behaves (PROTOCOL.md §5): the state map and its
//! `chsk/state` events, the handshake, reconnects with Sente's exponential
//! backoff, the `:auto` WebSocket → Ajax downgrade, the WebSocket keep-alive
//! ping, the Ajax long-poll loop, and sends with replies correlated by
//! callback id and bounded by deadlines. It takes inputs stamped with an
//! `Instant` and returns [`Output`]s; it never reads a clock, draws
//! randomness from a seedable generator, and touches no socket, so every
//! transition is tested with a virtual clock.
//!
//! [`ChannelSocketClient`] drives that core on any
//! [`Runtime`](crate::runtime::Runtime): it opens WebSockets and performs
//! Ajax requests through a [`ClientTransport`] (on smol:
//! [`SmolClientTransport`](crate::runtimes::smol::SmolClientTransport)),
//! runs the timers, and hands the application [`ClientEventMsg`]s on a
//! bounded channel. The core by itself:
//!
//! ```
//! use std::sync::Arc;
//! use std::time::{Instant, SystemTime};
//! use sente::client::{ChskType, ClientConfig, ClientCore, Output};
//! use sente::packer::{EdnPacker, PackedRef};
//!
//! let config = ClientConfig::default().chsk_type(ChskType::Ws);
//! let now = Instant::now();
//! let mut client =
//!     ClientCore::new(config, Arc::new(EdnPacker::new()), now, SystemTime::now()).unwrap();
//! client.connect(now);
//! let Some(Output::ConnectWs { socket }) = client.poll_output() else { unreachable!() };
//! // … the driver opens the WebSocket; the server's first frame arrives:
//! client.ws_message(now, socket, PackedRef::Text(r#"[[:chsk/handshake ["alice" nil nil]] nil]"#));
//! assert!(client.state().open);
//! ```

mod backoff;
mod config;
mod core;
mod driver;
mod event_msg;
mod options;
mod state;
mod transport;
mod types;

pub use crate::transport::Transport;
pub use backoff::{XorShift64, exp_backoff};
pub use config::{BackoffFn, ChskType, ClientConfig, ConfigError};
pub use core::ClientCore;
pub use driver::{ChannelSocketClient, ClientEvents, StateWatch};
pub use event_msg::ClientEventMsg;
pub use options::{ClientOptions, CsrfTokenFn, Endpoint, UrlError};
pub use state::{ClientState, CloseReason, LastClose, LastWsClose, LastWsError, StateChange};
pub use transport::{
    AjaxRequest, AjaxResponse, ClientTransport, ClientWebSocket, WsIncoming, WsRequest,
};
pub use types::{
    AjaxError, CallbackError, CallbackId, ClientStats, Output, RequestId, SendError, SocketId,
};

#[cfg(test)]
mod tests;

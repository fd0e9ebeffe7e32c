//! # sente: channel sockets for Rust
//!
//! A faithful Rust implementation of Clojure's [Sente] (v1.21 wire format and
//! behaviour): one bidirectional, asynchronous, realtime event channel between
//! a server and many clients, over WebSocket with an Ajax long-polling
//! fallback, and the same programming model on both.
//!
//! ## Hello world
//!
//! A server on smol with the EDN packer (the defaults), a handler per event
//! ([`router::EventRouter`]), typed data ([`Event::from_data`],
//! [`server::ServerEventMsg::data_as`]) and the channel socket served at
//! `/chsk` ([`runtimes::smol::listen`]): `[:app/hello {:name n}]` is
//! answered `"hi n"`, and `[:app/news {:name n}]` is pushed to every tab of
//! the sender.
//!
//! ```no_run
//! # #[cfg(all(feature = "smol", feature = "edn"))]
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use sente::router::EventRouter;
//! use sente::runtimes::smol::{SmolRuntime, listen};
//! use sente::server::{ChannelSocketServer, CsrfCheck, SendOptions, ServerEventMsg};
//! use sente::Event;
//!
//! #[derive(serde::Serialize, serde::Deserialize)]
//! struct Hello {
//!     name: String,
//! }
//!
//! let (chsk, events) = ChannelSocketServer::builder().csrf(CsrfCheck::Skip).build()?;
//! EventRouter::new()
//!     .on("app/hello", |msg: ServerEventMsg| async move {
//!         let hello: Hello = msg.data_as()?;
//!         msg.reply_with(&format!("hi {}", hello.name))?;
//!         if let Some(chsk) = msg.server() {
//!             chsk.send(msg.uid(), Event::from_data("app/news", &hello)?, SendOptions::default())?;
//!         }
//!         Ok(())
//!     })
//!     .start(SmolRuntime, events);
//! smol::block_on(listen(&chsk, "127.0.0.1:8080"))?;
//! # Ok(())
//! # }
//! # #[cfg(not(all(feature = "smol", feature = "edn")))]
//! # fn main() {}
//! ```
//!
//! Several server processes act as one with a broker
//! ([`server::ServerOptions::broker`], [`server::broker`]; on Redis with the
//! `redis` feature).
//!
//! The native client is [`client::ChannelSocketClient`]; the browser client
//! is the npm package `sente-client` (`js/` in the repository).
//!
//! | transport | client → server | client → server + reply | server → user push |
//! |---|---|---|---|
//! | WebSocket | native | `[event cb-id]`, reply `[reply cb-id]` | native, batched |
//! | Ajax | POST, answered `:chsk/dummy-cb-200` | POST, the reply is the body | long-poll GET |
//!
//! ## Glossary
//!
//! | Sente | here |
//! |---|---|
//! | event `[ev-id ?data]` | [`Event`], [`EventId`] |
//! | chsk (channel socket) | [`server::ChannelSocketServer`], [`client::ClientCore`] |
//! | sch (server channel) | [`channel::ServerChannel`] |
//! | uid (user id: every tab and device of a user) | a [`Value`], `:sente/nil-uid` when anonymous |
//! | client-id (one tab, one native client) | a string |
//! | packer | [`Packer`] ([`packer`]) |
//! | `ch-recv`, event-msg | [`server::ServerEvents`], [`server::ServerEventMsg`] |
//! | `:?reply-fn` | [`server::ServerEventMsg::reply`] |
//! | `send-fn` | [`server::ChannelSocketServer::send`] |
//! | `connected-uids` | [`server::ChannelSocketServer::connected_uids`] |
//! | routers | [`router`] |
//!
//! ## Reserved events
//!
//! Server side: `chsk/ws-ping`, `chsk/ws-pong`, `chsk/uidport-open`,
//! `chsk/uidport-close`, `chsk/bad-package`, `chsk/bad-event`. Client side:
//! `chsk/handshake`, `chsk/state`, `chsk/recv`, `chsk/ws-ping`. Replies:
//! `chsk/closed`, `chsk/timeout`, `chsk/error` ([`event::ids`]).
//!
//! ## Layers
//!
//! * Runtime-free: the data model ([`Value`], with a serde bridge
//!   [`to_value`] / [`from_value`]), events ([`event`]), packers ([`packer`]),
//!   the wire envelope ([`wire`]), and the two protocol state machines
//!   ([`server::ServerCore`], [`client::ClientCore`]) — sans-IO, driven by
//!   inputs and `Instant`s.
//! * Runtime-neutral async layers: [`server::ChannelSocketServer`] on any
//!   [`runtime::Runtime`], the framework-neutral HTTP handlers, routers.
//! * Plugs ([`runtimes`]), each behind a feature: smol + hyper (default),
//!   tokio + axum (opt-in: the only features that bring tokio's runtime),
//!   async-std + tide (legacy).
//!
//! Inside the crate, the data path is layered and each layer imports only
//! those below it:
//!
//! 1. `codec` (private; re-exported): payloads ([`Packed`], [`PackedRef`]),
//!    [`packer::PackError`] / [`packer::UnpackError`], the nesting limits
//!    ([`edn::DEFAULT_MAX_DEPTH`], [`edn::MAX_DEPTH_CEILING`]), base64.
//!    Then `stack`, which runs deep work on a stack sized for it.
//! 2. [`value`]: the data model and its EDN printer (`Display`).
//! 3. [`edn`]: the EDN reader and the text functions.
//! 4. [`packer`]: the [`Packer`] trait and the formats.
//! 5. [`event`] and [`wire`] (the envelope, packed with a [`Packer`]);
//!    [`channel`], the shared `Transport`, [`runtime`].
//! 6. [`server`] and [`client`], each a sans-IO core and a driver; neither
//!    imports the other.
//!
//! ## Bounds
//!
//! Every buffer and queue has a bound in bytes (or items, for the
//! application's own) with a documented default: nesting depth (1,000),
//! message size (1 MiB), bytes queued per WebSocket (4 MiB, then the slow
//! consumer is closed with 1008), undelivered pushes per client (1 MiB),
//! pushes buffered per user (1 MiB), POST bodies in flight (32 MiB, each
//! within 10 s), clients per user (256), the application's event stream
//! (1000 events, with backpressure instead of drops), pending client
//! callbacks (1024). SECURITY.md lists them all, with what happens past
//! each.
//!
//! [Sente]: https://github.com/taoensso/sente

#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod channel;
pub mod client;
mod codec;
pub mod edn;
pub mod event;
mod event_stream;
mod inline_deque;
pub mod packer;
pub mod router;
pub mod runtime;
#[path = "../runtimes/mod.rs"]
pub mod runtimes;
pub mod server;
mod setters;
mod stack;
mod transport;
mod typed;
pub mod value;
pub mod wire;
pub mod ws;

pub use codec::{Packed, PackedRef};
pub use event::{Event, EventError, EventId};
pub use event_stream::{EventStream, EventsEnded, TryRecvError};
pub use packer::Packer;
pub use typed::DataError;
pub use value::{Value, ValueError, from_value, from_value_ref, to_value};

/// The README's examples, compiled as doc tests.
#[cfg(all(doctest, feature = "smol", feature = "edn"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

//! # sente: channel sockets for Rust
//!
//! A faithful Rust implementation of Clojure's [Sente] (v1.21 wire format and
//! behaviour): one bidirectional, asynchronous, realtime event channel between
//! a server and many clients, over WebSocket with an Ajax long-polling
//! fallback.
//!
//! This layer is runtime-free: the data model ([`Value`]), events ([`Event`]),
//! packers ([`packer`]) and the wire envelope ([`wire`]).
//!
//! [Sente]: https://github.com/taoensso/sente

pub mod channel;
pub mod client;
pub mod edn;
pub mod event;
pub mod packer;
pub mod router;
pub mod runtime;
#[path = "../runtimes/mod.rs"]
pub mod runtimes;
pub mod server;
pub mod value;
pub mod wire;

pub use event::{Event, EventError, EventId};
pub use packer::{Packed, PackedRef, Packer};
pub use value::{Value, ValueError, from_value, from_value_ref, to_value};

//! The plugs: one module per runtime or web framework, behind a feature.
//! They hold trait impls and glue only, never protocol logic.
//!
//! | feature | module | gives |
//! |---|---|---|
//! | `smol` (default) | [`smol`] | [`SmolRuntime`](smol::SmolRuntime), an HTTP/1.1 + WebSocket server on hyper |

#[cfg(feature = "smol")]
pub mod smol;
#[cfg(feature = "smol")]
mod tungstenite_channel;

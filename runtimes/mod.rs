//! The plugs: one module per runtime or web framework, behind a feature.
//! They hold trait impls and glue only, never protocol logic.
//!
//! | feature | module | gives |
//! |---|---|---|
//! | `smol` (default) | [`smol`] | [`SmolRuntime`](smol::SmolRuntime), an HTTP/1.1 + WebSocket server on hyper |
//! | `async-std` (legacy) | `async_std` | `AsyncStdRuntime` |
//! | `tide` (legacy) | `tide` | `ChskEndpoint`, a tide endpoint |

#[cfg(feature = "async-std")]
pub mod async_std;
#[cfg(feature = "smol")]
pub mod smol;
#[cfg(feature = "tide")]
pub mod tide;

//! The plugs: one module per runtime or web framework, behind a feature.
//! They hold trait impls and glue only, never protocol logic.
//!
//! | feature | module | gives |
//! |---|---|---|
//! | `smol` (default) | [`smol`] | [`SmolRuntime`](smol::SmolRuntime), an HTTP/1.1 + WebSocket server on hyper, the client transport |
//! | `tokio` (opt-in) | `tokio` | `TokioRuntime`, `ChskService` (a tower `Service` for any hyper-based server), the client transport |
//! | `axum` (opt-in) | `axum` | `router`: the channel socket as an axum `Router` |
//! | `async-std` (legacy) | `async_std` | `AsyncStdRuntime` |
//! | `tide` (legacy) | `tide` | `ChskEndpoint`, a tide endpoint |

#[cfg(feature = "async-std")]
pub mod async_std;
#[cfg(feature = "axum")]
pub mod axum;
#[cfg(any(feature = "smol", feature = "tokio"))]
mod hyper_handler;
#[cfg(any(feature = "smol", feature = "tokio"))]
mod hyper_io;
#[cfg(any(feature = "smol", feature = "tokio"))]
mod net_client;
#[cfg(feature = "smol")]
pub mod smol;
#[cfg(feature = "tide")]
pub mod tide;
#[cfg(feature = "tokio")]
pub mod tokio;

/// rustls, as the client transports use it: build a
/// [`ClientConfig`](rustls::ClientConfig) or a
/// [`RootCertStore`](rustls::RootCertStore) for them with this version.
#[cfg(feature = "tls")]
pub use rustls;

//! The tokio plug, for applications already on tokio: a [`Runtime`] on a
//! tokio runtime's handle ([`TokioRuntime`]), the channel socket as a tower
//! `Service` ([`ChskService`], [`handle`]) for any server built on hyper
//! (axum, hyper-util, …), and the client transport
//! ([`TokioClientTransport`]).
//!
//! Opt-in (`tokio` feature): the core never depends on tokio.

mod client;
mod service;

use std::time::Instant;

use crate::runtime::{BoxFuture, Runtime};

pub use crate::runtimes::net_client::MAX_IDLE_CONNECTIONS;
pub use client::TokioClientTransport;
pub use service::{Body, ChskService, Response, handle};

/// Runs tasks and timers on a tokio runtime, through its
/// [`Handle`](tokio::runtime::Handle): the server or client may be made,
/// and its futures polled, from any thread.
///
/// The runtime must have its time driver on (`enable_time`, or
/// `enable_all`, as `#[tokio::main]` does).
#[derive(Debug, Clone)]
pub struct TokioRuntime {
    handle: tokio::runtime::Handle,
}

impl TokioRuntime {
    /// The runtime behind this handle.
    pub fn new(handle: tokio::runtime::Handle) -> Self {
        Self { handle }
    }

    /// The runtime the calling task or thread runs in.
    ///
    /// # Panics
    /// Outside a tokio runtime; [`try_current`](Self::try_current) returns
    /// `None` there instead.
    pub fn current() -> Self {
        Self::new(tokio::runtime::Handle::current())
    }

    /// The runtime the calling task or thread runs in; `None` outside one.
    pub fn try_current() -> Option<Self> {
        tokio::runtime::Handle::try_current().ok().map(Self::new)
    }

    /// The handle tasks are spawned on.
    pub fn handle(&self) -> &tokio::runtime::Handle {
        &self.handle
    }
}

impl Runtime for TokioRuntime {
    fn spawn(&self, task: BoxFuture<()>) {
        drop(self.handle.spawn(task));
    }

    fn sleep_until(&self, deadline: Instant) -> BoxFuture<()> {
        // The timer registers with the runtime current when it is made:
        // ours, whichever thread asks.
        let _entered = self.handle.enter();
        Box::pin(tokio::time::sleep_until(deadline.into()))
    }
}

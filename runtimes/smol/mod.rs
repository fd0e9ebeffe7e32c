//! The smol plug: a [`Runtime`] on smol's global executor and `async-io`
//! timers, an HTTP/1.1 + WebSocket server on hyper ([`listen`], or [`serve`]
//! with [`handle`] beside routes of your own),
//! and the client transport ([`SmolClientTransport`]).

mod client;
mod server;

use std::time::Instant;

use crate::runtime::{BoxFuture, Runtime};

pub use crate::runtimes::net_client::MAX_IDLE_CONNECTIONS;
pub use client::SmolClientTransport;
pub use server::{
    ACCEPT_BACKOFF_MAX, ACCEPT_BACKOFF_MIN, Body, DEFAULT_PATH, Request, Response, ServeOptions,
    handle, listen, serve, serve_until, serve_with,
};

/// Runs tasks on smol's global executor (sized by `SMOL_THREADS`, default 1)
/// and timers on `async-io`.
#[derive(Debug, Clone, Copy, Default)]
pub struct SmolRuntime;

impl Runtime for SmolRuntime {
    fn spawn(&self, task: BoxFuture<()>) {
        smol::spawn(task).detach();
    }

    fn sleep_until(&self, deadline: Instant) -> BoxFuture<()> {
        Box::pin(async move {
            smol::Timer::at(deadline).await;
        })
    }
}

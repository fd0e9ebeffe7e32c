//! The async-std plug: a [`Runtime`] on async-std's executor and timers.
//!
//! **Legacy upstream**: async-std is discontinued (RUSTSEC-2025-0052). It is
//! supported for applications that already run on it; new ones should use
//! the `smol` feature (async-std is built on the same foundations).

use std::time::Instant;

use crate::runtime::{BoxFuture, Runtime};

/// Runs tasks with `async_std::task::spawn` and timers with `async_std::task::sleep`.
#[derive(Debug, Clone, Copy, Default)]
pub struct AsyncStdRuntime;

impl Runtime for AsyncStdRuntime {
    fn spawn(&self, task: BoxFuture<()>) {
        drop(async_std::task::spawn(task));
    }

    fn sleep_until(&self, deadline: Instant) -> BoxFuture<()> {
        Box::pin(async_std::task::sleep(
            deadline.saturating_duration_since(Instant::now()),
        ))
    }
}

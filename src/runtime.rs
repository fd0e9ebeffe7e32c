//! The [`Runtime`] trait: what the async layers need from an executor.
//!
//! Object-safe, so a server holds an `Arc<dyn Runtime>` and no generic
//! parameter leaks into the API. Plugs live in `runtimes/` behind a feature:
//! [`SmolRuntime`](crate::runtimes::smol::SmolRuntime) (default). Tests may
//! implement it themselves to control time.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Instant;

/// A boxed, sendable future.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// An executor and a clock.
pub trait Runtime: Send + Sync + fmt::Debug + 'static {
    /// Runs a task in the background until it completes. Never blocks.
    fn spawn(&self, task: BoxFuture<()>);

    /// A future that completes at `deadline` (at once if it has passed).
    fn sleep_until(&self, deadline: Instant) -> BoxFuture<()>;

    /// The current time. The default is the system's monotonic clock.
    fn now(&self) -> Instant {
        Instant::now()
    }
}

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

/// A shared runtime is a runtime: an `Arc<dyn Runtime>` (such as
/// [`ChannelSocketServer::runtime`](crate::server::ChannelSocketServer::runtime)'s)
/// can be given wherever a runtime is taken by value.
impl<R: Runtime + ?Sized> Runtime for std::sync::Arc<R> {
    fn spawn(&self, task: BoxFuture<()>) {
        (**self).spawn(task);
    }

    fn sleep_until(&self, deadline: Instant) -> BoxFuture<()> {
        (**self).sleep_until(deadline)
    }

    fn now(&self) -> Instant {
        (**self).now()
    }
}

/// `value` as an `Arc<D>`: itself when it already is one (an `Arc<dyn
/// Runtime>` given where a runtime is taken by value is used as is, not
/// wrapped again), else `wrap(value)`. Name `D` (`share::<_, dyn
/// Runtime>`): inferred, it may become `T` itself, and nothing is shared.
pub(crate) fn share<T: 'static, D: ?Sized + 'static>(
    value: T,
    wrap: impl FnOnce(T) -> std::sync::Arc<D>,
) -> std::sync::Arc<D> {
    let mut slot = Some(value);
    let any: &mut dyn std::any::Any = &mut slot;
    if let Some(shared) = any
        .downcast_mut::<Option<std::sync::Arc<D>>>()
        .and_then(Option::take)
    {
        return shared;
    }
    match slot {
        Some(value) => wrap(value),
        // Taken above only when `T` is `Arc<D>`, and then returned.
        None => unreachable!("the value was taken only to be returned"),
    }
}

/// The timer loop of a driver: sleeps until the deadline its owner has armed
/// (the future `sleep` makes from the owner's state), or until woken because
/// an earlier deadline was armed, then runs `fire`. Ends when the owner is
/// dropped or every waker is gone; holds the owner only while it works.
pub(crate) async fn timer_loop<S, F, Fut>(
    owner: std::sync::Weak<S>,
    wake: async_channel::Receiver<()>,
    sleep: impl Fn(&S) -> BoxFuture<()>,
    mut fire: F,
) where
    F: FnMut(std::sync::Arc<S>) -> Fut,
    Fut: Future<Output = ()>,
{
    use futures_util::future::{Either, select};
    loop {
        let Some(s) = owner.upgrade() else { return };
        let sleeping = sleep(&s);
        drop(s);
        let woken = std::pin::pin!(wake.recv());
        match select(sleeping, woken).await {
            Either::Left(((), _)) => {}
            Either::Right((Ok(()), _)) => continue,
            Either::Right((Err(_), _)) => return,
        }
        let Some(s) = owner.upgrade() else { return };
        fire(s).await;
    }
}

/// A future that sleeps until `deadline`, or forever when there is none.
pub(crate) fn sleep_until_armed(runtime: &dyn Runtime, deadline: Option<Instant>) -> BoxFuture<()> {
    match deadline {
        Some(at) => runtime.sleep_until(at),
        None => Box::pin(futures_util::future::pending()),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Instant;

    use super::{BoxFuture, Runtime, share};

    #[derive(Debug)]
    struct Still(Instant);

    impl Runtime for Still {
        fn spawn(&self, _task: BoxFuture<()>) {}
        fn sleep_until(&self, _deadline: Instant) -> BoxFuture<()> {
            Box::pin(std::future::ready(()))
        }
        fn now(&self) -> Instant {
            self.0
        }
    }

    fn shared(runtime: impl Runtime) -> Arc<dyn Runtime> {
        share::<_, dyn Runtime>(runtime, |r| Arc::new(r))
    }

    #[test]
    fn a_shared_runtime_is_used_as_is_and_a_value_is_wrapped() {
        let at = Instant::now();
        let rt: Arc<dyn Runtime> = Arc::new(Still(at));
        assert!(Arc::ptr_eq(&shared(rt.clone()), &rt));
        let wrapped = shared(Still(at));
        assert_eq!(wrapped.now(), at);
        // An `Arc` of a concrete runtime forwards (wrapped once more).
        assert_eq!(shared(Arc::new(Still(at))).now(), at);
    }
}

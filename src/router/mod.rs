//! Event-msg routers: Sente's `start-server-chsk-router!` and
//! `start-client-chsk-router!`.
//!
//! A router takes messages from a stream and calls your handler for each:
//! in order, one at a time (the default), or each in its own task
//! (`spawn_per_message`, Sente's `:simple-auto-threading?`). A handler's
//! error, or its panic, goes to the error handler with the event that caused
//! it, and the router carries on.
//!
//! [`EventRouter`] calls a handler per event id ([`EventRouter::on`]), with
//! a fallback for the rest.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::FutureExt;
use futures_util::future::{Either, select};

use crate::event::Event;
use crate::runtime::Runtime;

mod by_event;

pub use by_event::EventRouter;

/// A handler's failure.
pub type HandlerError = Box<dyn std::error::Error + Send + Sync>;

/// What a router needs from a message: the event, for traces and errors.
pub trait EventMsg: Send + 'static {
    /// The message's event.
    fn event(&self) -> &Event;
}

impl EventMsg for crate::server::ServerEventMsg {
    fn event(&self) -> &Event {
        crate::server::ServerEventMsg::event(self)
    }
}

impl EventMsg for crate::client::ClientEventMsg {
    fn event(&self) -> &Event {
        crate::client::ClientEventMsg::event(self)
    }
}

/// Why a handler failed.
#[derive(Debug)]
pub enum RouterError {
    /// The handler returned an error.
    Failed(HandlerError),
    /// The handler panicked; the payload's text when it had one.
    Panicked(String),
}

impl std::fmt::Display for RouterError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Failed(e) => write!(f, "handler failed: {e}"),
            Self::Panicked(p) => write!(f, "handler panicked: {p}"),
        }
    }
}

impl std::error::Error for RouterError {}

/// The error handler: the failure and the event that caused it.
pub type ErrorHandler = Arc<dyn Fn(&RouterError, &Event) + Send + Sync>;

/// How a router runs.
#[derive(Clone, Default)]
pub struct RouterOptions {
    /// Log every event at trace level (Sente's `:trace-evs?`).
    pub trace: bool,
    /// Run each handler call in its own task instead of one after another.
    pub spawn_per_message: bool,
    /// Called with every handler failure; by default failures are logged at
    /// error level.
    pub error_handler: Option<ErrorHandler>,
}

impl std::fmt::Debug for RouterOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouterOptions")
            .field("trace", &self.trace)
            .field("spawn_per_message", &self.spawn_per_message)
            .field("error_handler", &self.error_handler.is_some())
            .finish()
    }
}

/// Stops a router. Dropping it does not stop the router.
#[derive(Debug, Clone)]
pub struct RouterHandle {
    stop: async_channel::Sender<()>,
}

impl RouterHandle {
    /// Stops the router after the message it is handling (if any). Idempotent.
    pub fn stop(&self) {
        self.stop.close();
    }

    /// True once the router has stopped (stopped by the handle, or its stream ended).
    pub fn is_stopped(&self) -> bool {
        self.stop.is_closed()
    }
}

fn panic_text(p: &(dyn Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a non-text panic payload".to_owned())
}

async fn run_one<M, H, F>(handler: Arc<H>, msg: M, opts: Arc<RouterOptions>)
where
    M: EventMsg,
    H: Fn(M) -> F + Send + Sync + 'static,
    F: Future<Output = Result<(), HandlerError>> + Send + 'static,
{
    let event = msg.event().clone();
    if opts.trace {
        tracing::trace!(%event, "router: event");
    }
    let outcome = AssertUnwindSafe(async move { handler(msg).await })
        .catch_unwind()
        .await;
    let err = match outcome {
        Ok(Ok(())) => return,
        Ok(Err(e)) => RouterError::Failed(e),
        Err(p) => RouterError::Panicked(panic_text(&*p)),
    };
    match &opts.error_handler {
        Some(h) => {
            if std::panic::catch_unwind(AssertUnwindSafe(|| h(&err, &event))).is_err() {
                tracing::error!(%event, "router: the error handler panicked");
            }
        }
        None => tracing::error!(%event, error = %err, "router: handler failed"),
    }
}

/// Starts a router on `runtime` that calls `handler` for every message of
/// `messages` (a server's or a client's [`EventStream`](crate::EventStream),
/// or any stream of messages) until the stream ends or
/// [`RouterHandle::stop`] is called. The runtime is taken by value
/// (`SmolRuntime`, or a server's `chsk.runtime().clone()`).
pub fn start_router<M, H, F>(
    runtime: impl Runtime,
    messages: impl futures_util::Stream<Item = M> + Send + Unpin + 'static,
    handler: H,
    options: RouterOptions,
) -> RouterHandle
where
    M: EventMsg,
    H: Fn(M) -> F + Send + Sync + 'static,
    F: Future<Output = Result<(), HandlerError>> + Send + 'static,
{
    let runtime: Arc<dyn Runtime> =
        crate::runtime::share::<_, dyn Runtime>(runtime, |r| Arc::new(r));
    let (stop, stopped) = async_channel::bounded::<()>(1);
    let handle = RouterHandle { stop: stop.clone() };
    let handler = Arc::new(handler);
    let opts = Arc::new(options);
    let rt = runtime.clone();
    let mut messages = messages;
    runtime.spawn(Box::pin(async move {
        loop {
            let next = futures_util::StreamExt::next(&mut messages);
            let halt = std::pin::pin!(stopped.recv());
            let msg = match select(next, halt).await {
                Either::Left((Some(msg), _)) => msg,
                _ => break,
            };
            if opts.spawn_per_message {
                rt.spawn(Box::pin(run_one(handler.clone(), msg, opts.clone())));
            } else {
                run_one(handler.clone(), msg, opts.clone()).await;
            }
        }
        stop.close();
    }));
    handle
}

/// Sente's `start-server-chsk-router!`: [`start_router`] over a server's events.
pub fn start_server_router<H, F>(
    runtime: impl Runtime,
    events: crate::server::ServerEvents,
    handler: H,
    options: RouterOptions,
) -> RouterHandle
where
    H: Fn(crate::server::ServerEventMsg) -> F + Send + Sync + 'static,
    F: Future<Output = Result<(), HandlerError>> + Send + 'static,
{
    start_router(runtime, events, handler, options)
}

/// Sente's `start-client-chsk-router!`: [`start_router`] over a client's events.
pub fn start_client_router<H, F>(
    runtime: impl Runtime,
    events: crate::client::ClientEvents,
    handler: H,
    options: RouterOptions,
) -> RouterHandle
where
    H: Fn(crate::client::ClientEventMsg) -> F + Send + Sync + 'static,
    F: Future<Output = Result<(), HandlerError>> + Send + 'static,
{
    start_router(runtime, events, handler, options)
}

#[cfg(all(test, feature = "smol"))]
mod tests {
    use super::*;
    use crate::runtimes::smol::SmolRuntime;

    struct Msg(Event);
    impl EventMsg for Msg {
        fn event(&self) -> &Event {
            &self.0
        }
    }

    fn ev(id: &str) -> Msg {
        Msg(Event::named(id, 1).unwrap())
    }

    async fn next(rx: &async_channel::Receiver<String>) -> String {
        let timeout = async {
            smol::Timer::after(std::time::Duration::from_secs(10)).await;
            panic!("timed out")
        };
        smol::future::or(async { rx.recv().await.unwrap() }, timeout).await
    }

    #[test]
    fn errors_and_panics_reach_the_error_handler_and_the_router_goes_on() {
        smol::block_on(async {
            let (tx, rx) = async_channel::unbounded();
            let (seen_tx, seen) = async_channel::unbounded::<String>();
            let e = seen_tx.clone();
            let opts = RouterOptions {
                error_handler: Some(Arc::new(move |err, ev| {
                    let _ = e.try_send(format!("error {ev}: {err}"));
                })),
                ..RouterOptions::default()
            };
            let handle = start_router(
                SmolRuntime,
                Box::pin(rx),
                move |m: Msg| {
                    let h = seen_tx.clone();
                    async move {
                        match m.0.id().as_str() {
                            "a/fail" => Err("nope".into()),
                            "a/panic" => panic!("boom"),
                            _ => {
                                let _ = h.try_send(format!("handled {}", m.0));
                                Ok(())
                            }
                        }
                    }
                },
                opts,
            );
            for id in ["a/ok", "a/fail", "a/panic", "a/ok2"] {
                tx.try_send(ev(id)).unwrap();
            }
            assert_eq!(next(&seen).await, "handled [:a/ok 1]");
            assert_eq!(next(&seen).await, "error [:a/fail 1]: handler failed: nope");
            assert_eq!(
                next(&seen).await,
                "error [:a/panic 1]: handler panicked: boom"
            );
            assert_eq!(next(&seen).await, "handled [:a/ok2 1]");
            assert!(!handle.is_stopped());
            handle.stop();
            assert!(handle.is_stopped());
        });
    }

    #[test]
    fn the_router_stops_when_its_stream_ends() {
        smol::block_on(async {
            let (tx, rx) = async_channel::unbounded::<Msg>();
            let (done_tx, done) = async_channel::unbounded::<String>();
            let opts = RouterOptions {
                spawn_per_message: true,
                ..Default::default()
            };
            let handle = start_router(
                SmolRuntime,
                Box::pin(rx),
                move |m: Msg| {
                    let d = done_tx.clone();
                    async move {
                        let _ = d.try_send(m.0.to_string());
                        Ok(())
                    }
                },
                opts,
            );
            tx.try_send(ev("a/b")).unwrap();
            assert_eq!(next(&done).await, "[:a/b 1]");
            drop(tx);
            let wait = async {
                while !handle.is_stopped() {
                    smol::future::yield_now().await;
                }
            };
            smol::future::or(wait, async {
                smol::Timer::after(std::time::Duration::from_secs(10)).await;
                panic!("the router did not stop")
            })
            .await;
        });
    }
}

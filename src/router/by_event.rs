//! Handlers per event id: the router most applications want, where
//! Sente's users write a `defmulti` on the event id.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use super::{EventMsg, HandlerError, RouterHandle, RouterOptions, start_router};
use crate::runtime::{BoxFuture, Runtime};

type Handler<M> = Arc<dyn Fn(M) -> BoxFuture<Result<(), HandlerError>> + Send + Sync>;

/// A router that calls the handler registered for each event's id, or the
/// fallback for the others. Reserved events (`chsk/uidport-open`,
/// `chsk/uidport-close`, `chsk/ws-ping`, `chsk/state`, `chsk/recv`, …) are
/// routed like any other id.
///
/// Build it with [`on`](Self::on) and [`fallback`](Self::fallback), then
/// [`start`](Self::start) it on an event stream (server or client), or call
/// [`dispatch`](Self::dispatch) yourself. Handlers are async and return
/// `Result<(), HandlerError>`: any error type converts with `?`, and an
/// error or a panic goes to the router's error handler
/// ([`RouterOptions::error_handler`]) while the router carries on.
///
/// ```
/// use std::sync::Arc;
/// use sente::router::EventRouter;
/// use sente::server::ServerEventMsg;
///
/// #[derive(serde::Deserialize)]
/// struct Say {
///     text: String,
/// }
///
/// let router = EventRouter::<ServerEventMsg>::new()
///     .on("chat/say", |msg: ServerEventMsg| async move {
///         let say: Say = msg.data_as()?;
///         msg.reply_with(&say.text.len())?;
///         Ok(())
///     })
///     .on("chsk/uidport-open", |msg: ServerEventMsg| async move {
///         println!("{} is here", msg.uid());
///         Ok(())
///     })
///     .fallback(|msg: ServerEventMsg| async move {
///         println!("unhandled: {}", msg.event());
///         Ok(())
///     });
/// assert!(router.handles("chat/say"));
/// assert!(!router.handles("chat/leave"));
/// ```
pub struct EventRouter<M> {
    routes: HashMap<String, Handler<M>>,
    fallback: Option<Handler<M>>,
}

impl<M> std::fmt::Debug for EventRouter<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut ids: Vec<&String> = self.routes.keys().collect();
        ids.sort();
        f.debug_struct("EventRouter")
            .field("ids", &ids)
            .field("fallback", &self.fallback.is_some())
            .finish()
    }
}

impl<M: EventMsg> Default for EventRouter<M> {
    fn default() -> Self {
        Self::new()
    }
}

/// `"chat/say"` and `":chat/say"` name the same event.
fn route_key(id: &str) -> &str {
    id.strip_prefix(':').unwrap_or(id)
}

fn boxed<M, H, F>(handler: H) -> Handler<M>
where
    H: Fn(M) -> F + Send + Sync + 'static,
    F: Future<Output = Result<(), HandlerError>> + Send + 'static,
{
    Arc::new(move |msg| Box::pin(handler(msg)))
}

impl<M: EventMsg> EventRouter<M> {
    /// A router with no handlers: every event goes to the fallback, which
    /// by default ignores it (logged at trace level).
    pub fn new() -> Self {
        Self {
            routes: HashMap::new(),
            fallback: None,
        }
    }

    /// Calls `handler` for events with id `id` (`"chat/say"`; a leading `:`
    /// is allowed). Registering an id again replaces its handler.
    pub fn on<H, F>(mut self, id: &str, handler: H) -> Self
    where
        H: Fn(M) -> F + Send + Sync + 'static,
        F: Future<Output = Result<(), HandlerError>> + Send + 'static,
    {
        self.routes.insert(route_key(id).to_owned(), boxed(handler));
        self
    }

    /// Calls `handler` for events no [`on`](Self::on) handler takes
    /// (Sente's `:default` method). Without one they are ignored.
    pub fn fallback<H, F>(mut self, handler: H) -> Self
    where
        H: Fn(M) -> F + Send + Sync + 'static,
        F: Future<Output = Result<(), HandlerError>> + Send + 'static,
    {
        self.fallback = Some(boxed(handler));
        self
    }

    /// True when an [`on`](Self::on) handler takes events with id `id`.
    pub fn handles(&self, id: &str) -> bool {
        self.routes.contains_key(route_key(id))
    }

    /// The handler's future for `msg`: the one registered for its id, else
    /// the fallback; a future that does nothing when neither exists.
    pub fn dispatch(&self, msg: M) -> BoxFuture<Result<(), HandlerError>> {
        let handler = self
            .routes
            .get(msg.event().id().as_str())
            .or(self.fallback.as_ref());
        match handler {
            Some(handler) => handler(msg),
            None => {
                tracing::trace!(event = %msg.event(), "router: no handler, ignored");
                Box::pin(std::future::ready(Ok(())))
            }
        }
    }

    /// Starts the router on `runtime` over `messages` (a server's or a
    /// client's event stream), as [`start_router`] does with one handler:
    /// until the stream ends or [`RouterHandle::stop`] is called. The
    /// runtime is taken by value (`SmolRuntime`, or a server's
    /// `chsk.runtime().clone()`); the options are the defaults (see
    /// [`start_with`](Self::start_with)).
    pub fn start(
        self,
        runtime: impl Runtime,
        messages: impl futures_util::Stream<Item = M> + Send + Unpin + 'static,
    ) -> RouterHandle {
        self.start_with(runtime, messages, RouterOptions::default())
    }

    /// [`start`](Self::start) with `options` (an error handler, tracing,
    /// a task per message).
    pub fn start_with(
        self,
        runtime: impl Runtime,
        messages: impl futures_util::Stream<Item = M> + Send + Unpin + 'static,
        options: RouterOptions,
    ) -> RouterHandle {
        let router = Arc::new(self);
        start_router(runtime, messages, move |msg| router.dispatch(msg), options)
    }
}

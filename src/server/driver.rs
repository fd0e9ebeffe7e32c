//! The async driver: a [`ServerCore`] shared by the connections' tasks and
//! one timer task, on any [`Runtime`].

use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use super::config::ConfigError;
use super::core::ServerCore;
use super::event_msg::ServerEventMsg;
use super::options::ServerOptions;
use super::request::ChskRequest;
use super::types::*;
use crate::channel::Outbound;
use crate::event::Event;
use crate::packer::{PackError, Packed, Packer};
use crate::runtime::{BoxFuture, Runtime};
use crate::value::Value;

/// Where the core's outputs for a channel go.
#[derive(Debug)]
pub(crate) enum Route {
    Ws(super::frame_queue::FrameSender),
    Poll(async_channel::Sender<Option<Arc<Packed>>>),
    Post(async_channel::Sender<Arc<Packed>>),
}

#[derive(Debug)]
pub(crate) struct State {
    pub(crate) core: ServerCore,
    pub(crate) routes: FastMap<ConnId, Route>,
    pub(crate) requests: FastMap<ConnId, Arc<ChskRequest>>,
    armed: Option<Instant>,
    uids_version: u64,
}

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) runtime: Arc<dyn Runtime>,
    /// The core's packer, for unpacking and packing outside the lock.
    pub(crate) packer: Arc<dyn Packer>,
    pub(crate) options: ServerOptions,
    state: Mutex<State>,
    events: async_channel::Sender<ServerEventMsg>,
    timer_wake: async_channel::Sender<()>,
    uids_changed: event_listener::Event,
    /// What the POST bodies being received hold.
    pub(crate) post_bodies: super::post_body::BodyBudget,
    /// Set once [`ChannelSocketServer::shutdown`] began: new requests are refused.
    shutting_down: std::sync::atomic::AtomicBool,
    /// Notified when the shutdown begins.
    shutdown_begun: event_listener::Event,
    /// Notified whenever a request or connection ends.
    pub(crate) conn_ended: event_listener::Event,
}

/// The channel-socket server: Sente's `make-channel-socket-server!`.
///
/// Cheap to clone (a reference count). It gives the application:
/// * the stream of [`ServerEventMsg`]s (returned by [`new`](Self::new));
/// * [`send`](Self::send) to push to every client of a user;
/// * [`connected_uids`](Self::connected_uids) and [`watch_connected_uids`](Self::watch_connected_uids);
/// * the framework-neutral HTTP handlers [`handle_get`](Self::handle_get) and
///   [`handle_post`](Self::handle_post), and [`serve_websocket`](Self::serve_websocket)
///   for adapters.
#[derive(Debug, Clone)]
pub struct ChannelSocketServer {
    pub(crate) shared: Arc<Shared>,
}

/// The stream of events for the application (Sente's `ch-recv`). Bounded by
/// `recv_buffer`: while it is full, the server stops reading from the
/// connections that feed it.
pub type ServerEvents = async_channel::Receiver<ServerEventMsg>;

/// The options of a push.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SendOptions {
    /// Send at once instead of waiting for the buffer window (Sente's `:flush?`).
    pub flush: bool,
}

/// A watch on [`ChannelSocketServer::connected_uids`].
#[derive(Debug)]
pub struct ConnectedUidsWatch {
    shared: Weak<Shared>,
    seen: u64,
}

impl ConnectedUidsWatch {
    /// Waits until the connected users differ from the last value this watch
    /// returned, and returns them. `None` once the server is gone.
    pub async fn changed(&mut self) -> Option<ConnectedUids> {
        loop {
            let shared = self.shared.upgrade()?;
            let listener = shared.uids_changed.listen();
            {
                let st = shared.lock();
                let version = st.core.connected_uids_version();
                if version != self.seen {
                    self.seen = version;
                    return Some(st.core.connected_uids().clone());
                }
            }
            drop(shared);
            listener.await;
        }
    }
}

impl Shared {
    /// True once a shutdown began.
    pub(crate) fn is_shutting_down(&self) -> bool {
        self.shutting_down
            .load(std::sync::atomic::Ordering::Acquire)
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the core half-updated in
        // a way that matters more than stopping the server; keep serving.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl ChannelSocketServer {
    /// Makes a server on `runtime` with `packer`, and the stream of its events.
    ///
    /// # Errors
    /// [`ConfigError`] when the options are ones Sente would refuse.
    pub fn new(
        runtime: Arc<dyn Runtime>,
        packer: Arc<dyn Packer>,
        options: ServerOptions,
    ) -> Result<(Self, ServerEvents), ConfigError> {
        let core = ServerCore::new(options.config.clone(), packer.clone())?;
        let (events, events_rx) = async_channel::bounded(options.recv_buffer.max(1));
        let (timer_wake, wake_rx) = async_channel::bounded(1);
        let post_bodies = super::post_body::BodyBudget::new(options.max_pending_post_bytes);
        let shared = Arc::new(Shared {
            runtime: runtime.clone(),
            packer,
            post_bodies,
            shutting_down: std::sync::atomic::AtomicBool::new(false),
            shutdown_begun: event_listener::Event::new(),
            conn_ended: event_listener::Event::new(),
            options,
            state: Mutex::new(State {
                core,
                routes: FastMap::default(),
                requests: FastMap::default(),
                armed: None,
                uids_version: 0,
            }),
            events,
            timer_wake,
            uids_changed: event_listener::Event::new(),
        });
        // The timers: run them when the armed deadline passes, deliver their events.
        runtime.spawn(Box::pin(crate::runtime::timer_loop(
            Arc::downgrade(&shared),
            wake_rx,
            |s: &Shared| crate::runtime::sleep_until_armed(&*s.runtime, s.lock().armed),
            |shared| async move {
                let server = ChannelSocketServer { shared };
                let now = server.shared.runtime.now();
                let events = {
                    let mut st = server.shared.lock();
                    st.core.handle_timeout(now);
                    st.armed = None;
                    server.apply(&mut st)
                };
                server.deliver(events).await;
            },
        )));
        Ok((Self { shared }, events_rx))
    }

    /// The options the server was made with.
    pub fn options(&self) -> &ServerOptions {
        &self.shared.options
    }

    /// Pushes `event` to every client of user `uid` over both transports,
    /// batched per the send-buffer windows (or at once with `flush`).
    ///
    /// Returns the number of clients it was queued for; 0 when the user has
    /// none (the event is discarded, as in Sente).
    ///
    /// # Errors
    /// [`SendError::NilUid`] for a `nil` uid; [`SendError::Unpackable`] when
    /// the packer cannot pack the event where it sits in a push batch
    /// (nothing is queued: the error is the caller's to handle).
    pub fn send(
        &self,
        uid: &Value,
        event: Event,
        options: SendOptions,
    ) -> Result<usize, SendError> {
        self.with_core(|core, now| core.send(now, uid, event, options.flush))
    }

    /// Pushes `event` to every client of each of `uids`, batched per user
    /// as [`send`](Self::send) does; users whose windows hold the same
    /// events share one packed batch.
    ///
    /// Returns the number of clients it was queued for.
    ///
    /// # Errors
    /// As [`send`](Self::send), before anything is queued.
    pub fn send_many<'a>(
        &self,
        uids: impl IntoIterator<Item = &'a Value>,
        event: Event,
        options: SendOptions,
    ) -> Result<usize, SendError> {
        self.with_core(|core, now| core.send_many(now, uids, event, options.flush))
    }

    /// Pushes `event` to every connected user (every client of each uid in
    /// [`connected_uids`](Self::connected_uids)`.any`), packing each distinct
    /// batch once for all the connections that get it. Sente's per-user
    /// buffering is kept: each user's pushes stay in order.
    ///
    /// Returns the number of clients it was queued for.
    ///
    /// # Errors
    /// [`SendError::Unpackable`] when the packer cannot pack the event.
    pub fn broadcast(&self, event: Event, options: SendOptions) -> Result<usize, SendError> {
        self.with_core(|core, now| core.broadcast(now, event, options.flush))
    }

    /// Pushes `event` to one client (one tab or device) of user `uid`, at
    /// once, after the pushes buffered for the user (so its events stay in
    /// order). A client between polls or reconnecting gets it when back.
    ///
    /// Returns whether the user has a client with that id.
    ///
    /// # Errors
    /// As [`send`](Self::send).
    pub fn send_to_client(
        &self,
        uid: &Value,
        client_id: &str,
        event: Event,
    ) -> Result<bool, SendError> {
        self.with_core(|core, now| core.send_to_client(now, uid, client_id, event))
    }

    /// Runs `f` on the core under the lock, then carries out its outputs
    /// and hands its events to the application.
    fn with_core<T>(&self, f: impl FnOnce(&mut ServerCore, Instant) -> T) -> T {
        let now = self.shared.runtime.now();
        let mut st = self.shared.lock();
        let result = f(&mut st.core, now);
        let events = self.apply(&mut st);
        drop(st);
        self.deliver_detached(events);
        result
    }

    /// Closes every connection of a user (they will reconnect unless refused).
    /// Returns how many were closed.
    pub fn close_uid(&self, uid: &Value) -> usize {
        let mut st = self.shared.lock();
        let n = st.core.close_uid(uid);
        let events = self.apply(&mut st);
        drop(st);
        self.deliver_detached(events);
        n
    }

    /// How many channels (WebSockets and held long-polls) user `uid` has
    /// open now; clients between polls or within their reconnect grace
    /// period are connected (see [`connected_uids`](Self::connected_uids))
    /// but have none.
    pub fn open_channels(&self, uid: &Value) -> usize {
        self.shared.lock().core.open_channel_count(uid)
    }

    /// What the server holds now: clients, connections, timers, buffers,
    /// routes and POST bodies (for monitoring, and to check that all of it
    /// returns to zero once the clients are gone).
    pub fn stats(&self) -> ServerStats {
        let st = self.shared.lock();
        ServerStats {
            routes: st.routes.len(),
            requests: st.requests.len(),
            post_body_bytes: self.shared.post_bodies.held(),
            ..st.core.stats()
        }
    }

    /// Which users are connected now, by transport.
    pub fn connected_uids(&self) -> ConnectedUids {
        self.shared.lock().core.connected_uids().clone()
    }

    /// A watch that yields [`ConnectedUids`] each time it changes.
    pub fn watch_connected_uids(&self) -> ConnectedUidsWatch {
        ConnectedUidsWatch {
            shared: Arc::downgrade(&self.shared),
            seen: u64::MAX,
        }
    }

    /// Shuts the channel socket down gracefully, so that a node can be
    /// replaced without losing what it held. In order:
    ///
    /// 1. new requests on the channel-socket path are answered 503 "Server
    ///    shutting down" (WebSocket upgrades included), and
    ///    [`on_shutdown`](Self::on_shutdown) resolves (give it to
    ///    [`serve_until`](crate::runtimes::smol::serve_until) to stop
    ///    accepting);
    /// 2. buffered pushes are flushed, and held long-polls answered (with
    ///    their batch, or `[:chsk/timeout nil]`, so that the client polls
    ///    again, elsewhere);
    /// 3. Ajax POSTs waiting for a reply get it, for up to `drain`; pushes
    ///    and replies still go out meanwhile;
    /// 4. every WebSocket is closed with 1001 "going away" after what is
    ///    queued for it, and the POSTs still waiting are answered
    ///    `[:chsk/timeout nil]`;
    /// 5. the event stream ends once every connection has (at most about
    ///    2 s after step 4: a peer that does not read its close is dropped).
    ///
    /// Clients reconnect by themselves (Sente's backoff), to another node
    /// behind the same address. Returns when every connection has ended.
    pub async fn shutdown(&self, drain: Duration) {
        use std::sync::atomic::Ordering;
        let shared = &self.shared;
        if shared.shutting_down.swap(true, Ordering::AcqRel) {
            return self.wait_for_connections(None).await;
        }
        shared.shutdown_begun.notify(usize::MAX);
        tracing::info!(drain_ms = drain.as_millis() as u64, "shutting down");
        let now = shared.runtime.now();
        let events = {
            let mut st = shared.lock();
            st.core.drain(now);
            self.apply(&mut st)
        };
        self.deliver(events).await;
        // Let the handlers answer what they hold.
        let deadline = now + drain;
        loop {
            let listener = shared.conn_ended.listen();
            if shared.lock().core.posts_awaiting_reply() == 0 {
                break;
            }
            let sleep = shared.runtime.sleep_until(deadline);
            if let futures_util::future::Either::Left(_) =
                futures_util::future::select(sleep, listener).await
            {
                break;
            }
        }
        let events = {
            let mut st = shared.lock();
            st.core.close_all();
            self.apply(&mut st)
        };
        self.deliver(events).await;
        let grace =
            shared.runtime.now() + super::ws_connection::CLOSE_GRACE + Duration::from_millis(500);
        self.wait_for_connections(Some(grace)).await;
        shared.events.close();
        tracing::info!("shut down");
    }

    /// Waits until no request or connection is left, or `deadline`.
    async fn wait_for_connections(&self, deadline: Option<Instant>) {
        let shared = &self.shared;
        loop {
            let listener = shared.conn_ended.listen();
            if shared.lock().routes.is_empty() {
                return;
            }
            let sleep = crate::runtime::sleep_until_armed(&*shared.runtime, deadline);
            if let futures_util::future::Either::Left(_) =
                futures_util::future::select(sleep, listener).await
            {
                let left = shared.lock().routes.len();
                tracing::warn!(
                    connections = left,
                    "shutdown: connections left at the deadline"
                );
                return;
            }
        }
    }

    /// A future that resolves once [`shutdown`](Self::shutdown) begins (at
    /// once if it has), or when the server is gone. It holds the server
    /// weakly.
    pub fn on_shutdown(&self) -> impl Future<Output = ()> + Send + 'static {
        let weak = Arc::downgrade(&self.shared);
        async move {
            loop {
                let Some(shared) = weak.upgrade() else { return };
                let listener = shared.shutdown_begun.listen();
                if shared.is_shutting_down() {
                    return;
                }
                drop(shared);
                listener.await;
            }
        }
    }

    /// True once [`shutdown`](Self::shutdown) began.
    pub fn is_shutting_down(&self) -> bool {
        self.shared.is_shutting_down()
    }

    pub(crate) fn reply(&self, to: &ReplyTo, value: &Value) -> Result<bool, PackError> {
        // Packed before taking the lock: other connections do not wait on it.
        let packed = Arc::new(super::core::pack_reply(&*self.shared.packer, to, value)?);
        Ok(self.with_core(|core, _| core.reply_packed(to, packed)))
    }

    /// Carries out the core's outputs; returns the events for the application.
    pub(crate) fn apply(&self, st: &mut State) -> Vec<ServerEventMsg> {
        let mut events = Vec::new();
        while let Some(out) = st.core.poll_output() {
            match out {
                Output::Transmit { conn, payload } => {
                    let Some(Route::Ws(frames)) = st.routes.get(&conn) else {
                        continue;
                    };
                    if frames.push(Outbound::Message(payload)).is_err() {
                        // A slow consumer: give up on it with a close frame
                        // that does not wait behind its backlog, and let the
                        // core keep later pushes for the client's reconnect.
                        if let Some((frames, bytes)) = frames.abort(1008, "send queue full") {
                            tracing::warn!(
                                conn = conn.get(),
                                dropped_frames = frames,
                                dropped_bytes = bytes,
                                limit = self.shared.options.max_queued_bytes,
                                "closing a slow WebSocket consumer (1008): its send queue is full"
                            );
                        }
                        let now = self.shared.runtime.now();
                        st.core.ws_closed(now, conn);
                    }
                }
                Output::RespondPoll { conn, payload } => {
                    if let Some(Route::Poll(tx)) = st.routes.remove(&conn) {
                        let _ = tx.try_send(Some(payload));
                    }
                }
                Output::RespondPost { post, payload } => {
                    if let Some(Route::Post(tx)) = st.routes.remove(&post) {
                        let _ = tx.try_send(payload);
                    }
                }
                Output::Close { conn, reason } => {
                    tracing::debug!(conn = conn.get(), ?reason, "closing");
                    match st.routes.get(&conn) {
                        Some(Route::Ws(frames)) => match reason {
                            // Asked for: after what is queued.
                            CloseReason::Requested => frames.close(1000, ""),
                            CloseReason::ShuttingDown => frames.close(1001, "going away"),
                            // The peer is unresponsive: what is queued
                            // for it would never be read. 1000 without a
                            // reason, as Sente on http-kit sends.
                            CloseReason::PingTimeout => {
                                if let Some((frames, bytes)) = frames.abort(1000, "") {
                                    tracing::info!(
                                        conn = conn.get(),
                                        dropped_frames = frames,
                                        dropped_bytes = bytes,
                                        "closing an unresponsive WebSocket: no message since the ping"
                                    );
                                }
                            }
                        },
                        Some(Route::Poll(tx)) => {
                            let _ = tx.try_send(None);
                        }
                        _ => {}
                    }
                }
                Output::Event(inc) => {
                    let request = st.requests.get(&inc.conn).cloned();
                    events.push(ServerEventMsg {
                        event: inc.event,
                        uid: inc.uid,
                        client_id: inc.client_id,
                        transport: inc.transport,
                        request,
                        reply_to: inc.reply,
                        server: Arc::downgrade(&self.shared),
                    });
                }
                Output::PushDropped {
                    uid,
                    client_id,
                    events: n,
                    reason,
                } => {
                    tracing::warn!(%uid, %client_id, events = n, ?reason, "push dropped");
                }
            }
        }
        let next = st.core.poll_timeout();
        if next.is_some() && (st.armed.is_none() || next < st.armed) {
            st.armed = next;
            let _ = self.shared.timer_wake.try_send(());
        }
        let version = st.core.connected_uids_version();
        if version != st.uids_version {
            st.uids_version = version;
            self.shared.uids_changed.notify(usize::MAX);
        }
        events
    }

    /// Hands events to the application, waiting while its buffer is full.
    pub(crate) async fn deliver(&self, events: Vec<ServerEventMsg>) {
        for ev in events {
            if self.shared.events.send(ev).await.is_err() {
                tracing::debug!("event stream dropped; event discarded");
            }
        }
    }

    /// Hands `events` to the application's stream without waiting. Returns
    /// a future delivering, in order, those that did not fit, for the
    /// caller to await before it reads more (backpressure); `None` when all
    /// are in.
    pub(crate) fn try_deliver(&self, events: Vec<ServerEventMsg>) -> Option<BoxFuture<()>> {
        let mut events = events.into_iter();
        while let Some(ev) = events.next() {
            match self.shared.events.try_send(ev) {
                Ok(()) => {}
                Err(async_channel::TrySendError::Full(ev)) => {
                    let this = self.clone();
                    let rest: Vec<_> = std::iter::once(ev).chain(events).collect();
                    return Some(Box::pin(async move { this.deliver(rest).await }));
                }
                Err(async_channel::TrySendError::Closed(_)) => {
                    tracing::debug!("event stream dropped; event discarded");
                }
            }
        }
        None
    }

    /// For synchronous callers: deliver without waiting, spilling to a task
    /// when the buffer is full.
    pub(crate) fn deliver_detached(&self, events: Vec<ServerEventMsg>) {
        if let Some(rest) = self.try_deliver(events) {
            self.shared.runtime.spawn(rest);
        }
    }
}

#[cfg(all(test, feature = "smol", feature = "edn"))]
mod tests {
    use super::*;

    fn post_head() -> http::request::Parts {
        let (head, ()) = http::Request::post("/chsk?client-id=c1")
            .body(())
            .expect("a request")
            .into_parts();
        head
    }

    /// Events left unread in the stream hold the server weakly: dropping
    /// the server and its stream frees everything.
    #[test]
    fn dropping_the_server_and_its_stream_frees_it_with_events_unread() {
        smol::block_on(async {
            let opts = ServerOptions::default().csrf(super::super::CsrfCheck::Skip);
            let (server, events) = ChannelSocketServer::new(
                Arc::new(crate::runtimes::smol::SmolRuntime),
                Arc::new(crate::packer::EdnPacker::new()),
                opts,
            )
            .expect("options");
            let body = b"udt=1&client-id=c1&ppstr=%5B%5B%3Aa%2Fb%201%5D%20nil%5D";
            for _ in 0..3 {
                let resp = server.handle_post(post_head(), body).await;
                assert_eq!(resp.status(), 200);
            }
            assert_eq!(events.len(), 3, "three events unread");
            let weak = Arc::downgrade(&server.shared);
            drop(server);
            drop(events);
            assert!(weak.upgrade().is_none(), "the server outlived its handles");
        });
    }
}

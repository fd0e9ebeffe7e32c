//! The async driver: the server's shards of [`ServerCore`]s shared by the
//! connections' tasks and one timer task per shard, on any [`Runtime`].

use std::future::Future;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use super::config::ConfigError;
use super::core::ServerCore;
use super::event_msg::ServerEventMsg;
use super::options::ServerOptions;
use super::shared::{Shared, State};
use super::types::*;
use crate::event::Event;
use crate::packer::{PackError, Packer};
use crate::runtime::{BoxFuture, Runtime};
use crate::value::Value;

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
pub type ServerEvents = crate::EventStream<ServerEventMsg>;

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
            let version = shared.uids_version();
            if version != self.seen {
                self.seen = version;
                return Some(shared.connected_uids());
            }
            drop(shared);
            listener.await;
        }
    }
}

impl ChannelSocketServer {
    /// Makes a server on `runtime` with `packer`, and the stream of its events.
    ///
    /// Both are taken by value (`SmolRuntime`, `EdnPacker::new()`); an
    /// `Arc<dyn Runtime>` or `Arc<dyn Packer>` already shared is used as is.
    /// On smol with the EDN packer, [`builder`](Self::builder) and
    /// [`ServerOptions::build`] are shorter.
    ///
    /// ```no_run
    /// # #[cfg(all(feature = "smol", feature = "edn"))] {
    /// use sente::packer::EdnPacker;
    /// use sente::runtimes::smol::SmolRuntime;
    /// use sente::server::{ChannelSocketServer, ServerOptions};
    /// let (chsk, events) =
    ///     ChannelSocketServer::new(SmolRuntime, EdnPacker::new(), ServerOptions::default())
    ///         .expect("valid options");
    /// # let _ = (chsk, events);
    /// # }
    /// ```
    ///
    /// # Errors
    /// [`ConfigError`] when the options are ones Sente would refuse.
    pub fn new(
        runtime: impl Runtime,
        packer: impl Packer,
        options: ServerOptions,
    ) -> Result<(Self, ServerEvents), ConfigError> {
        let runtime: Arc<dyn Runtime> =
            crate::runtime::share::<_, dyn Runtime>(runtime, |r| Arc::new(r));
        let packer: Arc<dyn Packer> =
            crate::runtime::share::<_, dyn Packer>(packer, |p| Arc::new(p));
        let (events, events_rx) = async_channel::bounded(options.recv_buffer.max(1));
        let (shared, wakes) = Shared::new(runtime.clone(), packer, options, events)?;
        let shared = Arc::new(shared);
        super::cluster_link::start_broker(&shared);
        // Each shard's timers: run them when its armed deadline passes,
        // deliver their events.
        for (index, wake_rx) in wakes.into_iter().enumerate() {
            runtime.spawn(Box::pin(crate::runtime::timer_loop(
                Arc::downgrade(&shared),
                wake_rx,
                move |s: &Shared| {
                    crate::runtime::sleep_until_armed(&*s.runtime, s.shard(index).armed())
                },
                move |shared| async move {
                    let ((), events) = shared.with_shard(index, |st, now| {
                        st.core().handle_timeout(now);
                        st.disarm();
                    });
                    ChannelSocketServer { shared }.deliver(events).await;
                },
            )));
        }
        Ok((Self { shared }, crate::EventStream::new(events_rx)))
    }

    /// Options at their defaults, to chain setters on and end with
    /// [`ServerOptions::build`] (a server on smol with the EDN packer), or to
    /// give to [`new`](Self::new): the same as [`ServerOptions::default`].
    pub fn builder() -> ServerOptions {
        ServerOptions::default()
    }

    /// The options the server was made with.
    pub fn options(&self) -> &ServerOptions {
        &self.shared.options
    }

    /// The runtime the server was made with: adapters spawn the tasks of
    /// upgraded WebSockets on it.
    pub fn runtime(&self) -> &Arc<dyn Runtime> {
        &self.shared.runtime
    }

    /// Runs `f` on a shard's core ([`Shared::with_shard`]), then hands its
    /// events to the application without waiting.
    pub(crate) fn in_shard<T>(
        &self,
        shard: usize,
        f: impl FnOnce(&mut ServerCore, Instant) -> T,
    ) -> T {
        let (result, events) = self.shared.with_shard(shard, |st, now| f(st.core(), now));
        self.deliver_detached(events);
        result
    }

    /// Runs `f` on every shard in turn, then delivers their events.
    async fn in_every_shard(&self, f: impl Fn(&mut State, Instant)) {
        for shard in 0..self.shared.shard_count() {
            let ((), events) = self.shared.with_shard(shard, &f);
            self.deliver(events).await;
        }
    }

    /// The counters of the server's broker; `None` without one.
    pub fn broker_stats(&self) -> Option<super::broker::BrokerStats> {
        self.shared.options.broker.as_ref().map(|b| b.stats())
    }

    /// Closes every connection of a user (they will reconnect unless
    /// refused), on every node of a cluster (with a
    /// [`broker`](super::ServerOptions::broker): as Sente's `[:chsk/close]`
    /// pushed to the user).
    ///
    /// Returns how many of this node's connections were closed.
    pub fn close_uid(&self, uid: &Value) -> usize {
        let shard = self.shared.shard_of_uid(uid);
        let closed = self.in_shard(shard, |core, _| core.close_uid(uid));
        if let Some(broker) = &self.shared.options.broker {
            broker.publish(&super::broker::ClusterPush {
                target: super::broker::PushTarget::Uid(uid.clone()),
                event: Arc::new(Event::reserved(crate::event::ids::CLOSE, None)),
                flush: true,
            });
        }
        closed
    }

    /// How many channels (WebSockets and held long-polls) user `uid` has
    /// open now; clients between polls or within their reconnect grace
    /// period are connected (see [`connected_uids`](Self::connected_uids))
    /// but have none.
    pub fn open_channels(&self, uid: &Value) -> usize {
        self.shared.open_channel_count(uid)
    }

    /// What the server holds now: clients, connections, timers, buffers,
    /// routes and POST bodies (for monitoring, and to check that all of it
    /// returns to zero once the clients are gone).
    pub fn stats(&self) -> ServerStats {
        self.shared.stats()
    }

    /// Which users are connected now, by transport.
    pub fn connected_uids(&self) -> ConnectedUids {
        self.shared.connected_uids()
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
        self.in_every_shard(|st, now| st.core().drain(now)).await;
        // Let the handlers answer what they hold.
        let deadline = now + drain;
        loop {
            let listener = shared.conn_ended.listen();
            if shared.posts_awaiting_reply() == 0 {
                break;
            }
            let sleep = shared.runtime.sleep_until(deadline);
            if let futures_util::future::Either::Left(_) =
                futures_util::future::select(sleep, listener).await
            {
                break;
            }
        }
        self.in_every_shard(|st, _| st.core().close_all()).await;
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
            if shared.route_count() == 0 {
                return;
            }
            let sleep = crate::runtime::sleep_until_armed(&*shared.runtime, deadline);
            if let futures_util::future::Either::Left(_) =
                futures_util::future::select(sleep, listener).await
            {
                let left = shared.route_count();
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
        let conn = match to {
            ReplyTo::Ws { conn, .. } => *conn,
            ReplyTo::Ajax { post } => *post,
        };
        let shard = self.shared.shard_of_conn(conn);
        Ok(self.in_shard(shard, |core, _| core.reply_packed(to, packed)))
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

//! Every option of Sente's `make-channel-socket-server!`, with its default.

use std::sync::Arc;
use std::time::Duration;

use super::config::ServerConfig;
use super::request::{ChskRequest, SessionUid};
use super::security::{AllowedOrigins, CsrfCheck, HttpResponse, Security};
use crate::value::Value;

/// How a request's user id is found.
pub type UserIdFn = Arc<dyn Fn(&ChskRequest) -> Option<Value> + Send + Sync>;
/// What the handshake carries as its third element.
pub type HandshakeDataFn = Arc<dyn Fn(&ChskRequest) -> Value + Send + Sync>;

/// The options of a [`ChannelSocketServer`](super::ChannelSocketServer):
/// start from [`default`](Self::default) (or
/// [`ChannelSocketServer::builder`](super::ChannelSocketServer::builder)),
/// chain a setter per option to change, then give them to
/// [`ChannelSocketServer::new`](super::ChannelSocketServer::new), or call
/// [`build`](Self::build) for a server on smol with the EDN packer.
///
/// | option | default | Sente's |
/// |---|---|---|
/// | [`config`](Self::config), or one timing at a time: [`lp_timeout`](Self::lp_timeout), [`ws_kalive`](Self::ws_kalive), [`ws_ping_timeout`](Self::ws_ping_timeout), [`send_buf_ws`](Self::send_buf_ws), [`send_buf_ajax`](Self::send_buf_ajax), [`grace_ws`](Self::grace_ws), [`grace_ajax`](Self::grace_ajax), [`max_pending_bytes`](Self::max_pending_bytes), [`max_buffered_bytes`](Self::max_buffered_bytes), [`max_clients_per_uid`](Self::max_clients_per_uid), [`client_events`](Self::client_events) | see [`ServerConfig`] | the timing options |
/// | [`user_id_fn`](Self::user_id_fn) | the [`SessionUid`] in the request's extensions; `:sente/nil-uid` when none | `:user-id-fn` |
/// | [`handshake_data_fn`](Self::handshake_data_fn) | `nil` | `:handshake-data-fn` |
/// | [`csrf`](Self::csrf) | a [`CsrfToken`](super::CsrfToken) extension is required (403 without) | `:csrf-token-fn` |
/// | [`bad_csrf_fn`](Self::bad_csrf_fn) | 403 "Bad CSRF token" | `:bad-csrf-fn` |
/// | [`allowed_origins`](Self::allowed_origins) | all | `:allowed-origins` |
/// | [`bad_origin_fn`](Self::bad_origin_fn) | 403 "Unauthorized origin" | `:bad-origin-fn` |
/// | [`authorized_fn`](Self::authorized_fn) | none | `:authorized?-fn` |
/// | [`unauthorized_fn`](Self::unauthorized_fn) | 401 "Unauthorized request" | `:unauthorized-fn` |
/// | [`reject_fn`](Self::reject_fn) | none | `:reject-fn` (1.22) |
/// | [`recv_buffer`](Self::recv_buffer) | 1000 events, then backpressure | `:recv-buf-or-n` (a sliding buffer that drops) |
/// | [`max_message_size`](Self::max_message_size) | 1 MiB | — (frames and POST bodies) |
/// | [`max_queued_bytes`](Self::max_queued_bytes) | 4 MiB per WebSocket, then the slow consumer is closed (1008) | — |
/// | [`post_body_timeout`](Self::post_body_timeout) | 10 s for a POST body to arrive, then 408 | — |
/// | [`max_pending_post_bytes`](Self::max_pending_post_bytes) | 32 MiB held by all POST bodies being received, then 503 | — |
/// | [`lock_shards`](Self::lock_shards) | 16 locks over the users' state | — |
/// | [`broker`](Self::broker) | none: one node | — |
///
/// ```
/// use std::time::Duration;
/// use sente::server::{CsrfCheck, ServerOptions};
/// let opts = ServerOptions::default()
///     .csrf(CsrfCheck::Skip)
///     .lp_timeout(Duration::from_secs(10))
///     .max_message_size(64 << 10);
/// # let _ = opts;
/// ```
#[derive(Clone)]
pub struct ServerOptions {
    /// Timings and bounds of the protocol.
    pub(crate) config: ServerConfig,
    pub(crate) user_id_fn: Option<UserIdFn>,
    pub(crate) handshake_data_fn: Option<HandshakeDataFn>,
    pub(crate) security: Security,
    /// Events buffered for the application before the server stops reading
    /// from the connections that feed it (backpressure, nothing is dropped).
    pub(crate) recv_buffer: usize,
    /// The largest message accepted, in bytes: WebSocket messages and Ajax
    /// POST bodies. A larger WebSocket message closes that connection; a
    /// larger POST is answered 413.
    pub(crate) max_message_size: usize,
    /// The bytes of frames queued for one WebSocket that the peer has not
    /// read yet (default 4 MiB; each frame counts its payload plus 64 bytes;
    /// one frame larger than this still goes through an empty queue). A
    /// client that falls this far behind is closed with 1008 "send queue
    /// full" at once, its backlog dropped and logged; later pushes wait for
    /// its reconnect as for any closed connection.
    pub(crate) max_queued_bytes: usize,
    /// How long an Ajax POST's body may take to arrive once its headers have
    /// (default 10 s). A slower body is answered 408: a client cannot hold a
    /// request, and the memory of its half-sent body, by trickling it.
    pub(crate) post_body_timeout: Duration,
    /// The bytes that all Ajax POST bodies still being received may hold
    /// together (default 32 MiB). A body that would go past it is answered
    /// 503 with `Retry-After: 1`; its `Content-Length` is counted as soon as
    /// its headers arrive.
    pub(crate) max_pending_post_bytes: usize,
    /// How many parts the users' state is split into, each behind its own
    /// lock, by a hash of the user id (default 16, at most
    /// [`MAX_LOCK_SHARDS`](super::MAX_LOCK_SHARDS); 0 counts as 1). The
    /// connections of users in different parts never wait on each other;
    /// what spans users ([`broadcast`](super::ChannelSocketServer::broadcast),
    /// [`connected_uids`](super::ChannelSocketServer::connected_uids)) visits
    /// the parts in turn, and packs a broadcast's batch once per part.
    pub(crate) lock_shards: usize,
    pub(crate) broker: Option<Arc<dyn super::broker::Broker>>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            config: ServerConfig::default(),
            user_id_fn: None,
            handshake_data_fn: None,
            security: Security::default(),
            recv_buffer: 1000,
            max_message_size: 1 << 20,
            max_queued_bytes: 4 << 20,
            post_body_timeout: Duration::from_secs(10),
            max_pending_post_bytes: 32 << 20,
            lock_shards: 16,
            broker: None,
        }
    }
}

impl std::fmt::Debug for ServerOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerOptions")
            .field("config", &self.config)
            .field("user_id_fn", &self.user_id_fn.is_some())
            .field("handshake_data_fn", &self.handshake_data_fn.is_some())
            .field("security", &self.security)
            .field("recv_buffer", &self.recv_buffer)
            .field("max_message_size", &self.max_message_size)
            .field("max_queued_bytes", &self.max_queued_bytes)
            .field("post_body_timeout", &self.post_body_timeout)
            .field("max_pending_post_bytes", &self.max_pending_post_bytes)
            .field("lock_shards", &self.lock_shards)
            .field("broker", &self.broker)
            .finish()
    }
}

impl ServerOptions {
    /// Replaces the timings and bounds of the protocol at once (the default
    /// is [`ServerConfig::default`]); the setters below change one.
    #[must_use]
    pub fn config(mut self, config: ServerConfig) -> Self {
        self.config = config;
        self
    }

    crate::setters::config_setters! { "ServerConfig";
        ws_kalive: Option<Duration>;
        ws_ping_timeout: Option<Duration>;
        lp_timeout: Duration;
        send_buf_ws: Duration;
        send_buf_ajax: Duration;
        grace_ws: Duration;
        grace_ajax: Duration;
        max_pending_bytes: usize;
        max_buffered_bytes: usize;
        max_clients_per_uid: usize;
        client_events: bool;
    }

    /// Sets how many events are buffered for the application before the
    /// server stops reading from the connections that feed it
    /// (backpressure, nothing is dropped; default 1000, 0 counts as 1).
    #[must_use]
    pub fn recv_buffer(mut self, events: usize) -> Self {
        self.recv_buffer = events;
        self
    }

    /// Sets the largest message accepted, in bytes (default 1 MiB):
    /// WebSocket messages and Ajax POST bodies. A larger WebSocket message
    /// closes that connection; a larger POST is answered 413.
    #[must_use]
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes;
        self
    }

    /// Sets the bytes of frames queued for one WebSocket that the peer has
    /// not read yet (default 4 MiB; each frame counts its payload plus 64
    /// bytes; one frame larger than this still goes through an empty
    /// queue). A client that falls this far behind is closed with 1008
    /// "send queue full" at once, its backlog dropped and logged; later
    /// pushes wait for its reconnect as for any closed connection.
    #[must_use]
    pub fn max_queued_bytes(mut self, bytes: usize) -> Self {
        self.max_queued_bytes = bytes;
        self
    }

    /// Sets how long an Ajax POST's body may take to arrive once its
    /// headers have (default 10 s). A slower body is answered 408: a client
    /// cannot hold a request, and the memory of its half-sent body, by
    /// trickling it.
    #[must_use]
    pub fn post_body_timeout(mut self, timeout: Duration) -> Self {
        self.post_body_timeout = timeout;
        self
    }

    /// Sets the bytes that all Ajax POST bodies still being received may
    /// hold together (default 32 MiB). A body that would go past it is
    /// answered 503 with `Retry-After: 1`; its `Content-Length` is counted
    /// as soon as its headers arrive.
    #[must_use]
    pub fn max_pending_post_bytes(mut self, bytes: usize) -> Self {
        self.max_pending_post_bytes = bytes;
        self
    }

    /// Sets how many parts the users' state is split into, each behind its
    /// own lock, by a hash of the user id (default 16, at most
    /// [`MAX_LOCK_SHARDS`](super::MAX_LOCK_SHARDS); 0 counts as 1). The
    /// connections of users in different parts never wait on each other;
    /// what spans users ([`broadcast`](super::ChannelSocketServer::broadcast),
    /// [`connected_uids`](super::ChannelSocketServer::connected_uids)) visits
    /// the parts in turn, and packs a broadcast's batch once per part.
    #[must_use]
    pub fn lock_shards(mut self, shards: usize) -> Self {
        self.lock_shards = shards;
        self
    }

    /// Makes the server with these options on smol
    /// ([`SmolRuntime`](crate::runtimes::smol::SmolRuntime)) with the EDN
    /// packer, Sente's default, and the stream of its events: the short
    /// form of [`ChannelSocketServer::new`](super::ChannelSocketServer::new)
    /// (use that for another runtime or packer).
    ///
    /// ```no_run
    /// use sente::server::{ChannelSocketServer, CsrfCheck};
    /// let (chsk, events) = ChannelSocketServer::builder()
    ///     .csrf(CsrfCheck::Skip)
    ///     .build()
    ///     .expect("valid options");
    /// # let _ = (chsk, events);
    /// ```
    ///
    /// # Errors
    /// [`ConfigError`](super::ConfigError) when the options are ones Sente
    /// would refuse.
    #[cfg(all(feature = "smol", feature = "edn"))]
    pub fn build(
        self,
    ) -> Result<(super::ChannelSocketServer, super::ServerEvents), super::ConfigError> {
        super::ChannelSocketServer::new(
            crate::runtimes::smol::SmolRuntime,
            crate::packer::EdnPacker::new(),
            self,
        )
    }

    /// Sets how a request's user id is found. `None` from the function gives
    /// the anonymous uid `:sente/nil-uid`.
    pub fn user_id_fn(
        mut self,
        f: impl Fn(&ChskRequest) -> Option<Value> + Send + Sync + 'static,
    ) -> Self {
        self.user_id_fn = Some(Arc::new(f));
        self
    }

    /// Sets the data sent in every handshake.
    pub fn handshake_data_fn(
        mut self,
        f: impl Fn(&ChskRequest) -> Value + Send + Sync + 'static,
    ) -> Self {
        self.handshake_data_fn = Some(Arc::new(f));
        self
    }

    /// Joins this server to a cluster through `broker`: pushes reach the
    /// users' clients on every node and `connected_uids` shows every node's
    /// users (see [`broker`](super::broker)).
    pub fn broker(mut self, broker: Arc<dyn super::broker::Broker>) -> Self {
        self.broker = Some(broker);
        self
    }

    /// Sets the CSRF check ([`CsrfCheck::Skip`] to disable it).
    pub fn csrf(mut self, check: CsrfCheck) -> Self {
        self.security.csrf = check;
        self
    }

    /// Sets the response to a failed CSRF check.
    pub fn bad_csrf_fn(
        mut self,
        f: impl Fn(&ChskRequest) -> HttpResponse + Send + Sync + 'static,
    ) -> Self {
        self.security.bad_csrf = Arc::new(f);
        self
    }

    /// Sets which origins may connect.
    pub fn allowed_origins(mut self, origins: AllowedOrigins) -> Self {
        self.security.allowed_origins = origins;
        self
    }

    /// Sets the response to a refused origin.
    pub fn bad_origin_fn(
        mut self,
        f: impl Fn(&ChskRequest) -> HttpResponse + Send + Sync + 'static,
    ) -> Self {
        self.security.bad_origin = Arc::new(f);
        self
    }

    /// Sets a check every request must pass after CSRF and origin.
    pub fn authorized_fn(
        mut self,
        f: impl Fn(&ChskRequest) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.security.authorized = Some(Arc::new(f));
        self
    }

    /// Sets the response to a request the authorized function refused.
    pub fn unauthorized_fn(
        mut self,
        f: impl Fn(&ChskRequest) -> HttpResponse + Send + Sync + 'static,
    ) -> Self {
        self.security.unauthorized = Arc::new(f);
        self
    }

    /// Sets a function that runs before every other check and may answer the
    /// request itself (e.g. 429 when rate limited).
    pub fn reject_fn(
        mut self,
        f: impl Fn(&ChskRequest) -> Option<HttpResponse> + Send + Sync + 'static,
    ) -> Self {
        self.security.reject = Some(Arc::new(f));
        self
    }

    pub(crate) fn user_id(&self, req: &ChskRequest) -> Value {
        let uid = match &self.user_id_fn {
            Some(f) => f(req),
            None => req.head.extensions.get::<SessionUid>().map(|s| s.0.clone()),
        };
        uid.filter(|u| !u.is_nil())
            .unwrap_or_else(|| Value::keyword(crate::wire::NIL_UID))
    }

    pub(crate) fn handshake_data(&self, req: &ChskRequest) -> Value {
        self.handshake_data_fn
            .as_ref()
            .map_or(Value::Nil, |f| f(req))
    }
}

//! The options of the client core, with Sente's defaults.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::backoff::exp_backoff;
use crate::transport::Transport;

/// Which transport a client uses (Sente's `:type`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub enum ChskType {
    /// WebSocket first; Ajax long-polling if the first WebSocket fails
    /// before any handshake (a one-way downgrade). Sente's default.
    #[default]
    Auto,
    /// WebSocket only.
    Ws,
    /// Ajax long-polling only.
    Ajax,
}

impl ChskType {
    /// `"auto"`, `"ws"` or `"ajax"`: the keyword's name in Sente's state map.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Ws => "ws",
            Self::Ajax => "ajax",
        }
    }
}

impl From<Transport> for ChskType {
    fn from(t: Transport) -> Self {
        match t {
            Transport::Ws => Self::Ws,
            Transport::Ajax => Self::Ajax,
        }
    }
}

/// A backoff policy (Sente's `:backoff-ms-fn`): given the retry attempt
/// (2, 3, …; the first retry is immediate and calls nothing) and a source
/// of uniform random numbers in `[0, 1)`, how long to wait before it.
pub type BackoffFn = Arc<dyn Fn(u32, &mut dyn FnMut() -> f64) -> Duration + Send + Sync>;

/// The client core's options. `Default` gives Sente 1.21's defaults; one
/// setter per option changes it ([`ClientOptions`](super::ClientOptions)
/// has the same setters).
///
/// ```
/// use std::time::Duration;
/// use sente::client::{ChskType, ClientConfig};
/// let config = ClientConfig::default()
///     .chsk_type(ChskType::Ws)
///     .ws_kalive(Some(Duration::from_secs(5)))
///     .rng_seed(7);
/// assert!(config.validate().is_ok());
/// ```
#[derive(Clone)]
pub struct ClientConfig {
    /// The transport (`:type`, default [`ChskType::Auto`]).
    pub(crate) chsk_type: ChskType,
    /// The client id sent on every request (`:client-id`). Default: a fresh
    /// random UUID v4 string (36 characters) per configuration.
    pub(crate) client_id: String,
    /// WebSocket keep-alive (`:ws-kalive-ms`, default 20 s). As in Sente the
    /// effective tick is **half** of it (10 s): at each tick with no frame
    /// sent or received since the previous one, the client pings the server.
    /// `None` disables the client ping.
    pub(crate) ws_kalive: Option<Duration>,
    /// How long a keep-alive ping waits for its `"pong"` before the client
    /// reconnects (`:ws-ping-timeout-ms`, default 5 s).
    pub(crate) ws_ping_timeout: Duration,
    /// The Ajax request timeout (`:ajax-opts :timeout-ms`, default 60 s): how
    /// long a long-poll GET, and a POST without a reply timeout of its own,
    /// may take. Keep it above the server's long-poll timeout (20 s by
    /// default), or idle polls end as client-side timeouts.
    pub(crate) ajax_timeout: Duration,
    /// The reconnect backoff (`:backoff-ms-fn`, default [`exp_backoff`]).
    pub(crate) backoff: BackoffFn,
    /// Replies awaited at once (default 1024). Beyond it
    /// [`send_with_reply`](super::ClientCore::send_with_reply) fails with
    /// [`SendError::TooManyPendingCallbacks`](super::SendError::TooManyPendingCallbacks).
    /// Sente has no bound. At most 2^20.
    pub(crate) max_pending_callbacks: usize,
    /// Deliver pushed events (and server pings) wrapped as
    /// `[:chsk/recv ev]` (`:wrap-recv-evs?`, default false).
    pub(crate) wrap_recv_evs: bool,
    /// Debugging aid, in `[0, 1]` (default 0): that share of connection
    /// activities (WebSocket connects, long-polls, sends) fails at once as if
    /// the network had failed. Sente 1.21 has this on the server only.
    pub(crate) bad_conn_rate: f64,
    /// Seed of the random generator used for backoff jitter, callback ids
    /// and `bad_conn_rate` (default `None`: seeded from the OS). Fix it to
    /// make a client's behaviour reproducible.
    pub(crate) rng_seed: Option<u64>,
}

/// Callback ids are 6 hex digits: the pending set must leave room.
const MAX_PENDING_CALLBACKS: usize = 1 << 20;

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            chsk_type: ChskType::Auto,
            client_id: uuid::Uuid::new_v4().to_string(),
            ws_kalive: Some(Duration::from_millis(20_000)),
            ws_ping_timeout: Duration::from_millis(5_000),
            ajax_timeout: Duration::from_millis(60_000),
            backoff: Arc::new(exp_backoff),
            max_pending_callbacks: 1024,
            wrap_recv_evs: false,
            bad_conn_rate: 0.0,
            rng_seed: None,
        }
    }
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("chsk_type", &self.chsk_type)
            .field("client_id", &self.client_id)
            .field("ws_kalive", &self.ws_kalive)
            .field("ws_ping_timeout", &self.ws_ping_timeout)
            .field("ajax_timeout", &self.ajax_timeout)
            .field("backoff", &"<fn>")
            .field("max_pending_callbacks", &self.max_pending_callbacks)
            .field("wrap_recv_evs", &self.wrap_recv_evs)
            .field("bad_conn_rate", &self.bad_conn_rate)
            .field("rng_seed", &self.rng_seed)
            .finish()
    }
}

/// A client configuration that cannot work.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The client id is empty or blank: the server would refuse it.
    #[error("client_id must not be blank")]
    BlankClientId,
    /// A duration that must be positive is zero.
    #[error("{0} must be positive")]
    ZeroDuration(&'static str),
    /// `max_pending_callbacks` is 0 or above 2^20.
    #[error("max_pending_callbacks must be in 1..=1048576, got {0}")]
    PendingCallbacksOutOfRange(usize),
    /// `bad_conn_rate` is not in `[0, 1]`.
    #[error("bad_conn_rate must be in [0, 1], got {0}")]
    BadConnRate(f64),
}

impl ClientConfig {
    crate::setters::setters! {
        /// Sets the transport (`:type`, default [`ChskType::Auto`]).
        chsk_type: ChskType;
        /// Sets WebSocket keep-alive (`:ws-kalive-ms`, default 20 s). As in
        /// Sente the effective tick is **half** of it (10 s): at each tick
        /// with no frame sent or received since the previous one, the
        /// client pings the server. `None` disables the client ping; a zero
        /// duration fails [`validate`](Self::validate).
        ws_kalive: Option<Duration>;
        /// Sets how long a keep-alive ping waits for its `"pong"` before
        /// the client reconnects (`:ws-ping-timeout-ms`, default 5 s).
        ws_ping_timeout: Duration;
        /// Sets the Ajax request timeout (`:ajax-opts :timeout-ms`, default
        /// 60 s, must be positive): how long a long-poll GET, and a POST
        /// without a reply timeout of its own, may take. Keep it above the
        /// server's long-poll timeout (20 s by default), or idle polls end
        /// as client-side timeouts.
        ajax_timeout: Duration;
        /// Sets how many replies may be awaited at once (default 1024, in
        /// `1..=2^20`, else [`validate`](Self::validate) fails). Beyond it
        /// [`send_with_reply`](super::ClientCore::send_with_reply) fails
        /// with
        /// [`SendError::TooManyPendingCallbacks`](super::SendError::TooManyPendingCallbacks).
        /// Sente has no bound.
        max_pending_callbacks: usize;
        /// Delivers pushed events (and server pings) wrapped as
        /// `[:chsk/recv ev]` (`:wrap-recv-evs?`, default false).
        wrap_recv_evs: bool;
        /// Debugging aid, in `[0, 1]` (default 0, else
        /// [`validate`](Self::validate) fails): that share of connection
        /// activities (WebSocket connects, long-polls, sends) fails at once
        /// as if the network had failed. Sente 1.21 has this on the server
        /// only.
        bad_conn_rate: f64;
    }

    /// Sets the client id sent on every request (`:client-id`). Default: a
    /// fresh random UUID v4 string (36 characters) per configuration; a
    /// blank one fails [`validate`](Self::validate).
    #[must_use]
    pub fn client_id(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = client_id.into();
        self
    }

    /// Sets the reconnect backoff (`:backoff-ms-fn`, default
    /// [`exp_backoff`]): given the retry attempt (2, 3, …; the first retry
    /// is immediate) and a source of uniform random numbers in `[0, 1)`,
    /// how long to wait before it.
    #[must_use]
    pub fn backoff(
        mut self,
        f: impl Fn(u32, &mut dyn FnMut() -> f64) -> Duration + Send + Sync + 'static,
    ) -> Self {
        self.backoff = Arc::new(f);
        self
    }

    /// Seeds the random generator used for backoff jitter, callback ids
    /// and `bad_conn_rate` (default: seeded from the OS), to make a
    /// client's behaviour reproducible.
    #[must_use]
    pub fn rng_seed(mut self, seed: u64) -> Self {
        self.rng_seed = Some(seed);
        self
    }

    /// Checks the configuration.
    ///
    /// # Errors
    /// [`ConfigError`] naming the first offending field.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.client_id.trim().is_empty() {
            return Err(ConfigError::BlankClientId);
        }
        if self.ws_kalive.is_some() && self.keep_alive_tick().is_none() {
            return Err(ConfigError::ZeroDuration("ws_kalive"));
        }
        if self.ajax_timeout.is_zero() {
            return Err(ConfigError::ZeroDuration("ajax_timeout"));
        }
        if !(1..=MAX_PENDING_CALLBACKS).contains(&self.max_pending_callbacks) {
            return Err(ConfigError::PendingCallbacksOutOfRange(
                self.max_pending_callbacks,
            ));
        }
        if !(0.0..=1.0).contains(&self.bad_conn_rate) {
            return Err(ConfigError::BadConnRate(self.bad_conn_rate));
        }
        Ok(())
    }

    /// The keep-alive tick: half of `ws_kalive` (Sente's #455), `None` when
    /// disabled or zero.
    pub fn keep_alive_tick(&self) -> Option<Duration> {
        self.ws_kalive.map(|k| k / 2).filter(|t| !t.is_zero())
    }
}

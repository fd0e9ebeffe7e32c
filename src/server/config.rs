//! The timings and bounds of the server core, with Sente's defaults.

use std::time::Duration;

/// Timings and bounds of the server core. Every option has Sente 1.21's
/// default where Sente has one, and a documented bound where Sente has none.
///
/// Built from [`default`](Self::default) with one setter per option, each
/// documented below; [`ServerOptions`](super::ServerOptions) has the same
/// setters.
///
/// ```
/// use std::time::Duration;
/// use sente::server::ServerConfig;
/// let config = ServerConfig::default()
///     .lp_timeout(Duration::from_secs(10))
///     .client_events(true);
/// assert!(config.validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// Server WebSocket keep-alive (`:ws-kalive-ms`, default 25 s). As in
    /// Sente 1.21 the effective idle window is **half** of it (12.5 s): a
    /// connection that sent nothing for that long gets `[:chsk/ws-ping nil]`.
    /// `None` disables server pings.
    pub(crate) ws_kalive: Option<Duration>,
    /// How long to wait for any message after a server ping before closing
    /// the connection (`:ws-ping-timeout-ms`, default 10 s). `None`: ping but
    /// never close.
    pub(crate) ws_ping_timeout: Option<Duration>,
    /// How long an Ajax long-poll is held before `[:chsk/timeout nil]`, and
    /// how long an Ajax POST waits for the handler's reply
    /// (`:lp-timeout-ms`, default 20 s; must be below 60 s, the clients' XHR
    /// timeout).
    pub(crate) lp_timeout: Duration,
    /// How long pushes to a user are buffered before one WebSocket batch
    /// (`:send-buf-ms-ws`, default 30 ms).
    pub(crate) send_buf_ws: Duration,
    /// The same for Ajax (`:send-buf-ms-ajax`, default 100 ms).
    pub(crate) send_buf_ajax: Duration,
    /// Grace period after a WebSocket closes before the client counts as gone
    /// (`:ms-allow-reconnect-before-close-ws`, default 2.5 s).
    pub(crate) grace_ws: Duration,
    /// The same for Ajax, between polls
    /// (`:ms-allow-reconnect-before-close-ajax`, default 5 s).
    pub(crate) grace_ajax: Duration,
    /// The bytes of push batches kept for one client that has no open
    /// channel right now (an Ajax client between polls, a WebSocket client
    /// reconnecting within the grace period), delivered when it is back.
    /// Default 1 MiB (each batch counts its packed size plus 64 bytes; the
    /// newest batch is always kept). Beyond it the oldest batches are
    /// dropped and reported as
    /// [`Output::PushDropped`](super::Output::PushDropped). Sente retries
    /// for about 2–4 s and then drops silently; we keep them for the whole
    /// grace period.
    pub(crate) max_pending_bytes: usize,
    /// The bytes of events buffered for one user and transport before a
    /// flush is forced (default 1 MiB, as packed): bounds the send buffer
    /// between two flushes.
    pub(crate) max_buffered_bytes: usize,
    /// Clients (distinct client ids) one user may have per transport at once
    /// (default 256). A connection beyond it is refused with
    /// [`ConnectError::TooManyClients`](super::ConnectError::TooManyClients).
    pub(crate) max_clients_per_uid: usize,
    /// Also tell the application when each client (a tab or device: a
    /// client id, on one transport) arrives and leaves, not only each user
    /// (default off, as Sente has no such events). When on, the event
    /// stream gets `[:chsk/client-open client-id]` when a client id first
    /// connects (before the user's `chsk/uidport-open`, if it is the
    /// user's first), and `[:chsk/client-close client-id]` when it is gone
    /// for good, after its grace period (before the user's
    /// `chsk/uidport-close`, if it was the last). The message's `uid`,
    /// `client_id` and `transport` say whose; keep per-client state keyed
    /// by them and drop it on the close.
    pub(crate) client_events: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            ws_kalive: Some(Duration::from_millis(25_000)),
            ws_ping_timeout: Some(Duration::from_millis(10_000)),
            lp_timeout: Duration::from_millis(20_000),
            send_buf_ws: Duration::from_millis(30),
            send_buf_ajax: Duration::from_millis(100),
            grace_ws: Duration::from_millis(2_500),
            grace_ajax: Duration::from_millis(5_000),
            max_pending_bytes: 1 << 20,
            max_buffered_bytes: 1 << 20,
            max_clients_per_uid: 256,
            client_events: false,
        }
    }
}

/// A configuration Sente would refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// `lp_timeout` must be below 60 s, the clients' XHR timeout.
    #[error("lp_timeout must be below 60 s (the clients' XHR timeout), got {0:?}")]
    LpTimeoutTooLong(Duration),
    /// The send buffers must be positive.
    #[error("send_buf_ws and send_buf_ajax must be positive")]
    ZeroSendBuffer,
    /// A bound is zero.
    #[error("{0} must be at least 1")]
    ZeroBound(&'static str),
}

impl ServerConfig {
    crate::setters::setters! {
        /// Sets the server WebSocket keep-alive (`:ws-kalive-ms`, default
        /// 25 s). As in Sente 1.21 the effective idle window is **half** of
        /// it (12.5 s): a connection that sent nothing for that long gets
        /// `[:chsk/ws-ping nil]`. `None` disables server pings.
        ws_kalive: Option<Duration>;
        /// Sets how long to wait for any message after a server ping before
        /// closing the connection (`:ws-ping-timeout-ms`, default 10 s).
        /// `None`: ping but never close.
        ws_ping_timeout: Option<Duration>;
        /// Sets how long an Ajax long-poll is held before
        /// `[:chsk/timeout nil]`, and how long an Ajax POST waits for the
        /// handler's reply (`:lp-timeout-ms`, default 20 s; must be below
        /// 60 s, the clients' XHR timeout, or [`validate`](Self::validate)
        /// fails).
        lp_timeout: Duration;
        /// Sets how long pushes to a user are buffered before one WebSocket
        /// batch (`:send-buf-ms-ws`, default 30 ms; must be positive).
        send_buf_ws: Duration;
        /// The same for Ajax (`:send-buf-ms-ajax`, default 100 ms).
        send_buf_ajax: Duration;
        /// Sets the grace period after a WebSocket closes before the client
        /// counts as gone (`:ms-allow-reconnect-before-close-ws`, default
        /// 2.5 s).
        grace_ws: Duration;
        /// The same for Ajax, between polls
        /// (`:ms-allow-reconnect-before-close-ajax`, default 5 s).
        grace_ajax: Duration;
        /// Sets the bytes of push batches kept for one client that has no
        /// open channel right now (an Ajax client between polls, a WebSocket
        /// client reconnecting within the grace period), delivered when it
        /// is back. Default 1 MiB; at least 1 (each batch counts its packed
        /// size plus 64 bytes; the newest batch is always kept). Beyond it
        /// the oldest batches are dropped and reported as
        /// [`Output::PushDropped`](super::Output::PushDropped).
        max_pending_bytes: usize;
        /// Sets the bytes of events buffered for one user and transport
        /// before a flush is forced (default 1 MiB, as packed; at least 1).
        max_buffered_bytes: usize;
        /// Sets how many clients (distinct client ids) one user may have
        /// per transport at once (default 256; at least 1). A connection
        /// beyond it is refused with
        /// [`ConnectError::TooManyClients`](super::ConnectError::TooManyClients).
        max_clients_per_uid: usize;
        /// Also tells the application when each client (a tab or device: a
        /// client id, on one transport) arrives and leaves, not only each
        /// user (default off, as Sente has no such events): the event
        /// stream gets `[:chsk/client-open client-id]` when a client id
        /// first connects (before the user's `chsk/uidport-open`, if it is
        /// the user's first), and `[:chsk/client-close client-id]` when it
        /// is gone for good, after its grace period (before the user's
        /// `chsk/uidport-close`, if it was the last).
        client_events: bool;
    }

    /// Checks the configuration as Sente's constructor does.
    ///
    /// # Errors
    /// [`ConfigError`] naming the first offending field.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.lp_timeout >= Duration::from_secs(60) {
            return Err(ConfigError::LpTimeoutTooLong(self.lp_timeout));
        }
        if self.send_buf_ws.is_zero() || self.send_buf_ajax.is_zero() {
            return Err(ConfigError::ZeroSendBuffer);
        }
        for (name, v) in [
            ("max_pending_bytes", self.max_pending_bytes),
            ("max_buffered_bytes", self.max_buffered_bytes),
            ("max_clients_per_uid", self.max_clients_per_uid),
        ] {
            if v == 0 {
                return Err(ConfigError::ZeroBound(name));
            }
        }
        Ok(())
    }

    /// The effective idle window before a server ping: half of `ws_kalive`.
    pub fn ws_idle_window(&self) -> Option<Duration> {
        self.ws_kalive.map(|k| k / 2)
    }
}

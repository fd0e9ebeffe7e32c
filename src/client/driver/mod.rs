//! The async driver: a [`ClientCore`] shared by one task per WebSocket, one
//! per Ajax request and one timer task, on any [`Runtime`] and
//! [`ClientTransport`].
//!
//! This file is the public face ([`ChannelSocketClient`]); the rest import
//! in one direction, each only from those below it:
//!
//! * `shared`: the core and where its outputs go, behind one lock, private;
//!   the one way in is `Shared::with_state` (lock, run the core, carry out
//!   its outputs, unlock, run the callbacks that came due).
//! * `outputs`: carrying out the core's outputs, for the shared state.
//! * `outbox` (events on their way to the application, and their pump)
//!   and `routes` (WebSocket queues, Ajax aborts, reply slots).
//! * `io`: the WebSocket and Ajax tasks, built on `requests` (the HTTP
//!   requests). The tasks report through `host::Host`, which the shared
//!   state implements, so they do not import it.
//! * `context`: what every part reads without the lock.

mod context;
mod host;
mod io;
mod outbox;
mod outputs;
mod requests;
mod routes;
mod shared;

use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime};

use self::context::Context;
use self::host::Host as _;
use self::routes::ReplySlot;
use self::shared::Shared;
use super::config::ConfigError;
use super::core::ClientCore;
use super::event_msg::ClientEventMsg;
use super::options::ClientOptions;
use super::state::ClientState;
use super::transport::ClientTransport;
use super::types::*;
use crate::event::Event;
use crate::packer::Packer;
use crate::runtime::Runtime;
use crate::transport::Transport;
use crate::value::Value;

/// The channel-socket client: Sente's `make-channel-socket-client!`.
///
/// Cheap to clone (a reference count). It gives the application:
/// * the stream of [`ClientEventMsg`]s (returned by [`new`](Self::new));
/// * [`connect`](Self::connect), [`disconnect`](Self::disconnect),
///   [`reconnect`](Self::reconnect), [`break_connection`](Self::break_connection);
/// * [`send`](Self::send), [`send_with_reply`](Self::send_with_reply),
///   [`send_with_callback`](Self::send_with_callback);
/// * [`state`](Self::state) and [`watch_state`](Self::watch_state).
///
/// Dropping every handle (event messages do not count) abandons the
/// connection without a close handshake and ends the client's tasks: call
/// [`disconnect`](Self::disconnect) first for a clean close.
///
/// ```no_run
/// use std::time::Duration;
/// use sente::client::ChannelSocketClient;
/// use sente::{Event, Value};
///
/// smol::block_on(async {
///     let (client, events) = ChannelSocketClient::builder("http://127.0.0.1:8080/chsk")
///         .expect("a URL")
///         .build()
///         .expect("valid options");
///     client.connect();
///     while let Ok(msg) = events.recv().await {
///         if msg.id().as_str() == "chsk/handshake" {
///             break;
///         }
///     }
///     let ev = Event::from_static("echo/echo", "hi");
///     let reply = client.send_with_reply(&ev, Duration::from_secs(5)).await;
///     assert_eq!(reply, Ok(Value::from("hi")));
/// });
/// ```
#[derive(Debug, Clone)]
pub struct ChannelSocketClient {
    shared: Arc<Shared>,
}

/// The stream of events for the application (Sente's `ch-recv`). Bounded
/// by [`ClientOptions::recv_buffer`]: while it is full, the client stops
/// reading from the server.
pub type ClientEvents = crate::EventStream<ClientEventMsg>;

/// A watch on [`ChannelSocketClient::state`].
#[derive(Debug)]
pub struct StateWatch {
    shared: Weak<Shared>,
    seen: u64,
}

impl StateWatch {
    /// Waits until the state differs from the last value this watch
    /// returned (the first call returns the current state at once), and
    /// returns it. `None` once the client is gone.
    pub async fn changed(&mut self) -> Option<ClientState> {
        loop {
            let shared = self.shared.upgrade()?;
            let listener = shared.context().state_changed.listen();
            if let Some((version, state)) = shared.state_if_changed(self.seen) {
                self.seen = version;
                return Some(state);
            }
            drop(shared);
            listener.await;
        }
    }
}

impl ChannelSocketClient {
    /// Makes a client on `runtime` with `packer`, opening connections with
    /// `transport`, and the stream of its events. It does not connect:
    /// call [`connect`](Self::connect).
    ///
    /// The runtime, packer and transport are taken by value (`SmolRuntime`,
    /// `EdnPacker::new()`, `SmolClientTransport::new()`); an `Arc<dyn …>`
    /// already shared is used as is. On smol with the EDN packer,
    /// [`builder`](Self::builder) and [`ClientOptions::build`] are shorter.
    ///
    /// # Errors
    /// [`ConfigError`] when the options' protocol configuration cannot work.
    pub fn new(
        runtime: impl Runtime,
        packer: impl Packer,
        transport: impl ClientTransport,
        options: ClientOptions,
    ) -> Result<(Self, ClientEvents), ConfigError> {
        let runtime: Arc<dyn Runtime> =
            crate::runtime::share::<_, dyn Runtime>(runtime, |r| Arc::new(r));
        let packer: Arc<dyn Packer> =
            crate::runtime::share::<_, dyn Packer>(packer, |p| Arc::new(p));
        let transport: Arc<dyn ClientTransport> =
            crate::runtime::share::<_, dyn ClientTransport>(transport, |t| Arc::new(t));
        let binary = packer.is_binary();
        let core = ClientCore::new(
            options.config.clone(),
            packer,
            runtime.now(),
            SystemTime::now(),
        )?;
        let (events, events_rx) = async_channel::bounded(options.recv_buffer.max(1));
        let (timer_wake, wake_rx) = async_channel::bounded(1);
        let context = Context {
            runtime,
            transport,
            options,
            binary,
            events,
            timer_wake,
            state_changed: event_listener::Event::new(),
            outbox_drained: event_listener::Event::new(),
        };
        let shared = Shared::start(context, core, wake_rx);
        Ok((Self { shared }, crate::EventStream::new(events_rx)))
    }

    /// Options for the channel socket at `url` (`http://host:port/chsk`;
    /// `https`, `ws` and `wss` work too), every other option at its
    /// default, to chain setters on and end with [`ClientOptions::build`] (a
    /// client on smol with the EDN packer), or to give to [`new`](Self::new):
    /// the same as [`ClientOptions::new`].
    ///
    /// # Errors
    /// [`UrlError`](super::UrlError) when `url` is not such a URL.
    pub fn builder(url: &str) -> Result<ClientOptions, super::UrlError> {
        ClientOptions::new(url)
    }

    /// The options the client was made with.
    pub fn options(&self) -> &ClientOptions {
        &self.shared.context().options
    }

    /// The client id sent on every request.
    pub fn client_id(&self) -> &str {
        &self.shared.context().options.config.client_id
    }

    /// Connects: a WebSocket first under [`ChskType::Auto`](super::ChskType::Auto)
    /// and [`Ws`](super::ChskType::Ws), a handshake long-poll under
    /// [`Ajax`](super::ChskType::Ajax). Calling it again starts over.
    pub fn connect(&self) {
        self.shared.with_core(|core, now| core.connect(now));
    }

    /// Disconnects for good (no more retries): the state closes with
    /// `:requested-disconnect`, the WebSocket is closed (1000) or the poll
    /// aborted.
    pub fn disconnect(&self) {
        self.shared.with_core(|core, now| core.disconnect(now));
    }

    /// Disconnects (`:requested-reconnect`) and connects again at once.
    pub fn reconnect(&self) {
        self.shared.with_core(|core, now| core.reconnect(now));
    }

    /// Breaks the connection to exercise recovery: with `close_ws` the
    /// WebSocket is closed (3000) and reconnects as after any close;
    /// without, it is detached first, so the client finds out at its next
    /// ping or send. Over Ajax the poll is aborted and retried.
    pub fn break_connection(&self, close_ws: bool) {
        self.shared
            .with_core(|core, now| core.break_connection(now, close_ws));
    }

    /// Sends an event, no reply wanted. Nothing is queued while the client
    /// is not open.
    ///
    /// # Errors
    /// [`SendError::Closed`] when the client is not open;
    /// [`SendError::Pack`] when the event cannot be packed.
    pub fn send(&self, event: &Event) -> Result<(), SendError> {
        self.shared.with_core(|core, now| core.send(now, event))
    }

    /// Sends an event and waits for its reply: the server's value, or
    /// [`CallbackError::Timeout`] after `timeout`.
    ///
    /// # Errors
    /// [`CallbackError::Closed`] at once when the client is not open (or
    /// goes away meanwhile); [`CallbackError::Timeout`];
    /// [`CallbackError::Error`] when the request failed, the event could
    /// not be packed, or too many replies are awaited.
    pub async fn send_with_reply(
        &self,
        event: &Event,
        timeout: Duration,
    ) -> Result<Value, CallbackError> {
        let (tx, rx) = async_channel::bounded(1);
        self.shared
            .send_with_reply(event, timeout, ReplySlot::Channel(tx))
            .map_err(|(e, _)| e.as_callback_error())?;
        rx.recv().await.unwrap_or(Err(CallbackError::Closed))
    }

    /// Sends an event and calls `callback` with its reply, exactly once: at
    /// once (with `:chsk/closed` or `:chsk/error`) when the send fails, else
    /// when the reply, the timeout or a failure comes. The callback runs on
    /// a client task: keep it short.
    ///
    /// # Errors
    /// The [`SendError`] that made the callback get its error at once.
    pub fn send_with_callback(
        &self,
        event: &Event,
        timeout: Duration,
        callback: impl FnOnce(Result<Value, CallbackError>) + Send + 'static,
    ) -> Result<(), SendError> {
        let slot = ReplySlot::Callback(Box::new(callback));
        match self.shared.send_with_reply(event, timeout, slot) {
            Ok(()) => Ok(()),
            Err((e, slot)) => {
                if let ReplySlot::Callback(cb) = slot {
                    cb(Err(e.as_callback_error()));
                }
                Err(e)
            }
        }
    }

    /// The state map now.
    pub fn state(&self) -> ClientState {
        self.shared.read(|core| core.state().clone())
    }

    /// A watch that yields the state each time it changes.
    pub fn watch_state(&self) -> StateWatch {
        StateWatch {
            shared: Arc::downgrade(&self.shared),
            seen: u64::MAX,
        }
    }

    /// The transport in use now (under `:auto`, Ajax after a downgrade).
    pub fn transport(&self) -> Transport {
        self.shared.read(ClientCore::transport)
    }

    /// What the core dropped so far.
    pub fn stats(&self) -> ClientStats {
        self.shared.read(ClientCore::stats)
    }
}

impl ClientEventMsg {
    /// The client, to send events or read its state; `None` once every
    /// handle of it was dropped.
    pub fn client(&self) -> Option<ChannelSocketClient> {
        let shared = self.client.upgrade()?.downcast::<Shared>().ok()?;
        Some(ChannelSocketClient { shared })
    }
}

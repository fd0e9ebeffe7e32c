//! The async driver: a [`ClientCore`] shared by one task per WebSocket, one
//! per Ajax request and one timer task, on any [`Runtime`] and
//! [`ClientTransport`].

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant, SystemTime};

use super::config::ConfigError;
use super::core::ClientCore;
use super::event_msg::ClientEventMsg;
use super::options::ClientOptions;
use super::state::ClientState;
use super::transport::ClientTransport;
use super::types::*;
use crate::channel::Outbound;
use crate::event::Event;
use crate::packer::Packer;
use crate::runtime::Runtime;
use crate::transport::Transport;
use crate::value::Value;

/// Where a reply goes.
pub(crate) enum ReplySlot {
    /// To an awaiting [`ChannelSocketClient::send_with_reply`].
    Channel(async_channel::Sender<Result<Value, CallbackError>>),
    /// To a [`ChannelSocketClient::send_with_callback`] callback.
    Callback(Box<dyn FnOnce(Result<Value, CallbackError>) + Send>),
}

/// A callback to run once the lock is released.
pub(crate) type Deferred = (
    Box<dyn FnOnce(Result<Value, CallbackError>) + Send>,
    Result<Value, CallbackError>,
);

/// The frames queue of one WebSocket task.
#[derive(Debug)]
pub(crate) struct SocketRoute {
    pub(crate) frames: async_channel::Sender<Outbound>,
    pub(crate) kill: async_channel::Sender<()>,
}

pub(crate) struct State {
    pub(crate) core: ClientCore,
    pub(crate) sockets: HashMap<SocketId, SocketRoute>,
    /// Dropping a request's sender aborts it.
    pub(crate) requests: HashMap<RequestId, async_channel::Sender<()>>,
    pub(crate) replies: HashMap<CallbackId, ReplySlot>,
    pub(crate) armed: Option<Instant>,
    pub(crate) state_version: u64,
    /// Events not yet accepted by the application's channel, in order.
    pub(crate) outbox: VecDeque<ClientEventMsg>,
    /// A task is moving the outbox into the channel.
    pub(crate) pumping: bool,
}

pub(crate) struct Shared {
    pub(crate) runtime: Arc<dyn Runtime>,
    pub(crate) transport: Arc<dyn ClientTransport>,
    pub(crate) options: ClientOptions,
    /// The packer writes binary: Ajax bodies are read as bytes.
    pub(crate) binary: bool,
    state: Mutex<State>,
    pub(crate) events: async_channel::Sender<ClientEventMsg>,
    pub(crate) timer_wake: async_channel::Sender<()>,
    pub(crate) state_changed: event_listener::Event,
    pub(crate) outbox_drained: event_listener::Event,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelSocketClient")
            .field("options", &self.options)
            .field("transport", &self.transport)
            .finish_non_exhaustive()
    }
}

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
/// use std::sync::Arc;
/// use std::time::Duration;
/// use sente::client::{ChannelSocketClient, ClientOptions};
/// use sente::packer::EdnPacker;
/// use sente::runtimes::smol::{SmolClientTransport, SmolRuntime};
/// use sente::{Event, Value};
///
/// smol::block_on(async {
///     let opts = ClientOptions::new("http://127.0.0.1:8080/chsk").expect("a URL");
///     let (client, events) = ChannelSocketClient::new(
///         Arc::new(SmolRuntime),
///         Arc::new(EdnPacker::new()),
///         Arc::new(SmolClientTransport::new()),
///         opts,
///     )
///     .expect("valid options");
///     client.connect();
///     while let Ok(msg) = events.recv().await {
///         if msg.id().as_str() == "chsk/handshake" {
///             break;
///         }
///     }
///     let ev = Event::named("echo/echo", "hi").expect("an event");
///     let reply = client.send_with_reply(&ev, Duration::from_secs(5)).await;
///     assert_eq!(reply, Ok(Value::from("hi")));
/// });
/// ```
#[derive(Debug, Clone)]
pub struct ChannelSocketClient {
    pub(crate) shared: Arc<Shared>,
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
            let listener = shared.state_changed.listen();
            {
                let st = shared.lock();
                if st.state_version != self.seen {
                    self.seen = st.state_version;
                    return Some(st.core.state().clone());
                }
            }
            drop(shared);
            listener.await;
        }
    }
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the core half-updated
        // in a way that matters more than stopping the client; carry on.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Waits until the application's channel has taken every event so far (the
/// backpressure point of the reading tasks), or the client is gone.
pub(crate) async fn outbox_drained(shared: &Weak<Shared>) {
    loop {
        let Some(s) = shared.upgrade() else { return };
        let listener = s.outbox_drained.listen();
        if s.lock().outbox.is_empty() {
            return;
        }
        drop(s);
        listener.await;
    }
}

/// Runs callbacks collected under the lock.
pub(crate) fn run_deferred(deferred: Vec<Deferred>) {
    for (callback, result) in deferred {
        callback(result);
    }
}

impl ChannelSocketClient {
    /// Makes a client on `runtime` with `packer`, opening connections with
    /// `transport`, and the stream of its events. It does not connect:
    /// call [`connect`](Self::connect).
    ///
    /// # Errors
    /// [`ConfigError`] when `options.config` cannot work.
    pub fn new(
        runtime: Arc<dyn Runtime>,
        packer: Arc<dyn Packer>,
        transport: Arc<dyn ClientTransport>,
        options: ClientOptions,
    ) -> Result<(Self, ClientEvents), ConfigError> {
        let binary = packer.is_binary();
        let core = ClientCore::new(
            options.config.clone(),
            packer,
            runtime.now(),
            SystemTime::now(),
        )?;
        let (events, events_rx) = async_channel::bounded(options.recv_buffer.max(1));
        let (timer_wake, wake_rx) = async_channel::bounded(1);
        let shared = Arc::new(Shared {
            runtime: runtime.clone(),
            transport,
            options,
            binary,
            state: Mutex::new(State {
                core,
                sockets: HashMap::new(),
                requests: HashMap::new(),
                replies: HashMap::new(),
                armed: None,
                state_version: 0,
                outbox: VecDeque::new(),
                pumping: false,
            }),
            events,
            timer_wake,
            state_changed: event_listener::Event::new(),
            outbox_drained: event_listener::Event::new(),
        });
        runtime.spawn(Box::pin(crate::runtime::timer_loop(
            Arc::downgrade(&shared),
            wake_rx,
            |s: &Shared| crate::runtime::sleep_until_armed(&*s.runtime, s.lock().armed),
            super::outputs::fire_timers,
        )));
        Ok((Self { shared }, crate::EventStream::new(events_rx)))
    }

    /// The options the client was made with.
    pub fn options(&self) -> &ClientOptions {
        &self.shared.options
    }

    /// The client id sent on every request.
    pub fn client_id(&self) -> &str {
        &self.shared.options.config.client_id
    }

    /// Runs `f` on the core, carries out its outputs, runs the callbacks.
    fn with_core<T>(&self, f: impl FnOnce(&mut ClientCore, Instant) -> T) -> T {
        let now = self.shared.runtime.now();
        let mut st = self.shared.lock();
        let out = f(&mut st.core, now);
        let deferred = self.apply(&mut st);
        drop(st);
        run_deferred(deferred);
        out
    }

    /// Connects: a WebSocket first under [`ChskType::Auto`](super::ChskType::Auto)
    /// and [`Ws`](super::ChskType::Ws), a handshake long-poll under
    /// [`Ajax`](super::ChskType::Ajax). Calling it again starts over.
    pub fn connect(&self) {
        self.with_core(|core, now| core.connect(now));
    }

    /// Disconnects for good (no more retries): the state closes with
    /// `:requested-disconnect`, the WebSocket is closed (1000) or the poll
    /// aborted.
    pub fn disconnect(&self) {
        self.with_core(|core, now| core.disconnect(now));
    }

    /// Disconnects (`:requested-reconnect`) and connects again at once.
    pub fn reconnect(&self) {
        self.with_core(|core, now| core.reconnect(now));
    }

    /// Breaks the connection to exercise recovery: with `close_ws` the
    /// WebSocket is closed (3000) and reconnects as after any close;
    /// without, it is detached first, so the client finds out at its next
    /// ping or send. Over Ajax the poll is aborted and retried.
    pub fn break_connection(&self, close_ws: bool) {
        self.with_core(|core, now| core.break_connection(now, close_ws));
    }

    /// Sends an event, no reply wanted. Nothing is queued while the client
    /// is not open.
    ///
    /// # Errors
    /// [`SendError::Closed`] when the client is not open;
    /// [`SendError::Pack`] when the event cannot be packed.
    pub fn send(&self, event: &Event) -> Result<(), SendError> {
        self.with_core(|core, now| core.send(now, event))
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
        self.register_reply(event, timeout, ReplySlot::Channel(tx))
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
        match self.register_reply(event, timeout, slot) {
            Ok(()) => Ok(()),
            Err((e, slot)) => {
                if let ReplySlot::Callback(cb) = slot {
                    cb(Err(e.as_callback_error()));
                }
                Err(e)
            }
        }
    }

    /// Registers `slot` for the reply to `event`; on failure gives it back.
    fn register_reply(
        &self,
        event: &Event,
        timeout: Duration,
        slot: ReplySlot,
    ) -> Result<(), (SendError, ReplySlot)> {
        let now = self.shared.runtime.now();
        let mut st = self.shared.lock();
        let result = match st.core.send_with_reply(now, event, timeout) {
            Ok(id) => {
                st.replies.insert(id, slot);
                Ok(())
            }
            Err(e) => Err((e, slot)),
        };
        let deferred = self.apply(&mut st);
        drop(st);
        run_deferred(deferred);
        result
    }

    /// The state map now.
    pub fn state(&self) -> ClientState {
        self.shared.lock().core.state().clone()
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
        self.shared.lock().core.transport()
    }

    /// What the core dropped so far.
    pub fn stats(&self) -> ClientStats {
        self.shared.lock().core.stats()
    }
}

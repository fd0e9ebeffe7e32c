//! The sans-IO client state machine.

mod ajax;
mod send;
mod ws;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::backoff::XorShift64;
use super::config::{ChskType, ClientConfig, ConfigError};
use super::state::{ClientState, CloseReason, StateChange};
use super::types::*;
use crate::event::{Event, ids};
use crate::packer::Packer;
use crate::transport::Transport;
use crate::value::Value;

/// A timer's key: its deadline, then a sequence number for ties.
type TimerKey = (Instant, u64);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Timer {
    /// A backoff wait ended: try to connect again.
    Reconnect { generation: u64 },
    /// A WebSocket keep-alive tick.
    KeepAlive { generation: u64 },
    /// A WebSocket reply is overdue.
    CallbackTimeout { id: CallbackId },
    /// An Ajax request is overdue.
    AjaxTimeout { request: RequestId },
}

/// The current implementation: Sente's `ChWebSocket` or `ChAjaxSocket`.
#[derive(Debug)]
struct Conn {
    transport: Transport,
    /// Sente's conn-id: `None` after a disconnect (no more retries); timers
    /// and requests of an older generation are stale.
    generation: Option<u64>,
    /// This implementation received a handshake (Sente's `ever-opened?_`):
    /// decides `first?` in `chsk/handshake` and the `:auto` downgrade.
    ever_opened: bool,
    /// Failed attempts since the last success (WebSocket: handshake; Ajax:
    /// a poll that answered).
    retry_count: u32,
    /// A backoff wait is running.
    awaiting_retry: bool,
}

impl Conn {
    fn fresh(transport: Transport) -> Self {
        Self {
            transport,
            generation: None,
            ever_opened: false,
            retry_count: 0,
            awaiting_retry: false,
        }
    }
}

/// The client's own WebSocket (Sente's `socket_`).
#[derive(Debug)]
struct Socket {
    id: SocketId,
    /// A close was asked for (or the socket never existed): no second close.
    close_requested: bool,
}

/// Why a reply is awaited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    /// The application's `send_with_reply`.
    User,
    /// A keep-alive ping of that generation: anything but `"pong"` reconnects.
    Ping { generation: u64 },
}

/// A reply to await for a send.
#[derive(Debug, Clone, Copy)]
struct Want {
    id: CallbackId,
    purpose: Purpose,
    timeout: Duration,
}

#[derive(Debug)]
struct Pending {
    purpose: Purpose,
    /// The WebSocket callback id on the wire.
    token: Option<Arc<str>>,
    deadline: Option<TimerKey>,
}

#[derive(Debug)]
struct Post {
    callback: Option<CallbackId>,
    generation: Option<u64>,
    deadline: Option<TimerKey>,
}

#[derive(Debug)]
struct Poll {
    request: RequestId,
    deadline: Option<TimerKey>,
}

/// The client half of Sente as a state machine: no sockets, no clock, no
/// tasks. A driver feeds it what happened and carries out what it asks.
///
/// # How to drive it
/// * **Application calls**: [`connect`](Self::connect),
///   [`disconnect`](Self::disconnect), [`reconnect`](Self::reconnect),
///   [`break_connection`](Self::break_connection), [`send`](Self::send),
///   [`send_with_reply`](Self::send_with_reply), [`state`](Self::state).
/// * **Inputs** (each taking the current `Instant`):
///   [`ws_message`](Self::ws_message), [`ws_error`](Self::ws_error),
///   [`ws_closed`](Self::ws_closed), [`ws_send_failed`](Self::ws_send_failed),
///   [`ajax_poll_done`](Self::ajax_poll_done),
///   [`ajax_post_done`](Self::ajax_post_done), and
///   [`handle_timeout`](Self::handle_timeout) once the deadline from
///   [`poll_timeout`](Self::poll_timeout) has passed.
/// * **Outputs**: after any call, drain [`poll_output`](Self::poll_output)
///   and carry each [`Output`] out in order, then re-arm the timer with
///   [`poll_timeout`](Self::poll_timeout).
///
/// Wall-clock `udt` fields (ms since the Unix epoch) are derived from the
/// `(SystemTime, Instant)` pair given to [`new`](Self::new), so a run with
/// a virtual clock and a fixed [`rng_seed`](ClientConfig::rng_seed) is
/// fully reproducible.
///
/// # Bounds
/// Awaited replies are bounded by
/// [`max_pending_callbacks`](ClientConfig::max_pending_callbacks); every
/// WebSocket reply has a deadline and every Ajax request a timeout, so none
/// waits forever. Received events are outputs: the driver bounds them.
#[derive(Debug)]
pub struct ClientCore {
    config: ClientConfig,
    packer: Arc<dyn Packer>,
    base_udt: i64,
    base_instant: Instant,
    rng: XorShift64,
    state: ClientState,
    conn: Conn,
    socket: Option<Socket>,
    poll: Option<Poll>,
    posts: HashMap<RequestId, Post>,
    callbacks: HashMap<CallbackId, Pending>,
    ws_tokens: HashMap<Arc<str>, CallbackId>,
    /// Frames sent or received (Sente's `udt-last-comms`).
    comms: u64,
    /// `comms` at the previous keep-alive tick.
    comms_at_tick: u64,
    next_id: u64,
    timers: BTreeMap<TimerKey, Timer>,
    outputs: VecDeque<Output>,
    stats: ClientStats,
}

impl ClientCore {
    /// A client, not yet connected: call [`connect`](Self::connect).
    /// `now` and `wall_clock` are the same moment on the monotonic and the
    /// wall clock; every `udt` is computed from them.
    ///
    /// # Errors
    /// [`ConfigError`] when the configuration cannot work.
    pub fn new(
        config: ClientConfig,
        packer: Arc<dyn Packer>,
        now: Instant,
        wall_clock: SystemTime,
    ) -> Result<Self, ConfigError> {
        config.validate()?;
        let base_udt = wall_clock
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        let rng = config
            .rng_seed
            .map_or_else(XorShift64::from_entropy, XorShift64::new);
        let transport = match config.chsk_type {
            ChskType::Ajax => Transport::Ajax,
            ChskType::Auto | ChskType::Ws => Transport::Ws,
        };
        Ok(Self {
            state: ClientState::new(config.chsk_type),
            config,
            packer,
            base_udt,
            base_instant: now,
            rng,
            conn: Conn::fresh(transport),
            socket: None,
            poll: None,
            posts: HashMap::new(),
            callbacks: HashMap::new(),
            ws_tokens: HashMap::new(),
            comms: 0,
            comms_at_tick: 0,
            next_id: 1,
            timers: BTreeMap::new(),
            outputs: VecDeque::new(),
            stats: ClientStats::default(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The client id sent on every request.
    pub fn client_id(&self) -> &str {
        &self.config.client_id
    }

    /// The packer.
    pub fn packer(&self) -> &Arc<dyn Packer> {
        &self.packer
    }

    /// The state map.
    pub fn state(&self) -> &ClientState {
        &self.state
    }

    /// The transport in use now (under `:auto`, Ajax after a downgrade).
    pub fn transport(&self) -> Transport {
        self.conn.transport
    }

    /// Replies awaited right now (the keep-alive ping's included).
    pub fn pending_callbacks(&self) -> usize {
        self.callbacks.len()
    }

    /// What the core dropped so far.
    pub fn stats(&self) -> ClientStats {
        self.stats
    }

    /// `now` in ms since the Unix epoch, on the wall clock given to
    /// [`new`](Self::new).
    pub fn udt(&self, now: Instant) -> i64 {
        let ms = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        match now.checked_duration_since(self.base_instant) {
            Some(d) => self.base_udt.saturating_add(ms(d)),
            None => self
                .base_udt
                .saturating_sub(ms(self.base_instant.duration_since(now))),
        }
    }

    fn fresh_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Schedules `timer` after `delay`; `None` (never fires) when the
    /// deadline is beyond what `Instant` can hold.
    fn schedule(&mut self, now: Instant, delay: Duration, timer: Timer) -> Option<TimerKey> {
        let at = now.checked_add(delay)?;
        let key = (at, self.fresh_id());
        self.timers.insert(key, timer);
        Some(key)
    }

    fn cancel(&mut self, key: Option<TimerKey>) {
        if let Some(key) = key {
            self.timers.remove(&key);
        }
    }

    /// Applies `f` to the state and emits the change, if any.
    fn update_state(&mut self, f: impl FnOnce(&mut ClientState)) {
        let old = self.state.clone();
        f(&mut self.state);
        if old == self.state {
            return;
        }
        let change = StateChange::new(old, self.state.clone());
        if change.opened {
            tracing::info!(client_id = %self.config.client_id, "chsk opened");
        } else if change.closed {
            let reason = self.state.last_close.map(|c| c.reason);
            tracing::warn!(client_id = %self.config.client_id, ?reason, "chsk closed");
        }
        self.outputs
            .push_back(Output::StateChanged(Box::new(change)));
    }

    /// Sente's `chsk-state->closed`.
    fn mark_closed(&mut self, now: Instant, reason: CloseReason) {
        let udt = self.udt(now);
        self.update_state(|s| s.mark_closed(udt, reason));
    }

    /// Decides whether a connection activity fails on purpose (`bad_conn_rate`).
    fn simulate_failure(&mut self) -> bool {
        let rate = self.config.bad_conn_rate;
        let fail = if rate <= 0.0 {
            false
        } else {
            rate >= 1.0 || self.rng.next_f64() < rate
        };
        if fail {
            self.stats.simulated_failures += 1;
        }
        fail
    }

    // ---- Connection lifecycle ------------------------------------------------

    /// Connects: under `:auto` and `:ws` a WebSocket first
    /// ([`Output::ConnectWs`]), under `:ajax` a handshake long-poll
    /// ([`Output::AjaxPoll`]). The retry count starts at 0. Calling it again
    /// starts over (under `:auto` from a WebSocket).
    pub fn connect(&mut self, now: Instant) {
        if self.config.chsk_type == ChskType::Auto {
            self.drop_transport();
            self.conn = Conn::fresh(Transport::Ws);
        }
        self.start(now);
    }

    /// Disconnects for good: no more retries; the state closes with
    /// [`CloseReason::RequestedDisconnect`]; the WebSocket is closed (1000,
    /// `CLOSE_NORMAL`) and a held poll aborted. Awaited replies still end by
    /// their reply or deadline.
    pub fn disconnect(&mut self, now: Instant) {
        self.stop(now, CloseReason::RequestedDisconnect);
    }

    /// Disconnects with [`CloseReason::RequestedReconnect`] and connects at
    /// once with the retry count at 0, skipping any backoff wait. Under
    /// `:auto` the client starts over from a WebSocket (and may downgrade
    /// again).
    pub fn reconnect(&mut self, now: Instant) {
        self.stop(now, CloseReason::RequestedReconnect);
        self.connect(now);
    }

    /// Breaks the connection to exercise recovery. WebSocket: with
    /// `close_ws`, closes it (3000, `CLOSE_ABNORMAL`) and the close is
    /// retried as usual; without, detaches the socket first (its close is
    /// then ignored and the client still believes it is open, as with a
    /// half-dead connection) — the next ping or send finds out. Ajax: aborts
    /// the held poll, which fails and is retried.
    pub fn break_connection(&mut self, now: Instant, close_ws: bool) {
        match self.conn.transport {
            Transport::Ws if close_ws => self.close_socket(3000, "CLOSE_ABNORMAL"),
            Transport::Ws => {
                // Detached first, so its close is no longer ours; then closed
                // as Sente does.
                if let Some(s) = self.socket.take()
                    && !s.close_requested
                {
                    self.outputs.push_back(Output::CloseWs {
                        socket: s.id,
                        code: 3000,
                        reason: "CLOSE_ABNORMAL",
                    });
                }
            }
            Transport::Ajax => {
                if self.abort_poll() {
                    self.poll_failed(now);
                }
            }
        }
    }

    /// Sente's `-chsk-connect!` on the current implementation.
    fn start(&mut self, now: Instant) {
        let generation = self.fresh_id();
        self.conn.generation = Some(generation);
        self.conn.retry_count = 0;
        self.conn.awaiting_retry = false;
        match self.conn.transport {
            Transport::Ws => {
                self.comms_at_tick = self.comms;
                self.open_ws(now);
                // Unless the attempt already downgraded to Ajax.
                let still_ws = self.conn.generation == Some(generation)
                    && self.conn.transport == Transport::Ws;
                if let Some(tick) = self.config.keep_alive_tick().filter(|_| still_ws) {
                    self.schedule(now, tick, Timer::KeepAlive { generation });
                }
            }
            Transport::Ajax => {
                self.abort_poll();
                self.poll(now);
            }
        }
    }

    /// Sente's `-chsk-disconnect!` on the current implementation.
    fn stop(&mut self, now: Instant, reason: CloseReason) {
        self.conn.generation = None;
        self.conn.awaiting_retry = false;
        self.mark_closed(now, reason);
        self.close_socket(1000, "CLOSE_NORMAL");
        self.abort_poll();
    }

    /// Sente's `-chsk-reconnect!` on the current implementation (the ping
    /// timeout and send error paths: no `:auto` rebuild).
    fn restart(&mut self, now: Instant, reason: CloseReason) {
        self.stop(now, reason);
        self.start(now);
    }

    /// Forgets the socket and poll of an implementation being replaced.
    fn drop_transport(&mut self) {
        self.close_socket(1000, "CLOSE_NORMAL");
        self.socket = None;
        self.abort_poll();
    }

    /// Sente's `retry-fn` + `retry-connect-chsk!`: attempt 1 at once, later
    /// ones after the backoff.
    fn retry(&mut self, now: Instant) {
        let Some(generation) = self.conn.generation else {
            return;
        };
        self.conn.retry_count = self.conn.retry_count.saturating_add(1);
        let attempt = self.conn.retry_count;
        if attempt == 1 {
            tracing::debug!(attempt, "reconnecting at once");
            self.attempt(now);
            return;
        }
        let rng = &mut self.rng;
        let wait = (self.config.backoff)(attempt, &mut || rng.next_f64());
        tracing::debug!(
            attempt,
            wait_ms = wait.as_millis() as u64,
            "reconnecting after backoff"
        );
        self.conn.awaiting_retry = true;
        self.schedule(now, wait, Timer::Reconnect { generation });
        let wait_ms = i64::try_from(wait.as_millis()).unwrap_or(i64::MAX);
        let udt = self.udt(now).saturating_add(wait_ms);
        self.update_state(|s| s.udt_next_reconnect = Some(udt));
    }

    /// One connection attempt on the current implementation (Sente's
    /// `connect-fn` / `poll-fn`).
    fn attempt(&mut self, now: Instant) {
        self.conn.awaiting_retry = false;
        match self.conn.transport {
            Transport::Ws => self.open_ws(now),
            Transport::Ajax => self.poll(now),
        }
    }

    /// A handshake arrived over `transport`.
    fn receive_handshake(&mut self, transport: Transport, uid: Value, data: Value) {
        let first = !self.conn.ever_opened;
        self.conn.ever_opened = true;
        let (u, d) = (uid.clone(), data.clone());
        self.update_state(|s| {
            s.udt_next_reconnect = None;
            s.chsk_type = transport.into();
            s.open = true;
            s.ever_opened = true;
            s.uid = Some(u);
            s.handshake_data = Some(d);
        });
        let args = Value::Vector(vec![uid, Value::Nil, data, Value::Bool(first)]);
        self.outputs
            .push_back(Output::Event(Event::reserved(ids::HANDSHAKE, Some(args))));
    }

    /// Delivers an event that came from the server, wrapped in
    /// `[:chsk/recv ev]` when configured.
    fn deliver_from_server(&mut self, event: Event) {
        let event = if self.config.wrap_recv_evs {
            Event::reserved(ids::RECV, Some(event.into_value()))
        } else {
            event
        };
        self.outputs.push_back(Output::Event(event));
    }

    // ---- Time and outputs ---------------------------------------------------

    /// The next deadline: call [`handle_timeout`](Self::handle_timeout) once
    /// it has passed. `None` when nothing is scheduled.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.keys().next().map(|&(at, _)| at)
    }

    /// The next thing for the driver to do, in order; `None` when there is
    /// nothing left.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// Runs every timer due at `now`: backoff waits, keep-alive ticks, reply
    /// deadlines and Ajax timeouts. Timers these set for `now` itself run at
    /// the next call, so a zero backoff cannot spin here.
    pub fn handle_timeout(&mut self, now: Instant) {
        let boundary = self.next_id;
        let due: Vec<TimerKey> = self
            .timers
            .range(..=(now, u64::MAX))
            .map(|(k, _)| *k)
            .filter(|k| k.1 < boundary)
            .collect();
        for key in due {
            if let Some(timer) = self.timers.remove(&key) {
                self.fire(now, timer);
            }
        }
    }

    fn fire(&mut self, now: Instant, timer: Timer) {
        match timer {
            Timer::Reconnect { generation } => {
                if self.conn.generation == Some(generation) {
                    self.attempt(now);
                }
            }
            Timer::KeepAlive { generation } => self.keep_alive(now, generation),
            Timer::CallbackTimeout { id } => {
                if let Some(p) = self.callbacks.get_mut(&id) {
                    p.deadline = None;
                    self.resolve(now, id, Err(CallbackError::Timeout));
                }
            }
            Timer::AjaxTimeout { request } => self.ajax_timed_out(now, request),
        }
    }
}

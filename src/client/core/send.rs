//! Sending events and awaiting replies.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{ClientCore, Pending, Purpose, Timer, Want};
use crate::client::state::CloseReason;
use crate::client::types::{CallbackError, CallbackId, Output, SendError};
use crate::event::Event;
use crate::transport::Transport;
use crate::value::Value;
use crate::wire::{self, PONG};

/// Tries at random before probing for a free callback id.
const TOKEN_TRIES: usize = 8;

impl ClientCore {
    /// Sends an event, no reply wanted: a WebSocket frame `[event nil]`, or
    /// an Ajax POST. Nothing is queued while the client is not open.
    ///
    /// A send that fails on the way (no socket, a simulated failure) still
    /// returns `Ok`: the WebSocket client then reconnects
    /// ([`CloseReason::WsError`]), the Ajax client closes
    /// ([`CloseReason::Unexpected`]).
    ///
    /// # Errors
    /// [`SendError::Closed`] when the client is not open (Sente's
    /// `:chsk/closed`); [`SendError::Pack`] when the event cannot be packed.
    pub fn send(&mut self, now: Instant, event: &Event) -> Result<(), SendError> {
        self.dispatch(now, event, None)
    }

    /// Sends an event and awaits its reply, which comes out as
    /// [`Output::Reply`] with the returned id: the server's reply, or
    /// [`CallbackError::Timeout`] after `timeout`, or
    /// [`CallbackError::Error`] when the send fails (then also reconnecting
    /// or closing, as [`send`](Self::send) does). Over WebSocket the request
    /// carries a fresh 6-hex-digit callback id; over Ajax it is a POST with
    /// `timeout` as its request timeout.
    ///
    /// # Errors
    /// [`SendError::Closed`] when the client is not open — Sente's callback
    /// would get `:chsk/closed` at once; here no `Output::Reply` follows.
    /// [`SendError::TooManyPendingCallbacks`] at the
    /// [`max_pending_callbacks`](crate::client::ClientConfig::max_pending_callbacks)
    /// bound; [`SendError::Pack`] when the event cannot be packed.
    pub fn send_with_reply(
        &mut self,
        now: Instant,
        event: &Event,
        timeout: Duration,
    ) -> Result<CallbackId, SendError> {
        if !self.state.open {
            return Err(SendError::Closed);
        }
        let limit = self.config.max_pending_callbacks;
        if self.callbacks.len() >= limit {
            return Err(SendError::TooManyPendingCallbacks { limit });
        }
        let want = Want {
            id: CallbackId(self.fresh_id()),
            purpose: Purpose::User,
            timeout,
        };
        self.dispatch(now, event, Some(want)).map(|()| want.id)
    }

    /// Sente's `-chsk-send!`.
    pub(super) fn dispatch(
        &mut self,
        now: Instant,
        event: &Event,
        want: Option<Want>,
    ) -> Result<(), SendError> {
        if !self.state.open {
            tracing::warn!(event = %event, "send while the channel socket is closed");
            return Err(SendError::Closed);
        }
        match self.conn.transport {
            Transport::Ws => self.ws_send(now, event, want),
            Transport::Ajax => self.ajax_send(now, event, want),
        }
    }

    fn ws_send(
        &mut self,
        now: Instant,
        event: &Event,
        want: Option<Want>,
    ) -> Result<(), SendError> {
        let token = want.map(|_| self.fresh_token());
        let payload = wire::pack_client_event(&*self.packer, true, event, token.as_deref())?;
        if let Some(w) = want {
            self.register(now, w, Some(w.timeout), token);
        }
        let generation = self.conn.generation;
        let socket = self.socket.as_ref().map(|s| s.id);
        match socket {
            Some(socket) if !self.simulate_failure() => {
                self.comms += 1;
                self.outputs.push_back(Output::Transmit { socket, payload });
            }
            _ => {
                tracing::warn!(event = %event, "WebSocket send failed");
                if let Some(w) = want {
                    self.resolve(now, w.id, Err(CallbackError::Error));
                }
                // A ping's failure already reconnected (new generation).
                if generation.is_some() && self.conn.generation == generation {
                    self.restart(now, CloseReason::WsError);
                }
            }
        }
        Ok(())
    }

    /// Registers an awaited reply, with its deadline when `timeout` is given
    /// (Ajax requests have their own).
    pub(super) fn register(
        &mut self,
        now: Instant,
        want: Want,
        timeout: Option<Duration>,
        token: Option<Arc<str>>,
    ) {
        let id = want.id;
        let deadline = timeout.and_then(|t| self.schedule(now, t, Timer::CallbackTimeout { id }));
        if let Some(token) = &token {
            self.ws_tokens.insert(token.clone(), id);
        }
        self.callbacks.insert(
            id,
            Pending {
                purpose: want.purpose,
                token,
                deadline,
            },
        );
    }

    /// Ends an awaited reply: the application's comes out as
    /// [`Output::Reply`]; a keep-alive ping answered by anything but
    /// `"pong"` reconnects.
    pub(super) fn resolve(
        &mut self,
        now: Instant,
        id: CallbackId,
        result: Result<Value, CallbackError>,
    ) {
        let Some(pending) = self.callbacks.remove(&id) else {
            return;
        };
        self.cancel(pending.deadline);
        if let Some(token) = &pending.token {
            self.ws_tokens.remove(token);
        }
        match pending.purpose {
            Purpose::User => self.outputs.push_back(Output::Reply { id, result }),
            Purpose::Ping { generation } => {
                let pong = matches!(&result, Ok(Value::String(s)) if &**s == PONG);
                if !pong && self.conn.generation == Some(generation) {
                    tracing::debug!(?result, "keep-alive ping failed: reconnecting");
                    self.restart(now, CloseReason::WsPingTimeout);
                }
            }
        }
    }

    /// A WebSocket reply `[value cb]`.
    pub(super) fn ws_reply(&mut self, now: Instant, value: Value, cb: &Value) {
        let id = cb.as_str().and_then(|t| self.ws_tokens.get(t).copied());
        match id {
            Some(id) => self.resolve(now, id, CallbackError::classify(value)),
            None => {
                self.stats.replies_without_callback += 1;
                tracing::warn!(cb = %cb, "reply without an awaiting callback (timed out?)");
            }
        }
    }

    /// A 6-lowercase-hex-digit callback id (Sente's `uuid-str 6`), unique
    /// among the awaited ones.
    fn fresh_token(&mut self) -> Arc<str> {
        const SPACE: u32 = 1 << 24;
        let mut n = 0;
        for _ in 0..TOKEN_TRIES {
            n = (self.rng.next_u64() >> 40) as u32;
            if !self.ws_tokens.contains_key(format!("{n:06x}").as_str()) {
                return Arc::from(format!("{n:06x}"));
            }
        }
        // The pending set is bounded far below 2^24: a free id exists.
        loop {
            n = (n + 1) % SPACE;
            let token = format!("{n:06x}");
            if !self.ws_tokens.contains_key(token.as_str()) {
                return Arc::from(token);
            }
        }
    }
}

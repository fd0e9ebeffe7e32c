//! The WebSocket implementation (Sente's `ChWebSocket`) and the `:auto`
//! downgrade.

use std::time::Instant;

use super::{ClientCore, Conn, Purpose, Socket, Timer, Want};
use crate::client::config::ChskType;
use crate::client::state::{CloseReason, LastWsClose, LastWsError};
use crate::client::types::{CallbackId, Output, SocketId};
use crate::event::{Event, ids};
use crate::packer::PackedRef;
use crate::transport::Transport;
use crate::wire::{self, ServerMessage};

impl ClientCore {
    /// Sente's ws `connect-fn`: a new socket replaces (and closes) the old one.
    pub(super) fn open_ws(&mut self, now: Instant) {
        if self.conn.generation.is_none() {
            return;
        }
        self.close_socket(1000, "CLOSE_NORMAL");
        let id = SocketId(self.fresh_id());
        if self.simulate_failure() {
            // As the network would fail it: an error, then an unclean close.
            self.socket = Some(Socket {
                id,
                close_requested: true,
            });
            self.ws_error(now, id);
            self.ws_closed(now, id, 1006, "", false);
            return;
        }
        self.socket = Some(Socket {
            id,
            close_requested: false,
        });
        self.outputs.push_back(Output::ConnectWs { socket: id });
    }

    /// Asks for the own socket to be closed, once.
    pub(super) fn close_socket(&mut self, code: u16, reason: &'static str) {
        if let Some(s) = self.socket.as_mut()
            && !s.close_requested
        {
            s.close_requested = true;
            self.outputs.push_back(Output::CloseWs {
                socket: s.id,
                code,
                reason,
            });
        }
    }

    fn own_socket(&self, socket: SocketId) -> bool {
        self.socket.as_ref().is_some_and(|s| s.id == socket)
    }

    /// A frame arrived on a WebSocket. Frames of any socket but the
    /// client's current one are ignored.
    ///
    /// A handshake opens the client and resets the retry count; a server
    /// ping is answered with `[[:chsk/ws-pong] nil]` and delivered as
    /// `[:chsk/ws-ping]`; a reply goes to its awaited request (or is counted
    /// in [`stats`](Self::stats) when none awaits it); a batch delivers each
    /// of its events. A frame that does not unpack is counted and dropped.
    pub fn ws_message(&mut self, now: Instant, socket: SocketId, payload: PackedRef<'_>) {
        if !self.own_socket(socket) || self.conn.generation.is_none() {
            return;
        }
        self.comms += 1;
        let msg = match wire::read_server_message(&*self.packer, true, payload) {
            Ok(msg) => msg,
            Err(e) => {
                self.stats.bad_messages += 1;
                tracing::warn!(error = %e, "bad message from the server");
                return;
            }
        };
        match msg {
            ServerMessage::Handshake { uid, data } => {
                self.receive_handshake(Transport::Ws, uid, data);
                self.conn.retry_count = 0;
            }
            ServerMessage::Ping => {
                let pong = Event::reserved(ids::WS_PONG, None);
                // As in Sente, the pong goes out only while open.
                let _ = self.dispatch(now, &pong, None);
                self.deliver_from_server(Event::reserved(ids::WS_PING, None));
            }
            ServerMessage::Reply { value, cb } => self.ws_reply(now, value, &cb),
            ServerMessage::Push(events) => {
                for ev in events {
                    self.deliver_from_server(ev);
                }
            }
            ServerMessage::Timeout => {
                self.stats.bad_messages += 1;
                tracing::warn!("unexpected :chsk/timeout without a callback id over WebSocket");
            }
        }
    }

    /// The client's WebSocket reported an error. Recorded as
    /// `last_ws_error`; under `:auto`, an error before the WebSocket's first
    /// handshake switches to Ajax for good (until a
    /// [`reconnect`](Self::reconnect)).
    pub fn ws_error(&mut self, now: Instant, socket: SocketId) {
        if !self.own_socket(socket) {
            return;
        }
        let udt = self.udt(now);
        self.update_state(|s| s.last_ws_error = Some(LastWsError { udt }));
        let downgrade = self.config.chsk_type == ChskType::Auto
            && self.conn.transport == Transport::Ws
            && self.conn.generation.is_some()
            && !self.conn.ever_opened;
        if downgrade {
            tracing::warn!("WebSocket failed before its handshake: downgrading to Ajax");
            self.stop(now, CloseReason::DowngradingWsToAjax);
            self.socket = None;
            self.conn = Conn::fresh(Transport::Ajax);
            self.start(now);
        }
    }

    /// The client's WebSocket closed (`clean`: the close handshake
    /// completed). The state closes ([`CloseReason::Clean`] or
    /// [`CloseReason::Unexpected`]) and, unless the client was disconnected,
    /// a retry follows: the first at once, the next ones after the backoff.
    pub fn ws_closed(
        &mut self,
        now: Instant,
        socket: SocketId,
        code: u16,
        reason: &str,
        clean: bool,
    ) {
        if !self.own_socket(socket) {
            return;
        }
        self.socket = None;
        let udt = self.udt(now);
        let why = if clean {
            CloseReason::Clean
        } else {
            CloseReason::Unexpected
        };
        self.update_state(|s| {
            s.mark_closed(udt, why);
            s.last_ws_close = Some(LastWsClose {
                udt,
                code,
                reason: reason.to_owned(),
                clean,
            });
        });
        self.retry(now);
    }

    /// A frame could not be written to the client's WebSocket: the client
    /// reconnects ([`CloseReason::WsError`]). Replies awaited from it end by
    /// their deadline.
    pub fn ws_send_failed(&mut self, now: Instant, socket: SocketId) {
        if self.own_socket(socket) && self.conn.generation.is_some() {
            self.restart(now, CloseReason::WsError);
        }
    }

    /// A keep-alive tick: with no frame sent or received since the previous
    /// tick, ping (`[[:chsk/ws-ping] "<cb>"]`, reply deadline
    /// `ws_ping_timeout`). While closed the ping cannot go out, so the
    /// client reconnects at once ([`CloseReason::WsPingTimeout`]), as
    /// Sente's does; while a backoff wait runs, the tick does nothing.
    pub(super) fn keep_alive(&mut self, now: Instant, generation: u64) {
        let Some(tick) = self.config.keep_alive_tick() else {
            return;
        };
        if self.conn.generation != Some(generation) || self.conn.transport != Transport::Ws {
            return;
        }
        if self.comms == self.comms_at_tick && !self.conn.awaiting_retry {
            if self.state.open {
                tracing::trace!("idle: keep-alive ping");
                let ping = Event::reserved(ids::WS_PING, None);
                let want = Want {
                    id: CallbackId(self.fresh_id()),
                    purpose: Purpose::Ping { generation },
                    timeout: self.config.ws_ping_timeout,
                };
                let _ = self.dispatch(now, &ping, Some(want));
            } else {
                tracing::debug!("keep-alive tick while not open: reconnecting");
                self.restart(now, CloseReason::WsPingTimeout);
            }
        }
        if self.conn.generation == Some(generation) {
            self.comms_at_tick = self.comms;
            self.schedule(now, tick, Timer::KeepAlive { generation });
        }
    }
}

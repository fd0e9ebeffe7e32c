//! The client's state map (Sente's `@state`) and its change events.

use std::fmt;

use super::config::ChskType;
use crate::event::{Event, ids};
use crate::value::Value;

/// Why the connection last closed (`:last-close :reason`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum CloseReason {
    /// The WebSocket closed cleanly (by either side, `[:chsk/close]` included).
    Clean,
    /// The WebSocket closed uncleanly, or an Ajax request failed.
    Unexpected,
    /// [`disconnect`](super::ClientCore::disconnect) was called.
    RequestedDisconnect,
    /// [`reconnect`](super::ClientCore::reconnect) was called.
    RequestedReconnect,
    /// The WebSocket failed before its first handshake: switching to Ajax.
    DowngradingWsToAjax,
    /// A keep-alive ping got no `"pong"` in time.
    WsPingTimeout,
    /// A frame could not be sent on the WebSocket.
    WsError,
}

impl CloseReason {
    /// The keyword's name in Sente: `"clean"`, `"requested-disconnect"`, …
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Clean => "clean",
            Self::Unexpected => "unexpected",
            Self::RequestedDisconnect => "requested-disconnect",
            Self::RequestedReconnect => "requested-reconnect",
            Self::DowngradingWsToAjax => "downgrading-ws-to-ajax",
            Self::WsPingTimeout => "ws-ping-timeout",
            Self::WsError => "ws-error",
        }
    }
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The last WebSocket error of the client's own socket (`:last-ws-error`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct LastWsError {
    /// When, in ms since the Unix epoch.
    pub udt: i64,
}

/// The last close of the client's own WebSocket (`:last-ws-close`).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct LastWsClose {
    /// When, in ms since the Unix epoch.
    pub udt: i64,
    /// The close code (1006 when the connection was lost).
    pub code: u16,
    /// The close reason text.
    pub reason: String,
    /// Whether the close handshake completed (`wasClean`).
    pub clean: bool,
}

/// The last time the connection went from open to closed (`:last-close`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct LastClose {
    /// When, in ms since the Unix epoch.
    pub udt: i64,
    /// Why.
    pub reason: CloseReason,
}

/// The client's state (Sente's state map, without `:csrf-token`, which the
/// transport layer owns).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ClientState {
    /// The requested type until the first handshake, then the transport
    /// that handshook ([`ChskType::Ws`] or [`ChskType::Ajax`]).
    pub chsk_type: ChskType,
    /// True from a handshake until the connection closes. A WebSocket that
    /// is connected but has not received its handshake is not open.
    pub open: bool,
    /// True from the first handshake on; never reset.
    pub ever_opened: bool,
    /// The user id from the latest handshake (`None` before any).
    pub uid: Option<Value>,
    /// The handshake data from the latest handshake (`None` before any).
    pub handshake_data: Option<Value>,
    /// The last error of the client's own WebSocket.
    pub last_ws_error: Option<LastWsError>,
    /// The last close of the client's own WebSocket.
    pub last_ws_close: Option<LastWsClose>,
    /// The last open → closed transition.
    pub last_close: Option<LastClose>,
    /// When the reconnect waiting for its backoff is due, in ms since the
    /// Unix epoch (only while such a wait runs: attempt 2 on).
    pub udt_next_reconnect: Option<i64>,
}

impl ClientState {
    pub(super) fn new(chsk_type: ChskType) -> Self {
        Self {
            chsk_type,
            open: false,
            ever_opened: false,
            uid: None,
            handshake_data: None,
            last_ws_error: None,
            last_ws_close: None,
            last_close: None,
            udt_next_reconnect: None,
        }
    }

    /// Sente's `chsk-state->closed`: not open, no pending reconnect time,
    /// and `last_close` when it was open.
    pub(super) fn mark_closed(&mut self, udt: i64, reason: CloseReason) {
        self.udt_next_reconnect = None;
        if self.open {
            self.last_close = Some(LastClose { udt, reason });
        }
        self.open = false;
    }

    /// The state as Sente's map: `{:type :ws, :open? true, :ever-opened?
    /// true, :uid "alice", :handshake-data nil, …}`; absent keys are left out.
    pub fn to_value(&self) -> Value {
        let kw = Value::keyword;
        let mut entries = vec![
            (kw("type"), kw(self.chsk_type.as_str())),
            (kw("open?"), Value::Bool(self.open)),
            (kw("ever-opened?"), Value::Bool(self.ever_opened)),
        ];
        if let Some(uid) = &self.uid {
            entries.push((kw("uid"), uid.clone()));
        }
        if let Some(data) = &self.handshake_data {
            entries.push((kw("handshake-data"), data.clone()));
        }
        if let Some(e) = &self.last_ws_error {
            entries.push((
                kw("last-ws-error"),
                Value::map([(kw("udt"), Value::from(e.udt))]),
            ));
        }
        if let Some(c) = &self.last_ws_close {
            entries.push((
                kw("last-ws-close"),
                Value::map([
                    (kw("udt"), Value::from(c.udt)),
                    (kw("code"), Value::from(c.code)),
                    (kw("reason"), Value::from(c.reason.as_str())),
                    (kw("clean?"), Value::Bool(c.clean)),
                ]),
            ));
        }
        if let Some(c) = &self.last_close {
            entries.push((
                kw("last-close"),
                Value::map([
                    (kw("udt"), Value::from(c.udt)),
                    (kw("reason"), kw(c.reason.as_str())),
                ]),
            ));
        }
        if let Some(udt) = self.udt_next_reconnect {
            entries.push((kw("udt-next-reconnect"), Value::from(udt)));
        }
        Value::map(entries)
    }
}

/// One change of the state: Sente's `[:chsk/state [old new open-changed?]]`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct StateChange {
    /// The state before.
    pub old: ClientState,
    /// The state after.
    pub new: ClientState,
    /// `open` flipped.
    pub open_changed: bool,
    /// `open` went from false to true.
    pub opened: bool,
    /// `open` went from true to false.
    pub closed: bool,
    /// This is the client's first open ever (`ever_opened` was false).
    pub first_open: bool,
}

impl StateChange {
    pub(super) fn new(old: ClientState, new: ClientState) -> Self {
        let opened = new.open && !old.open;
        let closed = old.open && !new.open;
        Self {
            first_open: opened && !old.ever_opened,
            open_changed: opened || closed,
            opened,
            closed,
            old,
            new,
        }
    }

    /// The event Sente delivers: `[:chsk/state [old new open-changed?]]`,
    /// where `new` also carries the transient keys `:open-changed?`,
    /// `:opened?`, `:closed?` and `:first-open?` when they are true.
    pub fn to_event(&self) -> Event {
        let mut new = self.new.to_value();
        if let Value::Map(m) = &mut new {
            for (key, on) in [
                ("open-changed?", self.open_changed),
                ("opened?", self.opened),
                ("closed?", self.closed),
                ("first-open?", self.first_open),
            ] {
                if on {
                    m.insert(Value::keyword(key), Value::Bool(true));
                }
            }
        }
        Event::reserved(
            ids::STATE,
            Some(Value::Vector(vec![
                self.old.to_value(),
                new,
                Value::Bool(self.open_changed),
            ])),
        )
    }
}

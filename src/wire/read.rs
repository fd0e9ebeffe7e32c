//! Reading the messages of both sides, leniently (every Sente era from 1.17 on).

use super::WireError;
use crate::codec::PackedRef;
use crate::event::{Event, ids};
use crate::packer::Packer;
use crate::value::Value;

/// A message from a client, as the server reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientMessage {
    /// The event. A value that is not a valid event arrives as
    /// `[:chsk/bad-event <original>]` (Sente's `as-event`).
    pub event: Event,
    /// The callback id (WebSocket) or marker (Ajax), when the client wants a
    /// reply. `nil` and `false` count as no callback.
    pub cb: Option<Value>,
}

impl ClientMessage {
    /// True when the client asked for a reply.
    pub fn wants_reply(&self) -> bool {
        self.cb.is_some()
    }

    /// True for a client keep-alive ping `[:chsk/ws-ping]`.
    pub fn is_ping(&self) -> bool {
        self.event.is(ids::WS_PING)
    }

    /// True for a client's answer to a server ping `[:chsk/ws-pong]`.
    pub fn is_pong(&self) -> bool {
        self.event.is(ids::WS_PONG)
    }
}

/// A message from the server, as a client reads it.
#[derive(Debug, Clone, PartialEq)]
pub enum ServerMessage {
    /// `[:chsk/handshake [uid nil data]]`: the connection is open.
    Handshake {
        /// The user id the server assigned (a string, or `:sente/nil-uid`).
        uid: Value,
        /// The server's handshake data (`nil` when none).
        data: Value,
    },
    /// `:chsk/ws-ping`: the server's keep-alive ping; answer with a pong.
    Ping,
    /// A reply to the request whose callback id is `cb`.
    Reply {
        /// The reply.
        value: Value,
        /// The callback id the request carried.
        cb: Value,
    },
    /// A batch of pushed events. Invalid ones, and ones in the reserved
    /// `chsk` namespace, arrive as `[:chsk/bad-event x]`.
    Push(Vec<Event>),
    /// `:chsk/timeout`: a long-poll ended without a push; poll again.
    Timeout,
}

/// Reads a client's message: `[event cb]`, `[event]`, or a legacy
/// `+`/`-`-prefixed text payload.
///
/// # Errors
/// [`WireError::Unpack`] when the packer fails; [`WireError::BadEnvelope`]
/// when the value is not a 1- or 2-element vector. An invalid event is *not*
/// an error: it becomes `[:chsk/bad-event x]`.
pub fn read_client_message(
    p: &dyn Packer,
    websocket: bool,
    packed: PackedRef<'_>,
) -> Result<ClientMessage, WireError> {
    let (payload, cb) = unpack_envelope(p, websocket, packed)?;
    let event = Event::as_event_lenient(payload, !p.keeps_keywords());
    Ok(ClientMessage {
        event,
        cb: cb.filter(Value::is_truthy),
    })
}

/// Reads a server's message the way Sente's WebSocket client classifies it:
/// handshake, then ping, then reply (a callback id is present), then
/// long-poll timeout, else a batch of pushed events.
///
/// # Errors
/// [`WireError::Unpack`] when the packer fails; [`WireError::BadEnvelope`]
/// for a value that fits none of the shapes (a push that is not a vector, a
/// handshake without `[uid nil data]`).
pub fn read_server_message(
    p: &dyn Packer,
    websocket: bool,
    packed: PackedRef<'_>,
) -> Result<ServerMessage, WireError> {
    let lenient = !p.keeps_keywords();
    let (payload, cb) = unpack_envelope(p, websocket, packed)?;
    if let Value::Vector(items) = &payload
        && items
            .first()
            .is_some_and(|id| is_kw(id, ids::HANDSHAKE, lenient))
    {
        return read_handshake(&payload);
    }
    if is_kw(&payload, ids::WS_PING, lenient) {
        return Ok(ServerMessage::Ping);
    }
    if let Some(cb) = cb.filter(Value::is_truthy) {
        return Ok(ServerMessage::Reply { value: payload, cb });
    }
    if is_kw(&payload, ids::TIMEOUT, lenient) {
        return Ok(ServerMessage::Timeout);
    }
    match payload {
        Value::Vector(events) => Ok(ServerMessage::Push(
            events
                .into_iter()
                .map(|ev| {
                    let ev = Event::as_event_lenient(ev, lenient);
                    if ev.id().is_reserved() && !ev.is(ids::BAD_EVENT) {
                        // Servers must not push reserved events; Sente's client asserts.
                        Event::reserved(ids::BAD_EVENT, Some(ev.into_value()))
                    } else {
                        ev
                    }
                })
                .collect(),
        )),
        value => Err(WireError::BadEnvelope {
            detail: "a push must be a vector of events",
            value,
        }),
    }
}

/// Reads the body of an Ajax POST response: `[reply _]`. The reply may be
/// `:chsk/dummy-cb-200` (no reply was asked) or `:chsk/timeout`.
///
/// # Errors
/// [`WireError::Unpack`] when the packer fails, [`WireError::BadEnvelope`]
/// when the body is not a wrapper (an empty body included: Sente's client
/// treats it as `:chsk/error`).
pub fn read_ajax_reply(p: &dyn Packer, packed: PackedRef<'_>) -> Result<Value, WireError> {
    let (reply, _) = unpack_envelope(p, false, packed)?;
    if !p.keeps_keywords()
        && let Value::String(s) = &reply
    {
        for id in [ids::DUMMY_CB_200, ids::TIMEOUT, ids::CLOSED, ids::ERROR] {
            if &**s == id {
                return Ok(Value::keyword(id));
            }
        }
    }
    Ok(reply)
}

fn read_handshake(payload: &Value) -> Result<ServerMessage, WireError> {
    let bad = || WireError::BadEnvelope {
        detail: "a handshake must be [:chsk/handshake [uid nil data]]",
        value: payload.clone(),
    };
    let items = payload.as_seq().ok_or_else(bad)?;
    let args = items.get(1).and_then(Value::as_seq).ok_or_else(bad)?;
    if items.len() != 2 || !(1..=4).contains(&args.len()) {
        return Err(bad());
    }
    Ok(ServerMessage::Handshake {
        uid: args[0].clone(),
        data: args.get(2).cloned().unwrap_or_default(),
    })
}

/// True for the keyword `name`, or (for packers that turn keywords into
/// strings) the string `name`.
fn is_kw(v: &Value, name: &str, lenient: bool) -> bool {
    match v {
        Value::Keyword(k) => k.as_str() == name,
        Value::String(s) => lenient && &**s == name,
        _ => false,
    }
}

/// Unpacks `[payload cb]`, `[payload]`, or a legacy prefixed payload:
/// `+<wrapper>` or `-<payload without cb>` (Sente ≤ 1.17).
fn unpack_envelope(
    p: &dyn Packer,
    websocket: bool,
    packed: PackedRef<'_>,
) -> Result<(Value, Option<Value>), WireError> {
    if let PackedRef::Text(s) = packed {
        if let Some(rest) = s.strip_prefix('-') {
            return Ok((p.unpack(websocket, PackedRef::Text(rest))?, None));
        }
        if let Some(rest) = s.strip_prefix('+') {
            return split_wrapper(p.unpack(websocket, PackedRef::Text(rest))?);
        }
    }
    split_wrapper(p.unpack(websocket, packed)?)
}

fn split_wrapper(value: Value) -> Result<(Value, Option<Value>), WireError> {
    match value {
        Value::Vector(items) if (1..=2).contains(&items.len()) => {
            let mut it = items.into_iter();
            let payload = it.next().unwrap_or_default();
            let cb = it.next().filter(|cb| !cb.is_nil());
            Ok((payload, cb))
        }
        value => Err(WireError::BadEnvelope {
            detail: "expected a vector of 1 or 2 elements",
            value,
        }),
    }
}

//! Packing the messages of both sides, exactly as Sente 1.21 writes them.

use super::{AJAX_CB_MARKER, PONG};
use crate::codec::{PackError, Packed};
use crate::event::{Event, ids};
use crate::packer::Packer;
use crate::value::Value;

fn envelope(
    p: &dyn Packer,
    websocket: bool,
    payload: &Value,
    cb: &Value,
) -> Result<Packed, PackError> {
    p.pack_pair(websocket, payload, cb)
}

/// `[[:chsk/handshake [uid nil handshake-data]] nil]`: the first message of
/// every connection. `uid` is a string, or the keyword [`super::NIL_UID`].
///
/// # Errors
/// [`PackError`] when the packer cannot represent `uid` or `handshake_data`.
pub fn pack_handshake(
    p: &dyn Packer,
    websocket: bool,
    uid: &Value,
    handshake_data: &Value,
) -> Result<Packed, PackError> {
    let hs = Event::reserved(
        ids::HANDSHAKE,
        Some(Value::Vector(vec![
            uid.clone(),
            Value::Nil,
            handshake_data.clone(),
        ])),
    );
    envelope(p, websocket, &hs.into_value(), &Value::Nil)
}

/// `[[ev1 ev2 …] nil]`: a batch of pushed events.
///
/// # Errors
/// [`PackError`] when the packer cannot represent an event's data.
pub fn pack_push_batch<'a>(
    p: &dyn Packer,
    websocket: bool,
    events: impl IntoIterator<Item = &'a Event>,
) -> Result<Packed, PackError> {
    let batch = Value::Vector(events.into_iter().map(Event::to_value).collect());
    envelope(p, websocket, &batch, &Value::Nil)
}

/// `[:chsk/ws-ping nil]`: the server's keep-alive ping.
///
/// # Errors
/// [`PackError`] only from a broken packer.
pub fn pack_server_ping(p: &dyn Packer) -> Result<Packed, PackError> {
    envelope(p, true, &Value::keyword(ids::WS_PING), &Value::Nil)
}

/// `["pong" cb]`: the server's answer to a client keep-alive ping.
///
/// # Errors
/// [`PackError`] when the packer cannot represent `cb`.
pub fn pack_pong(p: &dyn Packer, cb: &Value) -> Result<Packed, PackError> {
    envelope(p, true, &Value::from(PONG), cb)
}

/// `[reply cb]`: a reply over WebSocket, correlated by the client's cb id.
///
/// # Errors
/// [`PackError`] when the packer cannot represent `reply`.
pub fn pack_ws_reply(p: &dyn Packer, reply: &Value, cb: &Value) -> Result<Packed, PackError> {
    envelope(p, true, reply, cb)
}

/// `[reply nil]`: a reply as the body of an Ajax POST response.
///
/// # Errors
/// [`PackError`] when the packer cannot represent `reply`.
pub fn pack_ajax_reply(p: &dyn Packer, reply: &Value) -> Result<Packed, PackError> {
    envelope(p, false, reply, &Value::Nil)
}

/// `[:chsk/timeout nil]`: a long-poll that saw no push, or an Ajax POST whose
/// handler did not reply in time.
///
/// # Errors
/// [`PackError`] only from a broken packer.
pub fn pack_lp_timeout(p: &dyn Packer) -> Result<Packed, PackError> {
    envelope(p, false, &Value::keyword(ids::TIMEOUT), &Value::Nil)
}

/// `[:chsk/dummy-cb-200 nil]`: the immediate answer to an Ajax POST that
/// asked for no reply.
///
/// # Errors
/// [`PackError`] only from a broken packer.
pub fn pack_dummy_reply(p: &dyn Packer) -> Result<Packed, PackError> {
    envelope(p, false, &Value::keyword(ids::DUMMY_CB_200), &Value::Nil)
}

/// A client event: `[ev cb]` over WebSocket (`cb` is the id to correlate
/// the reply, `nil` for none), `[ev :ajax]` or `[ev nil]` in an Ajax POST.
///
/// # Errors
/// [`PackError`] when the packer cannot represent the event's data.
pub fn pack_client_event(
    p: &dyn Packer,
    websocket: bool,
    event: &Event,
    cb: Option<&str>,
) -> Result<Packed, PackError> {
    let cb = match (cb, websocket) {
        (None, _) => Value::Nil,
        (Some(id), true) => Value::from(id),
        (Some(_), false) => Value::keyword(AJAX_CB_MARKER),
    };
    envelope(p, websocket, &event.to_value(), &cb)
}

/// `[[:chsk/ws-ping] cb]`: the client's keep-alive ping.
///
/// # Errors
/// [`PackError`] only from a broken packer.
pub fn pack_client_ping(p: &dyn Packer, cb: &str) -> Result<Packed, PackError> {
    let ping = Event::reserved(ids::WS_PING, None);
    envelope(p, true, &ping.into_value(), &Value::from(cb))
}

/// `[[:chsk/ws-pong] nil]`: the client's answer to a server ping.
///
/// # Errors
/// [`PackError`] only from a broken packer.
pub fn pack_client_pong(p: &dyn Packer) -> Result<Packed, PackError> {
    let pong = Event::reserved(ids::WS_PONG, None);
    envelope(p, true, &pong.into_value(), &Value::Nil)
}

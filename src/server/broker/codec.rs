//! A push as bytes between nodes: one EDN map, whatever the clients'
//! packer (`{:to …, :ev [id data], :flush? b}`), read back with the EDN
//! reader's bounds (a broker's bytes are read as carefully as a client's).

use super::{ClusterPush, PushTarget};
use crate::edn;
use crate::event::Event;
use crate::value::Value;

/// Why bytes from the broker are not a push.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CodecError {
    /// The event's data has no EDN form (cannot happen for events that
    /// reached a client's packer; reported rather than assumed).
    #[error("the push does not pack as EDN: {0}")]
    Pack(#[from] crate::packer::PackError),
    /// Not EDN.
    #[error("the push is not EDN: {0}")]
    Unpack(#[from] crate::packer::UnpackError),
    /// EDN, but not a push.
    #[error("not a push: {0}")]
    Shape(&'static str),
}

fn key(name: &str) -> Value {
    Value::keyword(name)
}

/// The push as EDN text.
///
/// # Errors
/// [`CodecError::Pack`] when the event has no EDN form.
pub fn encode_push(push: &ClusterPush) -> Result<String, CodecError> {
    Ok(encode_push_with_event(push)?.0)
}

/// Where the event's own text starts in an encoded push (`{:ev ` first).
pub(crate) const EVENT_START: usize = 5;

/// [`encode_push`], and the length of the event's own EDN text, which
/// starts at [`EVENT_START`] (an Ajax mailbox keeps the event alone).
pub(crate) fn encode_push_with_event(push: &ClusterPush) -> Result<(String, usize), CodecError> {
    let to = match &push.target {
        PushTarget::Uid(uid) => Value::vector(vec![key("uid"), uid.clone()]),
        PushTarget::Uids(uids) => Value::vector(vec![key("uids"), Value::vector(uids.clone())]),
        PushTarget::All => Value::vector(vec![key("all")]),
        PushTarget::Client { uid, client_id } => Value::vector(vec![
            key("client"),
            uid.clone(),
            Value::from(client_id.as_str()),
        ]),
    };
    let event = edn::to_string(&push.event.to_value())?;
    let text = format!(
        "{{:ev {event} :flush? {} :to {}}}",
        push.flush,
        edn::to_string(&to)?
    );
    debug_assert_eq!(&text[EVENT_START..EVENT_START + event.len()], event);
    Ok((text, event.len()))
}

/// An event as an Ajax mailbox keeps it: its EDN text.
///
/// # Errors
/// [`CodecError::Pack`] when the event has no EDN form.
pub(crate) fn encode_event(event: &Event) -> Result<String, CodecError> {
    Ok(edn::to_string(&event.to_value())?)
}

/// Reads an event written by [`encode_event`] (with the EDN reader's bounds).
///
/// # Errors
/// [`CodecError`] when it is not an event's EDN.
pub(crate) fn decode_event(text: &str) -> Result<Event, CodecError> {
    let value = edn::from_str(text)?;
    Event::from_value(value).map_err(|_| CodecError::Shape("an invalid event"))
}

/// Reads a push written by [`encode_push`].
///
/// # Errors
/// [`CodecError`] for anything else.
pub fn decode_push(text: &str) -> Result<ClusterPush, CodecError> {
    let map = edn::from_str(text)?;
    let to = map
        .get(&key("to"))
        .and_then(Value::as_seq)
        .ok_or(CodecError::Shape("no :to"))?;
    let kind = to
        .first()
        .and_then(Value::as_keyword)
        .map(|k| k.to_string());
    let target = match (kind.as_deref(), to.len()) {
        (Some(":uid"), 2) => PushTarget::Uid(to[1].clone()),
        (Some(":uids"), 2) => PushTarget::Uids(
            to[1]
                .as_seq()
                .ok_or(CodecError::Shape(":uids without a vector"))?
                .to_vec(),
        ),
        (Some(":all"), 1) => PushTarget::All,
        (Some(":client"), 3) => PushTarget::Client {
            uid: to[1].clone(),
            client_id: to[2]
                .as_str()
                .ok_or(CodecError::Shape(":client without a client id"))?
                .to_owned(),
        },
        _ => return Err(CodecError::Shape("an unknown :to")),
    };
    let event = map
        .get(&key("ev"))
        .cloned()
        .ok_or(CodecError::Shape("no :ev"))
        .and_then(|v| Event::from_value(v).map_err(|_| CodecError::Shape("an invalid :ev")))?;
    let flush = matches!(map.get(&key("flush?")), Some(Value::Bool(true)));
    Ok(ClusterPush {
        target,
        event: std::sync::Arc::new(event),
        flush,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_target_round_trips() {
        let event = Event::named("a/b", Value::vector(vec![Value::from(1), Value::Nil])).unwrap();
        for target in [
            PushTarget::Uid(Value::from("ann")),
            PushTarget::Uids(vec![Value::from("ann"), Value::keyword("sente/nil-uid")]),
            PushTarget::All,
            PushTarget::Client {
                uid: Value::from(7),
                client_id: "tab-1".into(),
            },
        ] {
            let push = ClusterPush {
                target,
                event: std::sync::Arc::new(event.clone()),
                flush: true,
            };
            let text = encode_push(&push).unwrap();
            assert_eq!(decode_push(&text).unwrap(), push, "{text}");
        }
    }

    #[test]
    fn the_close_command_travels() {
        let push = decode_push(r#"{:to [:uid "ann"], :ev [:chsk/close]}"#).unwrap();
        assert!(push.event.is(crate::event::ids::CLOSE));
        assert!(!push.event.has_data_element());
        assert_eq!(decode_push(&encode_push(&push).unwrap()).unwrap(), push);
    }

    #[test]
    fn anything_else_is_an_error_not_a_panic() {
        for text in [
            "",
            "[",
            "{}",
            "{:to [:uid]}",
            "{:to [:what 1], :ev [:a/b]}",
            "{:to [:all], :ev [1 2 3]}",
            "{:to [:client 1 2], :ev [:a/b]}",
            &"[".repeat(100_000),
        ] {
            assert!(decode_push(text).is_err(), "{text:.40}");
        }
    }
}

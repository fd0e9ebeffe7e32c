//! Events: `[id data]`, validated with Sente's rules.
//!
//! An event is a vector of one or two elements whose first element is a
//! keyword *with a namespace* (`[:my-app/hello {:x 1}]`, `[:chsk/ws-ping]`).
//! [`validate_event`] says why a value is not an event, in the same four
//! cases Sente distinguishes; [`Event::as_event`] turns anything into an
//! event, wrapping what is not one as `[:chsk/bad-event x]`.

use std::fmt;

use crate::value::{Keyword, Value};

/// The reserved event ids and reply values of the `chsk` namespace.
pub mod ids {
    /// `[:chsk/handshake [uid nil handshake-data first?]]`: the connection is open (client side).
    pub const HANDSHAKE: &str = "chsk/handshake";
    /// `[:chsk/state [old new open-changed?]]`: the client's state changed.
    pub const STATE: &str = "chsk/state";
    /// `[:chsk/recv ev]`: a pushed event, when the client wraps received events.
    pub const RECV: &str = "chsk/recv";
    /// `[:chsk/ws-ping]`: a keep-alive ping (server: from a client; client: from the server).
    pub const WS_PING: &str = "chsk/ws-ping";
    /// `[:chsk/ws-pong]`: a client's answer to a server ping.
    pub const WS_PONG: &str = "chsk/ws-pong";
    /// `[:chsk/uidport-open uid]`: a user id got its first connection.
    pub const UIDPORT_OPEN: &str = "chsk/uidport-open";
    /// `[:chsk/uidport-close uid]`: a user id lost its last connection (after the grace period).
    pub const UIDPORT_CLOSE: &str = "chsk/uidport-close";
    /// Server side only, when enabled (`ServerConfig::client_events`): a
    /// client id connected for the first time.
    pub const CLIENT_OPEN: &str = "chsk/client-open";
    /// Server side only, when enabled: a client id is gone for good.
    pub const CLIENT_CLOSE: &str = "chsk/client-close";
    /// `[:chsk/bad-package raw]`: a payload that could not be unpacked.
    pub const BAD_PACKAGE: &str = "chsk/bad-package";
    /// `[:chsk/bad-event x]`: a value that is not a valid event.
    pub const BAD_EVENT: &str = "chsk/bad-event";
    /// Reply value: the channel was closed, nothing was sent.
    pub const CLOSED: &str = "chsk/closed";
    /// Reply value (and long-poll answer): no reply came in time.
    pub const TIMEOUT: &str = "chsk/timeout";
    /// Reply value: the send failed.
    pub const ERROR: &str = "chsk/error";
    /// Reply value the server sends at once to an Ajax POST that asked for no reply.
    pub const DUMMY_CB_200: &str = "chsk/dummy-cb-200";
    /// Pushed by the server to close every connection of a user (Sente's undocumented command).
    pub const CLOSE: &str = "chsk/close";
}

/// An event id: a keyword with a namespace, such as `:my-app/hello`.
///
/// Clones are cheap.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventId(Keyword);

impl EventId {
    /// Makes an id from `"ns/name"` (no leading colon).
    ///
    /// # Errors
    /// [`EventError::UnnamespacedId`] when the text has no namespace.
    pub fn new(text: &str) -> Result<Self, EventError> {
        Self::from_keyword(Keyword::new(text.strip_prefix(':').unwrap_or(text)))
    }

    /// Makes an id from a keyword.
    ///
    /// # Errors
    /// [`EventError::UnnamespacedId`] when the keyword has no namespace.
    pub fn from_keyword(k: Keyword) -> Result<Self, EventError> {
        if k.namespace().is_some() {
            Ok(Self(k))
        } else {
            Err(EventError::UnnamespacedId {
                id: Value::Keyword(k),
            })
        }
    }

    /// Makes an id from a literal `"ns/name"` (a leading `:` is allowed),
    /// with no `Result` to unwrap, as `http::HeaderValue::from_static`
    /// does: for ids written in the program. Use [`new`](Self::new) for
    /// text that comes from elsewhere (the network, a user).
    ///
    /// ```
    /// use sente::EventId;
    /// assert_eq!(EventId::from_static("app/hello").as_str(), "app/hello");
    /// ```
    ///
    /// # Panics
    /// When `text` has no namespace: a mistake in the program's literal.
    #[track_caller]
    pub fn from_static(text: &'static str) -> Self {
        match Self::new(text) {
            Ok(id) => id,
            Err(_) => panic!("event id {text:?} has no namespace: write \"ns/name\""),
        }
    }

    /// A reserved id from [`ids`]; these are namespaced by construction.
    pub(crate) fn reserved(text: &'static str) -> Self {
        Self(Keyword::new(text))
    }

    /// The full text without the colon: `"ns/name"`.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The keyword.
    pub fn keyword(&self) -> &Keyword {
        &self.0
    }

    /// The namespace, e.g. `"chsk"`.
    pub fn namespace(&self) -> &str {
        self.0.namespace().unwrap_or_default()
    }

    /// True for ids in Sente's reserved `chsk` namespace.
    pub fn is_reserved(&self) -> bool {
        self.namespace() == "chsk"
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl TryFrom<&str> for EventId {
    type Error = EventError;
    fn try_from(s: &str) -> Result<Self, EventError> {
        Self::new(s)
    }
}

impl From<EventId> for Value {
    fn from(id: EventId) -> Self {
        Value::Keyword(id.0)
    }
}

/// An event `[id]` or `[id data]`.
///
/// The one-element form is kept distinct from `[id nil]` so that what was
/// received is sent back byte for byte.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Event {
    id: EventId,
    data: Option<Value>,
}

impl Event {
    /// `[id data]`.
    pub fn new(id: EventId, data: impl Into<Value>) -> Self {
        Self {
            id,
            data: Some(data.into()),
        }
    }

    /// `[id]`, with no data element.
    pub fn without_data(id: EventId) -> Self {
        Self { id, data: None }
    }

    /// `[id data]` from the id's text.
    ///
    /// # Errors
    /// [`EventError::UnnamespacedId`] when `id` has no namespace.
    pub fn named(id: &str, data: impl Into<Value>) -> Result<Self, EventError> {
        Ok(Self::new(EventId::new(id)?, data))
    }

    /// `[id data]` from a literal id (`"app/hello"`), with no `Result` to
    /// unwrap: for ids written in the program, as
    /// [`EventId::from_static`]. Use [`named`](Self::named) for an id that
    /// comes from elsewhere, and [`from_data`](Self::from_data) for typed
    /// data.
    ///
    /// ```
    /// use sente::Event;
    /// let ev = Event::from_static("app/hello", "ann");
    /// assert_eq!(ev.to_string(), r#"[:app/hello "ann"]"#);
    /// ```
    ///
    /// # Panics
    /// When `id` has no namespace: a mistake in the program's literal.
    #[track_caller]
    pub fn from_static(id: &'static str, data: impl Into<Value>) -> Self {
        Self::new(EventId::from_static(id), data)
    }

    /// A reserved `chsk/…` event.
    pub(crate) fn reserved(id: &'static str, data: Option<Value>) -> Self {
        Self {
            id: EventId::reserved(id),
            data,
        }
    }

    /// The id.
    pub fn id(&self) -> &EventId {
        &self.id
    }

    /// The data, `nil` when the event has none.
    pub fn data(&self) -> &Value {
        const NIL: &Value = &Value::Nil;
        self.data.as_ref().unwrap_or(NIL)
    }

    /// True for the one-element form `[id]`.
    pub fn has_data_element(&self) -> bool {
        self.data.is_some()
    }

    /// True when the id is `ns/name` (`"chsk/ws-ping"`).
    pub fn is(&self, id: &str) -> bool {
        self.id.as_str() == id
    }

    /// Splits the event into its id and data (`nil` when absent).
    pub fn into_parts(self) -> (EventId, Value) {
        (self.id, self.data.unwrap_or_default())
    }

    /// The event as a vector value `[id]` or `[id data]`.
    pub fn to_value(&self) -> Value {
        self.clone().into_value()
    }

    /// The event as a vector value, without cloning.
    pub fn into_value(self) -> Value {
        let mut v = Vec::with_capacity(2);
        v.push(Value::from(self.id));
        if let Some(d) = self.data {
            v.push(d);
        }
        Value::Vector(v)
    }

    /// Validates `value` as an event.
    ///
    /// # Errors
    /// The [`EventError`] that [`validate_event`] reports.
    pub fn from_value(value: Value) -> Result<Self, EventError> {
        Self::from_value_lenient(value, false)
    }

    /// Like [`Event::from_value`], and when `string_ids` is true also accepts
    /// a string `"ns/name"` as the id (for packers such as JSON that carry
    /// keywords as strings).
    ///
    /// # Errors
    /// The [`EventError`] that [`validate_event`] reports.
    pub fn from_value_lenient(value: Value, string_ids: bool) -> Result<Self, EventError> {
        let items = match value {
            Value::Vector(items) => items,
            other => return Err(EventError::WrongType { value: other }),
        };
        if !(1..=2).contains(&items.len()) {
            return Err(EventError::WrongLength {
                value: Value::Vector(items),
            });
        }
        let mut it = items.into_iter();
        let id = it.next().unwrap_or_default();
        let data = it.next();
        let id = match id {
            Value::Keyword(k) => EventId::from_keyword(k),
            Value::String(s) if string_ids => EventId::new(&s),
            other => Err(EventError::WrongIdType { id: other }),
        };
        match id {
            Ok(id) => Ok(Self { id, data }),
            Err(mut e) => {
                // Report the whole original value, as Sente does.
                e.restore_event(data);
                Err(e)
            }
        }
    }

    /// Sente's `as-event`: the value as an event if it is one, otherwise
    /// `[:chsk/bad-event value]`.
    pub fn as_event(value: Value) -> Self {
        Self::as_event_lenient(value, false)
    }

    /// [`Event::as_event`] accepting string ids when `string_ids` is true.
    pub fn as_event_lenient(value: Value, string_ids: bool) -> Self {
        match Self::from_value_lenient(value, string_ids) {
            Ok(ev) => ev,
            Err(e) => Self::reserved(ids::BAD_EVENT, Some(e.into_value())),
        }
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.to_value(), f)
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.to_value(), f)
    }
}

impl From<Event> for Value {
    fn from(e: Event) -> Self {
        e.into_value()
    }
}

impl TryFrom<Value> for Event {
    type Error = EventError;
    fn try_from(v: Value) -> Result<Self, EventError> {
        Self::from_value(v)
    }
}

/// Why a value is not an event: Sente's four cases. Each carries the
/// offending value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    /// Not a vector.
    #[error("invalid event: expected a vector, got a {} ({value})", value.type_name())]
    WrongType {
        /// The whole value.
        value: Value,
    },
    /// A vector whose length is not 1 or 2.
    #[error("invalid event: expected 1 or 2 elements ({value})")]
    WrongLength {
        /// The whole value.
        value: Value,
    },
    /// The first element is not a keyword.
    #[error("invalid event: the id must be a keyword, got a {} ({id})", id.type_name())]
    WrongIdType {
        /// The id.
        id: Value,
    },
    /// The id keyword has no namespace.
    #[error("invalid event: the id must be a namespaced keyword ({id})")]
    UnnamespacedId {
        /// The id.
        id: Value,
    },
}

impl EventError {
    /// Sente's error map, e.g.
    /// `{:unnamespaced-id {:expected :namespaced-keyword, :actual {:type "keyword", :value :foo}}}`.
    pub fn to_sente_map(&self) -> Value {
        let (key, expected, actual) = match self {
            Self::WrongType { value } => ("wrong-type", Value::keyword("vector"), value),
            Self::WrongLength { value } => (
                "wrong-length",
                Value::set([Value::Int(1), Value::Int(2)]),
                value,
            ),
            Self::WrongIdType { id } => ("wrong-id-type", Value::keyword("keyword"), id),
            Self::UnnamespacedId { id } => {
                ("unnamespaced-id", Value::keyword("namespaced-keyword"), id)
            }
        };
        let actual = Value::map([
            (Value::keyword("type"), Value::from(actual.type_name())),
            (Value::keyword("value"), actual.clone()),
        ]);
        Value::map([(
            Value::keyword(key),
            Value::map([
                (Value::keyword("expected"), expected),
                (Value::keyword("actual"), actual),
            ]),
        )])
    }

    /// The original value that failed validation (the whole event where
    /// Sente reports the whole event, the id otherwise).
    pub fn into_value(self) -> Value {
        match self {
            Self::WrongType { value } | Self::WrongLength { value } => value,
            Self::WrongIdType { id } | Self::UnnamespacedId { id } => id,
        }
    }

    /// After an id check failed, rebuild the whole event so that
    /// [`EventError::into_value`] gives back what was received.
    fn restore_event(&mut self, data: Option<Value>) {
        if let Self::WrongIdType { id } | Self::UnnamespacedId { id } = self {
            let mut v = vec![id.clone()];
            v.extend(data);
            *id = Value::Vector(v);
        }
    }
}

/// Sente's `validate-event`: `Ok(())` for an event, else why not.
///
/// # Errors
/// The [`EventError`] case that applies.
pub fn validate_event(value: &Value) -> Result<(), EventError> {
    match value {
        Value::Vector(items) if (1..=2).contains(&items.len()) => match &items[0] {
            Value::Keyword(k) if k.namespace().is_some() => Ok(()),
            Value::Keyword(_) => Err(EventError::UnnamespacedId {
                id: items[0].clone(),
            }),
            other => Err(EventError::WrongIdType { id: other.clone() }),
        },
        Value::Vector(_) => Err(EventError::WrongLength {
            value: value.clone(),
        }),
        other => Err(EventError::WrongType {
            value: other.clone(),
        }),
    }
}

/// Sente's `event?`.
pub fn is_event(value: &Value) -> bool {
    validate_event(value).is_ok()
}

/// Sente's `cb-error?`: true for the reply values `:chsk/closed`,
/// `:chsk/timeout` and `:chsk/error`.
pub fn is_cb_error(reply: &Value) -> bool {
    [ids::CLOSED, ids::TIMEOUT, ids::ERROR]
        .iter()
        .any(|id| reply.is_keyword(id))
}

/// Sente's `cb-success?`: the negation of [`is_cb_error`].
pub fn is_cb_success(reply: &Value) -> bool {
    !is_cb_error(reply)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edn;

    fn v(text: &str) -> Value {
        edn::from_str(text).unwrap()
    }

    #[test]
    fn validates_like_sente() {
        assert!(is_event(&v("[:a/b]")));
        assert!(is_event(&v("[:a/b {:x 1}]")));
        assert!(matches!(
            validate_event(&v("{:a 1}")),
            Err(EventError::WrongType { .. })
        ));
        assert!(matches!(
            validate_event(&v("[]")),
            Err(EventError::WrongLength { .. })
        ));
        assert!(matches!(
            validate_event(&v("[:a/b 1 2]")),
            Err(EventError::WrongLength { .. })
        ));
        assert!(matches!(
            validate_event(&v("[\"a/b\"]")),
            Err(EventError::WrongIdType { .. })
        ));
        assert!(matches!(
            validate_event(&v("[:ab]")),
            Err(EventError::UnnamespacedId { .. })
        ));
        assert!(!is_event(&v("([:a/b])")));
    }

    #[test]
    fn as_event_wraps_bad_events_with_the_original() {
        assert_eq!(Event::as_event(v("[:a/b 1]")).to_value(), v("[:a/b 1]"));
        assert_eq!(
            Event::as_event(v("[:ab 1]")).to_value(),
            v("[:chsk/bad-event [:ab 1]]")
        );
        assert_eq!(
            Event::as_event(v("42")).to_value(),
            v("[:chsk/bad-event 42]")
        );
        assert_eq!(
            Event::as_event(v("[1 2 3]")).to_value(),
            v("[:chsk/bad-event [1 2 3]]")
        );
    }

    #[test]
    fn one_element_form_survives() {
        let ev = Event::from_value(v("[:chsk/ws-ping]")).unwrap();
        assert!(!ev.has_data_element());
        assert_eq!(ev.data(), &Value::Nil);
        assert_eq!(ev.to_string(), "[:chsk/ws-ping]");
        assert_eq!(
            Event::named("a/b", Value::Nil).unwrap().to_string(),
            "[:a/b nil]"
        );
    }

    #[test]
    fn string_ids_only_when_lenient() {
        assert!(Event::from_value(v("[\"a/b\" 1]")).is_err());
        let ev = Event::from_value_lenient(v("[\"a/b\" 1]"), true).unwrap();
        assert_eq!(ev.to_string(), "[:a/b 1]");
        assert!(Event::from_value_lenient(v("[\"ab\" 1]"), true).is_err());
    }

    #[test]
    fn sente_error_maps() {
        let e = validate_event(&v("[:foo]")).unwrap_err();
        assert_eq!(
            e.to_sente_map().to_string(),
            "{:unnamespaced-id {:expected :namespaced-keyword, :actual {:type \"keyword\", :value :foo}}}"
        );
        let e = validate_event(&v("[1 2 3]")).unwrap_err();
        assert!(
            e.to_sente_map()
                .to_string()
                .starts_with("{:wrong-length {:expected #{1 2}")
        );
        assert!(e.to_string().contains("1 or 2"));
    }

    #[test]
    fn cb_helpers() {
        assert!(is_cb_error(&Value::keyword("chsk/timeout")));
        assert!(is_cb_error(&Value::keyword("chsk/closed")));
        assert!(is_cb_error(&Value::keyword("chsk/error")));
        assert!(is_cb_success(&Value::keyword("ok")));
        assert!(is_cb_success(&Value::from("pong")));
        assert!(EventId::new("ab").is_err());
        assert!(EventId::new(":chsk/state").unwrap().is_reserved());
    }
}

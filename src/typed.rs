//! Typed event data: events built from serde types, their data read back
//! as serde types ([`DataError`] has the overview).

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::codec::PackError;
use crate::event::{Event, EventError, EventId};
use crate::value::{ValueError, from_value_ref, to_value};

/// Why typed data could not become an event, be read from one, or be sent
/// as a reply.
///
/// Typed event data: events built from any `T: Serialize`
/// ([`Event::from_data`]), and their data read back as any
/// `T: Deserialize` ([`Event::data_as`]), through the serde bridge of
/// [`Value`](crate::Value) (so it works with every packer).
///
/// Rust field names and unit enum variants become EDN keywords (`:text`,
/// `:ok`); see [`crate::value`] for the whole mapping. A failure names the
/// event and the path inside its data that did not fit:
/// `event :chat/say: invalid type: integer 1, expected a string at [:text]`.
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use sente::Event;
///
/// #[derive(Serialize, Deserialize, Debug, PartialEq)]
/// struct Say {
///     room: String,
///     text: String,
/// }
///
/// # fn main() -> Result<(), sente::DataError> {
/// let say = Say { room: "lobby".into(), text: "hi".into() };
/// let event = Event::from_data("chat/say", &say)?;
/// assert_eq!(event.to_string(), r#"[:chat/say {:room "lobby", :text "hi"}]"#);
/// assert_eq!(event.data_as::<Say>()?, say);
///
/// let wrong = Event::named("chat/say", sente::Value::from(1)).expect("a namespaced id");
/// let err = wrong.data_as::<Say>().unwrap_err();
/// assert!(err.to_string().starts_with("event :chat/say: invalid type"));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DataError {
    /// The event id is not a namespaced keyword text (`"chat/say"`).
    #[error(transparent)]
    Id(#[from] EventError),
    /// The data did not convert: the event's id, and the error with the
    /// path inside the data that failed.
    #[error("event {event}: {source}")]
    Data {
        /// The event's id, as EDN (`:chat/say`).
        event: String,
        /// What failed, and where.
        #[source]
        source: ValueError,
    },
    /// The reply converted but the packer cannot pack it.
    #[error("event {event}: the reply does not pack: {source}")]
    Pack {
        /// The id of the event replied to, as EDN.
        event: String,
        /// The packer's error.
        #[source]
        source: PackError,
    },
}

impl DataError {
    pub(crate) fn data(id: &EventId, source: ValueError) -> Self {
        Self::Data {
            event: format!(":{}", id.as_str()),
            source,
        }
    }

    /// The path inside the data where the conversion failed (empty at the
    /// top, or for an error that is not about the data).
    pub fn path(&self) -> &[crate::value::PathSegment] {
        match self {
            Self::Data { source, .. } => source.path(),
            _ => &[],
        }
    }
}

impl Event {
    /// `[id data]` with `data` converted from any serializable value.
    ///
    /// # Errors
    /// [`DataError::Id`] when `id` has no namespace;
    /// [`DataError::Data`] when `data` does not convert (a map key that is
    /// not a string, number or keyword-like; nesting past the depth limit).
    pub fn from_data<T: Serialize + ?Sized>(id: &str, data: &T) -> Result<Self, DataError> {
        let id = EventId::new(id)?;
        let value = to_value(data).map_err(|e| DataError::data(&id, e))?;
        Ok(Self::new(id, value))
    }

    /// The event's data read as `T` (`nil` when the event has none).
    ///
    /// # Errors
    /// [`DataError::Data`] naming the event and the path inside its data
    /// that does not fit `T`.
    pub fn data_as<T: DeserializeOwned>(&self) -> Result<T, DataError> {
        from_value_ref(self.data()).map_err(|e| DataError::data(self.id(), e))
    }
}

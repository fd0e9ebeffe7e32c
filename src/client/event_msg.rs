//! What the application receives from the async client: Sente's client
//! event-msg.

use std::any::Any;
use std::sync::Weak;

use super::state::StateChange;
use crate::event::{Event, EventId};
use crate::value::Value;

/// An event for the application, with the client it came from.
///
/// | Sente key | here |
/// |---|---|
/// | `:event`, `:id`, `:?data` | [`event`](Self::event), [`id`](Self::id), [`data`](Self::data) |
/// | `:send-fn`, `:state` | [`client`](Self::client) ([`send`](super::ChannelSocketClient::send), [`state`](super::ChannelSocketClient::state)) |
///
/// A message does not keep its client alive (so events left unread in a
/// dropped [`ClientEvents`](super::ClientEvents) cannot keep a connection
/// running): [`client`](Self::client) is `None` once every
/// [`ChannelSocketClient`](super::ChannelSocketClient) handle is gone.
///
/// The events are those of Sente's `ch-recv`:
/// `[:chsk/handshake [uid nil data first?]]`,
/// `[:chsk/state [old new open-changed?]]` (also typed:
/// [`state_change`](Self::state_change)), the server's pushes (wrapped as
/// `[:chsk/recv ev]` with [`wrap_recv_evs`](super::ClientConfig::wrap_recv_evs)),
/// and `[:chsk/ws-ping]`.
#[derive(Debug)]
pub struct ClientEventMsg {
    pub(crate) event: Event,
    pub(crate) change: Option<Box<StateChange>>,
    /// The driver's state, type-erased so that this file needs nothing of
    /// the driver; the driver gives [`client`](Self::client) back.
    pub(crate) client: Weak<dyn Any + Send + Sync>,
}

impl ClientEventMsg {
    /// The event.
    pub fn event(&self) -> &Event {
        &self.event
    }

    /// The event's id.
    pub fn id(&self) -> &EventId {
        self.event.id()
    }

    /// The event's data (`nil` when none).
    pub fn data(&self) -> &Value {
        self.event.data()
    }

    /// The event's data read as `T` (see [`Event::data_as`]).
    ///
    /// # Errors
    /// [`DataError::Data`](crate::DataError::Data) naming the event and the
    /// path inside its data that does not fit `T`.
    pub fn data_as<T: serde::de::DeserializeOwned>(&self) -> Result<T, crate::DataError> {
        self.event.data_as()
    }

    /// For `chsk/state` events, the change as a typed value.
    pub fn state_change(&self) -> Option<&StateChange> {
        self.change.as_deref()
    }

    /// The event, taken out.
    pub fn into_event(self) -> Event {
        self.event
    }
}

//! What the application's handler receives: Sente's server event-msg.

use std::sync::{Arc, Weak};

use super::driver::ChannelSocketServer;
use super::request::ChskRequest;
use super::shared::Shared;
use super::types::{ReplyTo, Transport};
use crate::event::{Event, EventId};
use crate::packer::PackError;
use crate::value::Value;

/// An event from a client, with everything needed to answer it.
///
/// | Sente key | here |
/// |---|---|
/// | `:event`, `:id`, `:?data` | [`event`](Self::event), [`id`](Self::id), [`data`](Self::data) |
/// | `:uid`, `:client-id` | [`uid`](Self::uid), [`client_id`](Self::client_id) |
/// | `:ring-req` | [`request`](Self::request) |
/// | `:?reply-fn` | [`reply`](Self::reply), present only when the client asked ([`wants_reply`](Self::wants_reply)) |
/// | `:send-fn`, `:connected-uids` | [`server`](Self::server) |
#[derive(Debug)]
pub struct ServerEventMsg {
    pub(crate) event: Event,
    pub(crate) uid: Value,
    pub(crate) client_id: Arc<str>,
    pub(crate) transport: Transport,
    pub(crate) request: Option<Arc<ChskRequest>>,
    pub(crate) reply_to: Option<ReplyTo>,
    /// Weak: events left unread in the stream must not keep the server
    /// (its state, its timer task) alive after the application dropped it.
    pub(crate) server: Weak<Shared>,
}

impl ServerEventMsg {
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

    /// The sender's user id (`:sente/nil-uid` for anonymous connections).
    pub fn uid(&self) -> &Value {
        &self.uid
    }

    /// The sender's client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The transport the event came over.
    pub fn transport(&self) -> Transport {
        self.transport
    }

    /// The request: the WebSocket's upgrade request or the Ajax POST. `None`
    /// for `chsk/uidport-close`, which fires after the connection is gone.
    pub fn request(&self) -> Option<&ChskRequest> {
        self.request.as_deref()
    }

    /// True when the client asked for a reply.
    pub fn wants_reply(&self) -> bool {
        self.reply_to.is_some()
    }

    /// Replies to the event. Over Ajax only the first reply counts; without a
    /// reply within `lp_timeout` the client gets `:chsk/timeout`.
    ///
    /// Returns `Ok(false)` when no reply was asked for, the connection is
    /// gone, or the server is.
    ///
    /// # Errors
    /// [`PackError`] when the packer cannot represent `value`.
    pub fn reply(&self, value: impl Into<Value>) -> Result<bool, PackError> {
        match (&self.reply_to, self.server()) {
            (Some(to), Some(server)) => server.reply(to, &value.into()),
            _ => Ok(false),
        }
    }

    /// The event's data read as `T` (see [`Event::data_as`]).
    ///
    /// # Errors
    /// [`DataError::Data`](crate::DataError::Data) naming the event and the
    /// path inside its data that does not fit `T`.
    pub fn data_as<T: serde::de::DeserializeOwned>(&self) -> Result<T, crate::DataError> {
        self.event.data_as()
    }

    /// Replies with any serializable value (see [`reply`](Self::reply)).
    ///
    /// Returns `Ok(false)` when no reply was asked for, the connection is
    /// gone, or the server is.
    ///
    /// # Errors
    /// [`DataError::Data`](crate::DataError::Data) when `data` does not
    /// convert; [`DataError::Pack`](crate::DataError::Pack) when the packer
    /// cannot pack it.
    pub fn reply_with<T: serde::Serialize + ?Sized>(
        &self,
        data: &T,
    ) -> Result<bool, crate::DataError> {
        let id = self.event.id();
        let value = crate::to_value(data).map_err(|e| crate::DataError::data(id, e))?;
        self.reply(value).map_err(|source| crate::DataError::Pack {
            event: format!(":{}", id.as_str()),
            source,
        })
    }

    /// The server, to push to users ([`ChannelSocketServer::send`]) or read
    /// [`connected_uids`](ChannelSocketServer::connected_uids); `None` once
    /// the server is gone (every handle dropped, or shut down and its
    /// connections ended). The event holds only a weak reference: events
    /// left unread do not keep a dropped server alive.
    pub fn server(&self) -> Option<ChannelSocketServer> {
        self.server
            .upgrade()
            .map(|shared| ChannelSocketServer { shared })
    }
}

//! What every part of the driver reads without the lock: fixed when the
//! client is made, plus the channels and notifications that reach the
//! application and the timer task.

use std::sync::Arc;

use crate::client::event_msg::ClientEventMsg;
use crate::client::options::ClientOptions;
use crate::client::transport::ClientTransport;
use crate::runtime::Runtime;

pub(super) struct Context {
    pub(super) runtime: Arc<dyn Runtime>,
    pub(super) transport: Arc<dyn ClientTransport>,
    pub(super) options: ClientOptions,
    /// The packer writes binary: Ajax bodies are read as bytes.
    pub(super) binary: bool,
    /// The application's events (Sente's `ch-recv`).
    pub(super) events: async_channel::Sender<ClientEventMsg>,
    /// Wakes the timer task when the deadline moved earlier.
    pub(super) timer_wake: async_channel::Sender<()>,
    /// Notified on every state change, for [`StateWatch`](super::StateWatch).
    pub(super) state_changed: event_listener::Event,
    /// Notified when the application took every event so far.
    pub(super) outbox_drained: event_listener::Event,
}

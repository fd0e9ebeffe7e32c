//! The two transports of a channel socket, shared by the server and the
//! client (re-exported as [`server::Transport`](crate::server::Transport) and
//! [`client::Transport`](crate::client::Transport)).

/// The two transports of a channel socket.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Transport {
    /// A WebSocket connection.
    Ws,
    /// Ajax: long-poll GETs for pushes, POSTs for events.
    Ajax,
}

impl Transport {
    /// `"ws"` or `"ajax"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ws => "ws",
            Self::Ajax => "ajax",
        }
    }
}

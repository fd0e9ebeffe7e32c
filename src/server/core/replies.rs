//! Replies to the events that asked for one, over either transport.

use std::sync::Arc;

use super::*;

impl ServerCore {
    /// Replies to an event. Over WebSocket the reply goes at once as
    /// `[reply cb]` (and may be sent more than once, as in Sente); over Ajax it
    /// is the POST's body, at most once.
    ///
    /// Returns whether the reply was handed to a live channel.
    ///
    /// # Errors
    /// [`PackError`] when the packer cannot represent the reply.
    pub fn reply(&mut self, to: &ReplyTo, value: &Value) -> Result<bool, PackError> {
        // Nothing to pack for a reply nobody waits for.
        let live = match to {
            ReplyTo::Ws { conn, .. } => self.ws_conns.contains_key(conn),
            ReplyTo::Ajax { post } => self.posts.contains_key(post),
        };
        if !live {
            return Ok(false);
        }
        let packed = pack_reply(&*self.packer, to, value)?;
        Ok(self.reply_packed(to, Arc::new(packed)))
    }

    /// [`reply`](Self::reply) with the reply already packed by
    /// [`pack_reply`] (the driver packs outside any lock it holds around
    /// the core). Returns whether it was handed to a live channel.
    pub fn reply_packed(&mut self, to: &ReplyTo, packed: Arc<Packed>) -> bool {
        match to {
            ReplyTo::Ws { conn, .. } => {
                if !self.ws_conns.contains_key(conn) {
                    return false;
                }
                self.outputs.push_back(Output::Transmit {
                    conn: *conn,
                    payload: packed,
                });
                true
            }
            ReplyTo::Ajax { post } => {
                let Some(key) = self.posts.remove(post) else {
                    return false;
                };
                self.cancel(Some(key));
                self.outputs.push_back(Output::RespondPost {
                    post: *post,
                    payload: packed,
                });
                true
            }
        }
    }
}

/// Packs a reply as it goes to its channel: `[reply cb]` over WebSocket,
/// `[reply nil]` as an Ajax POST's body.
///
/// # Errors
/// [`PackError`] when the packer cannot represent `value`.
pub fn pack_reply(packer: &dyn Packer, to: &ReplyTo, value: &Value) -> Result<Packed, PackError> {
    match to {
        ReplyTo::Ws { cb, .. } => wire::pack_ws_reply(packer, value, cb),
        ReplyTo::Ajax { .. } => wire::pack_ajax_reply(packer, value),
    }
}

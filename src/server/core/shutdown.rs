//! The graceful shutdown: draining, closing everything.

use std::sync::Arc;
use std::time::Instant;

use super::*;

impl ServerCore {
    /// The first step of a graceful shutdown: flushes every buffered push
    /// and answers every held long-poll (with its batch, or
    /// `[:chsk/timeout nil]`: the client polls again, on another node).
    pub fn drain(&mut self, now: Instant) {
        self.flush_all(now);
        let held: Vec<(Value, Arc<str>, ConnId)> = self
            .ajax_clients
            .iter()
            .flat_map(|(uid, m)| {
                m.iter()
                    .filter_map(|(cid, c)| c.channel.map(|conn| (uid.clone(), cid.clone(), conn)))
            })
            .collect();
        let Ok(timeout) = wire::pack_lp_timeout(&*self.packer).map(Arc::new) else {
            return;
        };
        for (uid, cid, conn) in held {
            self.outputs.push_back(Output::RespondPoll {
                conn,
                payload: timeout.clone(),
            });
            self.detach(now, Transport::Ajax, &uid, &cid, conn);
        }
    }

    /// The last step of a graceful shutdown: closes every WebSocket (after
    /// what is queued for it) with [`CloseReason::ShuttingDown`], and answers
    /// every Ajax POST still waiting for its reply with `[:chsk/timeout nil]`.
    pub fn close_all(&mut self) {
        let conns: Vec<ConnId> = self.ws_conns.keys().copied().collect();
        for conn in conns {
            self.outputs.push_back(Output::Close {
                conn,
                reason: CloseReason::ShuttingDown,
            });
        }
        let posts: Vec<(ConnId, TimerKey)> = self.posts.drain().collect();
        for (_, key) in &posts {
            self.timers.remove(key);
        }
        if let Ok(timeout) = wire::pack_lp_timeout(&*self.packer).map(Arc::new) {
            for (post, _) in posts {
                self.outputs.push_back(Output::RespondPost {
                    post,
                    payload: timeout.clone(),
                });
            }
        }
    }

    /// How many Ajax POSTs wait for their reply.
    pub fn posts_awaiting_reply(&self) -> usize {
        self.posts.len()
    }
}

//! The Ajax implementation (Sente's `ChAjaxSocket`): the long-poll loop and
//! one POST per event.

use std::time::Instant;

use super::{ClientCore, Poll, Post, Timer, Want};
use crate::client::state::CloseReason;
use crate::client::types::{AjaxError, CallbackError, Output, RequestId, SendError};
use crate::event::{Event, ids};
use crate::packer::PackedRef;
use crate::transport::Transport;
use crate::wire::{self, AJAX_CB_MARKER, ServerMessage, WireError};

impl ClientCore {
    /// Sente's `poll-fn`: issues the next long-poll of the own connection.
    pub(super) fn poll(&mut self, now: Instant) {
        if self.conn.generation.is_none() {
            return;
        }
        if self.simulate_failure() {
            self.poll_failed(now);
            return;
        }
        let request = RequestId(self.fresh_id());
        let timeout = self.config.ajax_timeout;
        let deadline = self.schedule(now, timeout, Timer::AjaxTimeout { request });
        self.poll = Some(Poll { request, deadline });
        self.outputs.push_back(Output::AjaxPoll {
            request,
            handshake: !self.state.open,
            udt: self.udt(now),
            timeout,
        });
    }

    /// Aborts the held poll, if any; true when there was one.
    pub(super) fn abort_poll(&mut self) -> bool {
        let Some(poll) = self.poll.take() else {
            return false;
        };
        self.cancel(poll.deadline);
        self.outputs.push_back(Output::AbortAjax {
            request: poll.request,
        });
        true
    }

    /// Sente's Ajax `retry-fn`: closed (unexpected), then a retry.
    pub(super) fn poll_failed(&mut self, now: Instant) {
        if self.conn.generation.is_none() {
            return;
        }
        self.mark_closed(now, CloseReason::Unexpected);
        self.retry(now);
    }

    /// A long-poll ended. Results of any request but the current poll are
    /// ignored.
    ///
    /// * `Err(AjaxError::Timeout)`: poll again at once; the state is unchanged.
    /// * any other error, or a body that does not unpack: closed
    ///   ([`CloseReason::Unexpected`]) and a retry — at once the first time,
    ///   then after the backoff.
    /// * a body: a handshake is handled (`chsk/handshake`), the client is
    ///   open, the next poll goes out at once, and the events of a push
    ///   batch are delivered.
    pub fn ajax_poll_done(
        &mut self,
        now: Instant,
        request: RequestId,
        result: Result<PackedRef<'_>, AjaxError>,
    ) {
        match &self.poll {
            Some(p) if p.request == request => {}
            _ => return,
        }
        if let Some(poll) = self.poll.take() {
            self.cancel(poll.deadline);
        }
        self.poll_result(now, result);
    }

    fn poll_result(&mut self, now: Instant, result: Result<PackedRef<'_>, AjaxError>) {
        let body = match result {
            Ok(body) => body,
            Err(AjaxError::Timeout) => {
                self.conn.retry_count = 0;
                self.poll(now);
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, "Ajax long-poll failed");
                self.poll_failed(now);
                return;
            }
        };
        let msg = match wire::read_server_message(&*self.packer, false, body) {
            Ok(msg) => Some(msg),
            Err(WireError::BadEnvelope { .. } | WireError::BadEvent(_)) => None,
            Err(e) => {
                self.stats.bad_messages += 1;
                tracing::warn!(error = %e, "Ajax long-poll body does not unpack");
                self.poll_failed(now);
                return;
            }
        };
        if let Some(ServerMessage::Handshake { uid, data }) = &msg {
            self.receive_handshake(Transport::Ajax, uid.clone(), data.clone());
        }
        self.update_state(|s| s.open = true);
        self.conn.retry_count = 0;
        self.poll(now);
        match msg {
            Some(ServerMessage::Push(events)) => {
                for ev in events {
                    self.deliver_from_server(ev);
                }
            }
            Some(ServerMessage::Handshake { .. } | ServerMessage::Timeout) => {}
            Some(ServerMessage::Ping | ServerMessage::Reply { .. }) | None => {
                self.stats.bad_messages += 1;
                tracing::warn!("Ajax long-poll body is not a batch of events");
            }
        }
    }

    /// One POST per event (no batching), `[event :ajax]` when a reply is
    /// awaited. The request's timeout is the reply's, else `ajax_timeout`.
    pub(super) fn ajax_send(
        &mut self,
        now: Instant,
        event: &Event,
        want: Option<Want>,
    ) -> Result<(), SendError> {
        let marker = want.map(|_| AJAX_CB_MARKER);
        let payload = wire::pack_client_event(&*self.packer, false, event, marker)?;
        if let Some(w) = want {
            self.register(now, w, None, None);
        }
        let callback = want.map(|w| w.id);
        let generation = self.conn.generation;
        if self.simulate_failure() {
            let post = Post {
                callback,
                generation,
                deadline: None,
            };
            self.post_result(now, post, Err(AjaxError::Network("simulated".into())));
            return Ok(());
        }
        let request = RequestId(self.fresh_id());
        let timeout = want.map_or(self.config.ajax_timeout, |w| w.timeout);
        let deadline = self.schedule(now, timeout, Timer::AjaxTimeout { request });
        self.posts.insert(
            request,
            Post {
                callback,
                generation,
                deadline,
            },
        );
        self.outputs.push_back(Output::AjaxPost {
            request,
            payload,
            udt: self.udt(now),
            timeout,
        });
        Ok(())
    }

    /// An Ajax POST ended (PROTOCOL.md §3.5). Results of unknown requests
    /// are ignored.
    ///
    /// * `Err(AjaxError::Timeout)`: the reply is [`CallbackError::Timeout`];
    ///   the state is unchanged.
    /// * any other error: closed ([`CloseReason::Unexpected`], no retry of
    ///   its own) and [`CallbackError::Error`].
    /// * an empty body, a text body for a binary packer, or one that does
    ///   not unpack: [`CallbackError::Error`].
    /// * otherwise the body's `[reply _]` is the reply (a body other than
    ///   `:chsk/dummy-cb-200` when none was asked is counted as a reply
    ///   without callback), and the client is open again.
    pub fn ajax_post_done(
        &mut self,
        now: Instant,
        request: RequestId,
        result: Result<PackedRef<'_>, AjaxError>,
    ) {
        let Some(post) = self.posts.remove(&request) else {
            return;
        };
        self.cancel(post.deadline);
        self.post_result(now, post, result);
    }

    fn post_result(&mut self, now: Instant, post: Post, result: Result<PackedRef<'_>, AjaxError>) {
        let reply = match result {
            Err(AjaxError::Timeout) => Err(CallbackError::Timeout),
            Err(e) => {
                tracing::warn!(error = %e, "Ajax POST failed");
                if post.generation.is_some() && post.generation == self.conn.generation {
                    self.mark_closed(now, CloseReason::Unexpected);
                }
                Err(CallbackError::Error)
            }
            Ok(body) => self.read_post_body(body),
        };
        let ok = reply.is_ok();
        match (post.callback, reply) {
            (Some(id), Ok(value)) => self.resolve(now, id, CallbackError::classify(value)),
            (Some(id), Err(e)) => self.resolve(now, id, Err(e)),
            (None, Ok(value)) if !value.is_keyword(ids::DUMMY_CB_200) => {
                self.stats.replies_without_callback += 1;
                tracing::warn!(reply = %value, "Ajax reply without a callback");
            }
            (None, _) => {}
        }
        if ok && post.generation.is_some() && post.generation == self.conn.generation {
            self.update_state(|s| s.open = true);
        }
    }

    fn read_post_body(
        &mut self,
        body: PackedRef<'_>,
    ) -> Result<crate::value::Value, CallbackError> {
        let wrong_kind = self.packer.is_binary() && matches!(body, PackedRef::Text(_));
        if body.as_bytes().is_empty() || wrong_kind {
            return Err(CallbackError::Error);
        }
        wire::read_ajax_reply(&*self.packer, body).map_err(|e| {
            self.stats.bad_messages += 1;
            tracing::warn!(error = %e, "Ajax POST reply does not unpack");
            CallbackError::Error
        })
    }

    /// An Ajax request reached its timeout: aborted, and handled as a timeout.
    pub(super) fn ajax_timed_out(&mut self, now: Instant, request: RequestId) {
        if self.poll.as_ref().is_some_and(|p| p.request == request) {
            self.poll = None;
            self.outputs.push_back(Output::AbortAjax { request });
            self.poll_result(now, Err(AjaxError::Timeout));
        } else if let Some(post) = self.posts.remove(&request) {
            self.outputs.push_back(Output::AbortAjax { request });
            self.post_result(now, post, Err(AjaxError::Timeout));
        }
    }
}

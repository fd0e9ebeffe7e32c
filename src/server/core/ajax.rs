//! Ajax: the handshake, long-polls, and POSTed events.

use std::sync::Arc;
use std::time::Instant;

use super::*;

impl ServerCore {
    /// An Ajax GET: a handshake (when `handshake` is set, or the client is
    /// unknown, e.g. after a server restart) or a long-poll.
    ///
    /// # Errors
    /// [`ConnectError`] when the client id is blank or the user has too many clients.
    pub fn ajax_get(
        &mut self,
        now: Instant,
        uid: Value,
        client_id: &str,
        handshake: bool,
        handshake_data: &Value,
    ) -> Result<AjaxGet, ConnectError> {
        if client_id.trim().is_empty() {
            return Err(ConnectError::MissingClientId);
        }
        let client_id: Arc<str> = Arc::from(client_id);
        let conn = self.fresh_id();
        let known = self
            .ajax_clients
            .get(&uid)
            .is_some_and(|m| m.contains_key(&client_id));
        if handshake || !known {
            let hs = wire::pack_handshake(&*self.packer, false, &uid, handshake_data)
                .map_err(ConnectError::Handshake)?;
            self.attach(Transport::Ajax, &uid, &client_id, Some(conn), conn)?;
            // The answer ends this request at once: the grace period starts.
            self.detach(now, Transport::Ajax, &uid, &client_id, conn);
            return Ok(AjaxGet::Respond(Arc::new(hs)));
        }
        self.ajax_poll(now, uid, &client_id, conn)
    }

    /// An Ajax long-poll from a client the cluster knows (a broker that
    /// shares Ajax clients said so), though this core may not have seen its
    /// handshake: held until a push, `lp_timeout`, or
    /// [`ajax_answer_poll`](Self::ajax_answer_poll).
    ///
    /// # Errors
    /// [`ConnectError`] when the client id is blank or the user has too many clients.
    pub fn ajax_poll_known(
        &mut self,
        now: Instant,
        uid: Value,
        client_id: &str,
    ) -> Result<AjaxGet, ConnectError> {
        if client_id.trim().is_empty() {
            return Err(ConnectError::MissingClientId);
        }
        let client_id: Arc<str> = Arc::from(client_id);
        let conn = self.fresh_id();
        self.ajax_poll(now, uid, &client_id, conn)
    }

    /// Takes a held long-poll out of the core to answer it with pushes
    /// from the cluster's mailbox: returns true when `conn` is still the
    /// client's held poll (it is answered now: the grace period starts),
    /// false when it was answered meanwhile (timeout, a newer poll).
    pub fn ajax_answer_poll(
        &mut self,
        now: Instant,
        uid: &Value,
        client_id: &str,
        conn: ConnId,
    ) -> bool {
        let Some((cid, held)) = self
            .ajax_clients
            .get(uid)
            .and_then(|m| m.get_key_value(client_id))
            .map(|(cid, c)| (cid.clone(), c.channel == Some(conn)))
        else {
            return false;
        };
        if held {
            self.detach(now, Transport::Ajax, uid, &cid, conn);
        }
        held
    }

    fn ajax_poll(
        &mut self,
        now: Instant,
        uid: Value,
        client_id: &Arc<str>,
        conn: ConnId,
    ) -> Result<AjaxGet, ConnectError> {
        let client_id = client_id.clone();
        // A poll replaces any poll still held for this client: answer the old one.
        let old = self
            .ajax_clients
            .get(&uid)
            .and_then(|m| m.get(&client_id))
            .and_then(|c| c.channel);
        if let Some(old) = old
            && let Ok(t) = wire::pack_lp_timeout(&*self.packer)
        {
            self.outputs.push_back(Output::RespondPoll {
                conn: old,
                payload: Arc::new(t),
            });
        }
        self.attach(Transport::Ajax, &uid, &client_id, Some(conn), conn)?;
        if self.connect_uid(Transport::Ajax, &uid) {
            self.emit_event(
                Event::reserved(ids::UIDPORT_OPEN, Some(uid.clone())),
                &uid,
                &client_id,
                Transport::Ajax,
                conn,
                None,
            );
        }
        if let Some(batch) = self.take_pending(&uid, &client_id) {
            self.detach(now, Transport::Ajax, &uid, &client_id, conn);
            return Ok(AjaxGet::Respond(batch));
        }
        let key = self.schedule(
            now + self.config.lp_timeout,
            Timer::LongPoll {
                uid: uid.clone(),
                client_id: client_id.clone(),
                conn,
            },
        );
        if let Some(c) = self
            .ajax_clients
            .get_mut(&uid)
            .and_then(|m| m.get_mut(&client_id))
        {
            c.poll_timer = Some(key);
        }
        Ok(AjaxGet::Held(conn))
    }

    pub(super) fn take_pending(
        &mut self,
        uid: &Value,
        client_id: &Arc<str>,
    ) -> Option<Arc<Packed>> {
        let c = self.ajax_clients.get_mut(uid)?.get_mut(client_id)?;
        c.pending.pop_front().map(|(p, _)| p)
    }

    /// A held long-poll's request went away before it was answered (the
    /// client aborted, the connection dropped).
    pub fn ajax_poll_closed(&mut self, now: Instant, uid: &Value, client_id: &str, conn: ConnId) {
        let client_id: Arc<str> = Arc::from(client_id);
        self.detach(now, Transport::Ajax, uid, &client_id, conn);
    }

    /// An Ajax POST carrying one event. Delivers the event (or
    /// `chsk/bad-event`); when no reply was asked, answers at once with
    /// `[:chsk/dummy-cb-200 nil]`, otherwise waits for [`reply`](Self::reply)
    /// or `lp_timeout`.
    ///
    /// # Errors
    /// [`WireError`] when the body does not unpack to an envelope; the event
    /// `chsk/bad-package` is delivered too, and the driver answers 400.
    pub fn ajax_post(
        &mut self,
        now: Instant,
        uid: Value,
        client_id: &str,
        payload: PackedRef<'_>,
    ) -> Result<AjaxPost, WireError> {
        let message = wire::read_client_message(&*self.packer, false, payload);
        self.ajax_post_decoded(now, uid, client_id, message, payload)
    }

    /// [`ajax_post`](Self::ajax_post) for a body the driver already
    /// unpacked with [`wire::read_client_message`] (outside any lock it
    /// holds around the core); `payload` is the body, for
    /// `chsk/bad-package`.
    ///
    /// # Errors
    /// As [`ajax_post`](Self::ajax_post).
    pub fn ajax_post_decoded(
        &mut self,
        now: Instant,
        uid: Value,
        client_id: &str,
        message: Result<wire::ClientMessage, WireError>,
        payload: PackedRef<'_>,
    ) -> Result<AjaxPost, WireError> {
        let client_id: Arc<str> = Arc::from(client_id);
        let post = self.fresh_id();
        let msg = match message {
            Ok(msg) => msg,
            Err(e) => {
                self.bad_package(&uid, &client_id, Transport::Ajax, post, payload, &e);
                return Err(e);
            }
        };
        if !msg.wants_reply() {
            let dummy = wire::pack_dummy_reply(&*self.packer)?;
            self.emit_event(msg.event, &uid, &client_id, Transport::Ajax, post, None);
            return Ok(AjaxPost::Respond(Arc::new(dummy)));
        }
        let key = self.schedule(now + self.config.lp_timeout, Timer::PostReply { post });
        self.posts.insert(post, key);
        self.emit_event(
            msg.event,
            &uid,
            &client_id,
            Transport::Ajax,
            post,
            Some(ReplyTo::Ajax { post }),
        );
        Ok(AjaxPost::AwaitReply(post))
    }

    /// A POST waiting for its reply went away; a later reply is dropped.
    pub fn ajax_post_closed(&mut self, post: ConnId) {
        let key = self.posts.remove(&post);
        self.cancel(key);
    }
}

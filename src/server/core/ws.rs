//! WebSocket connections: opening, messages in, closing, keep-alive.

use std::sync::Arc;
use std::time::Instant;

use super::*;

impl ServerCore {
    /// A WebSocket upgrade was accepted: sends the handshake, registers the
    /// client (replacing an older channel of the same client id), starts the
    /// keep-alive, and delivers pushes that waited for this client.
    ///
    /// # Errors
    /// [`ConnectError`] when the client id is blank or the user has too many
    /// clients; the driver should then refuse the upgrade.
    pub fn ws_open(
        &mut self,
        now: Instant,
        uid: Value,
        client_id: &str,
        handshake_data: &Value,
    ) -> Result<ConnId, ConnectError> {
        if client_id.trim().is_empty() {
            return Err(ConnectError::MissingClientId);
        }
        let client_id: Arc<str> = Arc::from(client_id);
        let hs = wire::pack_handshake(&*self.packer, true, &uid, handshake_data)
            .map_err(ConnectError::Handshake)?;
        let conn = self.fresh_id();
        self.attach(Transport::Ws, &uid, &client_id, Some(conn), conn)?;
        self.outputs.push_back(Output::Transmit {
            conn,
            payload: Arc::new(hs),
        });
        self.ws_conns.insert(
            conn,
            WsConn {
                uid: uid.clone(),
                client_id: client_id.clone(),
                last_inbound: now,
                ping_sent_at: None,
                keepalive: None,
            },
        );
        if let Some(window) = self.config.ws_idle_window() {
            self.schedule_keep_alive(now + window, conn);
        }
        self.deliver_pending(Transport::Ws, &uid, &client_id);
        if self.connect_uid(Transport::Ws, &uid) {
            self.emit_event(
                Event::reserved(ids::UIDPORT_OPEN, Some(uid.clone())),
                &uid,
                &client_id,
                Transport::Ws,
                conn,
                None,
            );
        }
        Ok(conn)
    }

    /// A frame arrived on a WebSocket. Answers client pings with `"pong"`,
    /// and delivers the event (or `chsk/bad-package` when it does not unpack;
    /// the connection stays open).
    pub fn ws_message(&mut self, now: Instant, conn: ConnId, payload: PackedRef<'_>) {
        let message = wire::read_client_message(&*self.packer, true, payload);
        self.ws_decoded(now, conn, message, payload);
    }

    /// [`ws_message`](Self::ws_message) for a frame the driver already
    /// unpacked with [`wire::read_client_message`] (outside any lock it
    /// holds around the core); `payload` is the frame, for
    /// `chsk/bad-package`.
    pub fn ws_decoded(
        &mut self,
        now: Instant,
        conn: ConnId,
        message: Result<wire::ClientMessage, WireError>,
        payload: PackedRef<'_>,
    ) {
        let Some(c) = self.ws_conns.get_mut(&conn) else {
            return;
        };
        c.last_inbound = now;
        c.ping_sent_at = None;
        let (uid, client_id) = (c.uid.clone(), c.client_id.clone());
        match message {
            Ok(msg) => {
                if msg.is_ping() {
                    if let Some(cb) = &msg.cb
                        && let Ok(pong) = wire::pack_pong(&*self.packer, cb)
                    {
                        self.outputs.push_back(Output::Transmit {
                            conn,
                            payload: Arc::new(pong),
                        });
                    }
                    self.emit_event(msg.event, &uid, &client_id, Transport::Ws, conn, None);
                } else {
                    let reply = msg.cb.map(|cb| ReplyTo::Ws { conn, cb });
                    self.emit_event(msg.event, &uid, &client_id, Transport::Ws, conn, reply);
                }
            }
            Err(e) => self.bad_package(&uid, &client_id, Transport::Ws, conn, payload, &e),
        }
    }

    pub(super) fn bad_package(
        &mut self,
        uid: &Value,
        client_id: &Arc<str>,
        t: Transport,
        conn: ConnId,
        payload: PackedRef<'_>,
        e: &WireError,
    ) {
        tracing::info!(%uid, %client_id, transport = ?t, error = %e, "bad package");
        let raw = match payload {
            PackedRef::Text(s) => Value::from(s),
            PackedRef::Binary(b) => Value::Bytes(Arc::from(b)),
        };
        let data = Value::map([
            (Value::keyword("raw"), raw),
            (Value::keyword("error"), Value::from(e.to_string())),
        ]);
        self.emit_event(
            Event::reserved(ids::BAD_PACKAGE, Some(data)),
            uid,
            client_id,
            t,
            conn,
            None,
        );
    }

    /// A WebSocket closed (for any reason, possibly more than once). If it
    /// was the client's current channel, the client is removed after the
    /// grace period unless it reconnects.
    pub fn ws_closed(&mut self, now: Instant, conn: ConnId) {
        let Some(c) = self.ws_conns.remove(&conn) else {
            return;
        };
        self.cancel(c.keepalive);
        self.detach(now, Transport::Ws, &c.uid, &c.client_id, conn);
    }

    /// Sente's keep-alive, measured from the last inbound message rather than
    /// in fixed windows (so the idle time before a ping is exactly the window,
    /// not up to twice it: Sente's #455).
    pub(super) fn keep_alive(&mut self, now: Instant, conn: ConnId) {
        let (Some(window), Some(c)) = (self.config.ws_idle_window(), self.ws_conns.get_mut(&conn))
        else {
            return;
        };
        if let Some(sent) = c.ping_sent_at {
            if c.last_inbound < sent {
                self.outputs.push_back(Output::Close {
                    conn,
                    reason: CloseReason::PingTimeout,
                });
                // Gone from now on: later pushes wait for the client's
                // reconnect instead of going to a dead connection.
                self.ws_closed(now, conn);
                return;
            }
            c.ping_sent_at = None;
        }
        let idle_until = c.last_inbound + window;
        if now < idle_until {
            self.schedule_keep_alive(idle_until, conn);
            return;
        }
        match wire::pack_server_ping(&*self.packer) {
            Ok(ping) => self.outputs.push_back(Output::Transmit {
                conn,
                payload: Arc::new(ping),
            }),
            Err(_) => return,
        }
        match self.config.ws_ping_timeout {
            Some(p) => {
                c.ping_sent_at = Some(now);
                self.schedule_keep_alive(now + p, conn);
            }
            None => {
                c.last_inbound = now; // ping again a full window from now
                self.schedule_keep_alive(now + window, conn);
            }
        }
    }

    /// Schedules the connection's next keep-alive check, remembering it so
    /// that the connection's close cancels it.
    pub(super) fn schedule_keep_alive(&mut self, at: Instant, conn: ConnId) {
        let key = self.schedule(at, Timer::KeepAlive { conn });
        if let Some(c) = self.ws_conns.get_mut(&conn) {
            c.keepalive = Some(key);
        }
    }
}

//! The framework-neutral HTTP handlers (Sente's `ajax-get-or-ws-handshake-fn`
//! and `ajax-post-fn`) and the WebSocket connection loop.

use std::sync::Arc;

use futures_util::future::{Either, select};
use futures_util::{SinkExt, StreamExt};

use super::driver::{ChannelSocketServer, Route};
use super::request::ChskRequest;
use super::security::{HttpResponse, text_response};
use super::types::{AjaxGet, AjaxPost, ConnId};
use crate::channel::{Inbound, Outbound, ServerChannel};
use crate::packer::{Packed, PackedRef};
use crate::value::Value;

/// What to do with a GET on the channel-socket path.
#[derive(Debug)]
pub enum GetResponse {
    /// Answer with this response (an Ajax handshake or poll answer, or a rejection).
    Respond(HttpResponse),
    /// Accept the WebSocket upgrade, then hand the socket to
    /// [`ChannelSocketServer::serve_websocket`] with this.
    Upgrade(WsAccept),
}

/// An accepted WebSocket upgrade, waiting for its socket.
#[derive(Debug)]
pub struct WsAccept {
    request: Arc<ChskRequest>,
    uid: Value,
    handshake_data: Value,
}

impl WsAccept {
    /// The upgrade request.
    pub fn request(&self) -> &ChskRequest {
        &self.request
    }
}

const MISSING_CLIENT_ID: &str = "Client's Ring request doesn't have a client id. Does your server have the necessary keyword Ring middleware (`wrap-params` & `wrap-keyword-params`)?";

/// True when the request asks for a WebSocket upgrade.
pub fn is_websocket_upgrade(head: &http::request::Parts) -> bool {
    head.headers
        .get(http::header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

fn body_response(payload: &Packed) -> HttpResponse {
    let content_type = if payload.is_binary() {
        "application/octet-stream"
    } else {
        "text/plain; charset=utf-8"
    };
    http::Response::builder()
        .status(200)
        .header(http::header::CONTENT_TYPE, content_type)
        .header(http::header::CACHE_CONTROL, "no-store")
        .header("x-content-type-options", "nosniff")
        .body(payload.as_bytes().to_vec())
        .unwrap_or_default()
}

/// Runs `on_drop` unless disarmed: tells the core a held request went away.
struct DropGuard<F: FnMut()>(Option<F>);

impl<F: FnMut()> Drop for DropGuard<F> {
    fn drop(&mut self) {
        if let Some(mut f) = self.0.take() {
            f();
        }
    }
}

impl ChannelSocketServer {
    /// Handles a GET on the channel-socket path: a WebSocket upgrade, an Ajax
    /// handshake, or an Ajax long-poll (held until a push or `lp_timeout`).
    ///
    /// The client id is checked first (500 without one, as in Sente), then the
    /// rejection pipeline (reject-fn, CSRF, origin, authorization).
    pub async fn handle_get(&self, head: http::request::Parts) -> GetResponse {
        let req = ChskRequest::new(head);
        if req.client_id.trim().is_empty() {
            return GetResponse::Respond(text_response(500, MISSING_CLIENT_ID));
        }
        let opts = &self.shared.options;
        if let Err(resp) = opts.security.check(&req) {
            return GetResponse::Respond(*resp);
        }
        let uid = opts.user_id(&req);
        let handshake_data = opts.handshake_data(&req);
        if is_websocket_upgrade(&req.head) {
            return GetResponse::Upgrade(WsAccept {
                request: Arc::new(req),
                uid,
                handshake_data,
            });
        }
        let handshake = req.params.contains_key("handshake?");
        let client_id = req.client_id.clone();
        let req = Arc::new(req);
        let now = self.shared.runtime.now();
        let (tx, rx) = async_channel::bounded(1);
        let (answer, events) = {
            let mut st = self.shared.lock();
            let answer = st
                .core
                .ajax_get(now, uid.clone(), &client_id, handshake, &handshake_data);
            if let Ok(AjaxGet::Held(conn)) = &answer {
                st.routes.insert(*conn, Route::Poll(tx));
                st.requests.insert(*conn, req.clone());
            }
            let events = self.apply(&mut st);
            (answer, events)
        };
        self.deliver(events).await;
        let conn = match answer {
            Err(e) => return GetResponse::Respond(text_response(429, &e.to_string())),
            Ok(AjaxGet::Respond(body)) => return GetResponse::Respond(body_response(&body)),
            Ok(AjaxGet::Held(conn)) => conn,
        };
        let server = self.clone();
        let guard_uid = uid.clone();
        let mut guard = DropGuard(Some(move || server.poll_gone(conn, &guard_uid, &client_id)));
        let answer = rx.recv().await;
        guard.0 = None;
        self.forget(conn);
        match answer {
            Ok(Some(body)) => GetResponse::Respond(body_response(&body)),
            // Closed by the application (close_uid): end without an answer the
            // client could take for data.
            _ => GetResponse::Respond(text_response(503, "Connection closed by the server")),
        }
    }

    fn poll_gone(&self, conn: ConnId, uid: &Value, client_id: &str) {
        let now = self.shared.runtime.now();
        let mut st = self.shared.lock();
        st.routes.remove(&conn);
        st.requests.remove(&conn);
        st.core.ajax_poll_closed(now, uid, client_id, conn);
        let events = self.apply(&mut st);
        drop(st);
        debug_assert!(events.is_empty());
    }

    fn forget(&self, conn: ConnId) {
        let mut st = self.shared.lock();
        st.routes.remove(&conn);
        st.requests.remove(&conn);
    }

    /// Handles an Ajax POST carrying one event: the form body `ppstr` (text
    /// packers) or the raw body with `binary?=true` in the query (binary
    /// packers). Answers `[:chsk/dummy-cb-200 nil]` at once when no reply was
    /// asked, else the handler's reply or `[:chsk/timeout nil]`.
    ///
    /// The adapter must refuse bodies over `max_message_size` (413) before
    /// calling this.
    pub async fn handle_post(&self, head: http::request::Parts, body: &[u8]) -> HttpResponse {
        let mut req = ChskRequest::new(head);
        let binary = req.params.get("binary?").is_some_and(|v| v != "false");
        let mut ppstr = None;
        if !binary {
            for (k, v) in form_urlencoded::parse(body) {
                match &*k {
                    "ppstr" => ppstr = Some(v.into_owned()),
                    "client-id" => req.client_id = v.into_owned(),
                    _ => {}
                }
            }
        }
        let opts = &self.shared.options;
        if let Err(resp) = opts.security.check(&req) {
            return *resp;
        }
        if req.client_id.trim().is_empty() {
            return text_response(400, "The request has no client-id parameter");
        }
        let uid = opts.user_id(&req);
        let payload = match (&ppstr, binary) {
            (_, true) => PackedRef::Binary(body),
            (Some(s), false) => PackedRef::Text(s),
            (None, false) => PackedRef::Text(""),
        };
        let now = self.shared.runtime.now();
        let client_id = req.client_id.clone();
        let req = Arc::new(req);
        let (tx, rx) = async_channel::bounded(1);
        let (answer, events) = {
            let mut st = self.shared.lock();
            let answer = st.core.ajax_post(now, uid, &client_id, payload);
            if let Ok(AjaxPost::AwaitReply(post)) = &answer {
                st.routes.insert(*post, Route::Post(tx));
            }
            // The events of this call are this POST's: they carry its request.
            let mut events = self.apply(&mut st);
            for ev in &mut events {
                ev.request = Some(req.clone());
            }
            (answer, events)
        };
        self.deliver(events).await;
        let post = match answer {
            Err(e) => return text_response(400, &format!("Bad package: {e}")),
            Ok(AjaxPost::Respond(body)) => return body_response(&body),
            Ok(AjaxPost::AwaitReply(post)) => post,
        };
        let server = self.clone();
        let mut guard = DropGuard(Some(move || server.post_gone(post)));
        let answer = rx.recv().await;
        guard.0 = None;
        self.forget(post);
        match answer {
            Ok(body) => body_response(&body),
            Err(_) => text_response(503, "Server shutting down"),
        }
    }

    fn post_gone(&self, post: ConnId) {
        let mut st = self.shared.lock();
        st.routes.remove(&post);
        st.core.ajax_post_closed(post);
    }

    /// Serves an upgraded WebSocket until it closes: sends the handshake,
    /// delivers the client's events, sends pushes and replies, keeps it alive.
    pub async fn serve_websocket<C: ServerChannel>(&self, accept: WsAccept, channel: C) {
        let opts = &self.shared.options;
        let (frames, frames_rx) = super::frame_queue::frame_queue(opts.max_queued_frames);
        let closer = frames.clone();
        let now = self.shared.runtime.now();
        let client_id = accept.request.client_id.clone();
        let opened = {
            let mut st = self.shared.lock();
            match st
                .core
                .ws_open(now, accept.uid, &client_id, &accept.handshake_data)
            {
                Ok(conn) => {
                    st.routes.insert(conn, Route::Ws(frames));
                    st.requests.insert(conn, accept.request.clone());
                    let events = self.apply(&mut st);
                    Ok((conn, events))
                }
                Err(e) => Err(e),
            }
        };
        let (mut sink, mut stream) = channel.split();
        let (conn, events) = match opened {
            Ok(x) => x,
            Err(e) => {
                tracing::info!(error = %e, "WebSocket refused");
                let _ = sink
                    .send(Outbound::Close {
                        code: 1008,
                        reason: "refused",
                    })
                    .await;
                return;
            }
        };
        self.deliver(events).await;

        let max = opts.max_message_size;
        // The reader ends on the client's close, an error, or a message over
        // the size bound (after queueing a close frame). The writer ends after
        // a close frame or a failed write. A kill (slow consumer, full queue)
        // ends the connection at once, even while a write is blocked.
        let reader = async {
            while let Some(item) = stream.next().await {
                let packed = match item {
                    Ok(Inbound::Message(p)) => p,
                    Ok(Inbound::Closed) => break,
                    Err(e) => match e.close_code() {
                        // The client broke the protocol: answer with the
                        // close frame it calls for, as for a large message.
                        Some((code, reason)) => {
                            tracing::info!(conn = conn.get(), error = %e, "closing: protocol error");
                            closer.push_or_kill(Outbound::Close { code, reason });
                            return;
                        }
                        None => break,
                    },
                };
                if packed.len() > max {
                    tracing::info!(
                        conn = conn.get(),
                        len = packed.len(),
                        max,
                        "closing: message too large"
                    );
                    closer.push_or_kill(Outbound::Close {
                        code: 1009,
                        reason: "message too large",
                    });
                    return;
                }
                let now = self.shared.runtime.now();
                let events = {
                    let mut st = self.shared.lock();
                    st.core.ws_message(now, conn, packed.as_ref());
                    self.apply(&mut st)
                };
                self.deliver(events).await;
            }
            // The client is gone: nothing more to write.
            closer.kill();
        };
        let writer = async {
            loop {
                let Some(next) = frames_rx.recv().await else {
                    return;
                };
                let mut closing = matches!(next, Outbound::Close { .. });
                if sink.feed(next).await.is_err() {
                    return;
                }
                // Coalesce whatever else is queued into one flush.
                while !closing {
                    match frames_rx.try_recv() {
                        Some(frame) => {
                            closing = matches!(frame, Outbound::Close { .. });
                            if sink.feed(frame).await.is_err() {
                                return;
                            }
                        }
                        None => break,
                    }
                }
                if sink.flush().await.is_err() || closing {
                    let _ = sink.close().await;
                    return;
                }
            }
        };
        let connection = async {
            futures_util::pin_mut!(reader, writer);
            if let Either::Left(((), writer)) = select(reader, writer).await {
                // Let the writer send what is queued (a close frame), for a while.
                let grace = self
                    .shared
                    .runtime
                    .sleep_until(self.shared.runtime.now() + std::time::Duration::from_secs(2));
                select(writer, grace).await;
            }
        };
        futures_util::pin_mut!(connection);
        let killed = frames_rx.killed();
        futures_util::pin_mut!(killed);
        select(connection, killed).await;
        let now = self.shared.runtime.now();
        let events = {
            let mut st = self.shared.lock();
            st.routes.remove(&conn);
            st.requests.remove(&conn);
            st.core.ws_closed(now, conn);
            self.apply(&mut st)
        };
        self.deliver(events).await;
    }
}

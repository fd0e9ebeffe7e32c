//! The framework-neutral HTTP handlers (Sente's `ajax-get-or-ws-handshake-fn`
//! and `ajax-post-fn`) and the WebSocket connection loop.

use std::sync::Arc;

use std::future::Future;

use super::core::ServerCore;
use super::driver::ChannelSocketServer;
use super::request::ChskRequest;
use super::security::{HttpResponse, text_response};
use super::shared::Route;
use super::types::{AjaxGet, AjaxPost, ConnId, ConnectError};
use super::ws_connection::WsConnection;
use crate::channel::ServerChannel;
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

pub(super) fn body_response(payload: &Packed) -> HttpResponse {
    let content_type = if payload.is_binary() {
        "application/octet-stream"
    } else {
        "text/plain; charset=utf-8"
    };
    let mut resp = http::Response::new(payload.as_bytes().to_vec());
    let headers = resp.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(content_type),
    );
    headers.insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-store"),
    );
    headers.insert(
        http::header::X_CONTENT_TYPE_OPTIONS,
        http::HeaderValue::from_static("nosniff"),
    );
    resp
}

/// What the core answered a held poll with (`None`, or nothing: closed).
pub(super) fn poll_response(
    answer: Result<Option<Arc<Packed>>, async_channel::RecvError>,
) -> GetResponse {
    match answer {
        Ok(Some(body)) => GetResponse::Respond(body_response(&body)),
        // Closed by the application (close_uid): end without an answer the
        // client could take for data.
        _ => GetResponse::Respond(text_response(503, "Connection closed by the server")),
    }
}

fn shutting_down() -> HttpResponse {
    text_response(503, "Server shutting down")
}

/// Runs `on_drop` unless disarmed: tells the core a held request went away.
pub(super) struct DropGuard<F: FnMut()>(pub(super) Option<F>);

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
    /// rejection pipeline (reject-fn, CSRF, origin, authorization). Once a
    /// [`shutdown`](Self::shutdown) began, every request is answered 503.
    pub async fn handle_get(&self, head: http::request::Parts) -> GetResponse {
        if self.shared.is_shutting_down() {
            return GetResponse::Respond(shutting_down());
        }
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
                request: Arc::new(req.without_upgrade_headers()),
                uid,
                handshake_data,
            });
        }
        let handshake = req.params.contains_key("handshake?");
        if let Some(broker) = self.shared.ajax_broker() {
            return self
                .shared_ajax_get(broker, req, uid, handshake_data, handshake)
                .await;
        }
        let client_id = req.client_id.clone();
        let (tx, rx) = async_channel::bounded(1);
        let opened = self
            .open_ajax_get(&uid, req, tx, |core, now| {
                core.ajax_get(now, uid.clone(), &client_id, handshake, &handshake_data)
            })
            .await;
        let conn = match opened {
            Ok(conn) => conn,
            Err(response) => return response,
        };
        let server = self.clone();
        let guard_uid = uid.clone();
        let mut guard = DropGuard(Some(move || server.poll_gone(conn, &guard_uid, &client_id)));
        let answer = rx.recv().await;
        guard.0 = None;
        self.forget(conn);
        poll_response(answer)
    }

    /// An Ajax GET on the user's shard: `get` asks the core; a poll it holds
    /// is routed to `tx`, with the request. Returns the held poll, or the
    /// response to give at once (a handshake, a refusal).
    pub(super) async fn open_ajax_get(
        &self,
        uid: &Value,
        req: ChskRequest,
        tx: async_channel::Sender<Option<Arc<Packed>>>,
        get: impl FnOnce(&mut ServerCore, std::time::Instant) -> Result<AjaxGet, ConnectError>,
    ) -> Result<ConnId, GetResponse> {
        let req = Arc::new(req);
        let shard = self.shared.shard_of_uid(uid);
        let (answer, events) = self.shared.with_shard(shard, |st, now| {
            let answer = get(st.core(), now);
            if let Ok(AjaxGet::Held(conn)) = &answer {
                st.add_route(*conn, Route::Poll(tx), Some(req));
            }
            answer
        });
        self.deliver(events).await;
        match answer {
            Err(e) => {
                tracing::warn!(error = %e, "Ajax connection refused");
                Err(GetResponse::Respond(text_response(
                    e.http_status(),
                    &e.to_string(),
                )))
            }
            Ok(AjaxGet::Respond(body)) => Err(GetResponse::Respond(body_response(&body))),
            Ok(AjaxGet::Held(conn)) => Ok(conn),
        }
    }

    pub(super) fn poll_gone(&self, conn: ConnId, uid: &Value, client_id: &str) {
        let shard = self.shared.shard_of_conn(conn);
        let ((), events) = self.shared.with_shard(shard, |st, now| {
            st.remove_route(conn);
            st.core().ajax_poll_closed(now, uid, client_id, conn);
        });
        debug_assert!(events.is_empty());
        self.shared.conn_ended.notify(usize::MAX);
    }

    pub(super) fn forget(&self, conn: ConnId) {
        let shard = self.shared.shard_of_conn(conn);
        let ((), events) = self.shared.with_shard(shard, |st, _| st.remove_route(conn));
        debug_assert!(events.is_empty());
        self.shared.conn_ended.notify(usize::MAX);
    }

    /// Handles an Ajax POST carrying one event: the form body `ppstr` (text
    /// packers) or the raw body with `binary?=true` in the query (binary
    /// packers). Answers `[:chsk/dummy-cb-200 nil]` at once when no reply was
    /// asked, else the handler's reply or `[:chsk/timeout nil]`.
    ///
    /// The adapter must refuse bodies over `max_message_size` (413) before
    /// calling this.
    pub async fn handle_post(&self, head: http::request::Parts, body: &[u8]) -> HttpResponse {
        if self.shared.is_shutting_down() {
            return shutting_down();
        }
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
        // Unpacked before the lock: other connections do not wait on it.
        let message = crate::wire::read_client_message(&*self.shared.packer, false, payload);
        let client_id = req.client_id.clone();
        let req = Arc::new(req);
        let (tx, rx) = async_channel::bounded(1);
        let shard = self.shared.shard_of_uid(&uid);
        let (answer, mut events) = self.shared.with_shard(shard, |st, now| {
            let answer = st
                .core()
                .ajax_post_decoded(now, uid, &client_id, message, payload);
            if let Ok(AjaxPost::AwaitReply(post)) = &answer {
                st.add_route(*post, Route::Post(tx), None);
            }
            answer
        });
        // The events of this call are this POST's: they carry its request.
        for ev in &mut events {
            ev.request = Some(req.clone());
        }
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
        let shard = self.shared.shard_of_conn(post);
        let ((), events) = self.shared.with_shard(shard, |st, _| {
            st.remove_route(post);
            st.core().ajax_post_closed(post);
        });
        debug_assert!(events.is_empty());
        self.shared.conn_ended.notify(usize::MAX);
    }

    /// Serves an upgraded WebSocket until it closes: sends the handshake,
    /// delivers the client's events, sends pushes and replies, keeps it
    /// alive. Await the future it returns, or spawn it (it is `'static`).
    ///
    /// The connection is registered at once (before the first poll); a
    /// connection the core refuses (too many for the user) gets a close
    /// frame 1008 and the future ends.
    pub fn serve_websocket<C: ServerChannel>(
        &self,
        accept: WsAccept,
        channel: C,
    ) -> impl Future<Output = ()> + Send + 'static {
        let (frames, frames_rx) =
            super::frame_queue::frame_queue(self.shared.options.max_queued_bytes);
        let closer = frames.clone();
        let shard = self.shared.shard_of_uid(&accept.uid);
        let WsAccept {
            request,
            uid,
            handshake_data,
        } = accept;
        let (conn, events) = self.shared.with_shard(shard, |st, now| {
            // Checked under the lock: the shutdown closes each shard's
            // connections under it after setting the flag.
            if self.shared.is_shutting_down() {
                // Upgraded while the shutdown began: refused as a new request is.
                closer.close(1001, "going away");
                return None;
            }
            match st
                .core()
                .ws_open(now, uid, &request.client_id, &handshake_data)
            {
                Ok(conn) => {
                    st.add_route(conn, Route::Ws(frames), Some(request));
                    Some(conn)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "WebSocket refused");
                    closer.close(e.close_code(), "refused");
                    None
                }
            }
        });
        WsConnection::new(self.clone(), conn, channel, (closer, frames_rx), events)
    }
}

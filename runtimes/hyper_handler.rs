//! The channel socket's answer to one request on a hyper-based server,
//! shared by the plugs that serve on hyper (smol, tokio): each brings only
//! how the upgraded connection is taken back and spawned.

use std::io;

use bytes::Bytes;
use futures_util::TryStreamExt;
use http_body_util::Full;

use crate::server::{
    ChannelSocketServer, GetResponse, HttpResponse, WsAccept, is_websocket_upgrade, text_response,
};
use crate::ws::check_upgrade;

/// The response type of the hyper-based plugs.
pub(crate) type Response = http::Response<Full<Bytes>>;

pub(crate) fn to_hyper(resp: HttpResponse) -> Response {
    resp.map(|b| Full::new(Bytes::from(b)))
}

/// Serves `req` on the channel socket: GET (WebSocket upgrade, Ajax
/// handshake or long-poll), POST (Ajax events, the body read under the
/// server's bounds), 405 for other methods. An accepted upgrade is handed
/// to `upgrade` with hyper's upgrade future, before the 101 goes out.
pub(crate) async fn handle<B>(
    chsk: &ChannelSocketServer,
    mut req: http::Request<B>,
    upgrade: impl FnOnce(hyper::upgrade::OnUpgrade, WsAccept),
) -> Response
where
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    match *req.method() {
        http::Method::GET => {
            let upgradable = req
                .extensions()
                .get::<hyper::upgrade::OnUpgrade>()
                .is_some();
            let on_upgrade = hyper::upgrade::on(&mut req);
            let (head, _body) = req.into_parts();
            let accept_value = if is_websocket_upgrade(&head) {
                match check_upgrade(&head.headers) {
                    Ok(value) => Some(value),
                    Err(refused) => return to_hyper(refused.response()),
                }
            } else {
                None
            };
            match chsk.handle_get(head).await {
                GetResponse::Respond(resp) => to_hyper(resp),
                GetResponse::Upgrade(accept) => {
                    let Some(accept_value) = accept_value else {
                        return to_hyper(text_response(400, "Not a WebSocket upgrade"));
                    };
                    if !upgradable {
                        // Not served by hyper's HTTP/1.1 with upgrades (an
                        // HTTP/2 request, a test client): no socket to hand.
                        return to_hyper(text_response(
                            500,
                            "This server cannot upgrade the connection",
                        ));
                    }
                    upgrade(on_upgrade, accept);
                    switching_protocols(&accept_value)
                }
            }
        }
        http::Method::POST => {
            let (head, body) = req.into_parts();
            // The body as a byte reader (trailers and other frames skipped).
            let body = http_body_util::BodyStream::new(body)
                .map_err(|e| io::Error::other(e.into()))
                .try_filter_map(|frame| std::future::ready(Ok(frame.into_data().ok())));
            let body = Box::pin(body).into_async_read();
            match chsk.read_post_body(&head, body).await {
                Ok(body) => to_hyper(chsk.handle_post(head, &body).await),
                Err(refused) => to_hyper(refused),
            }
        }
        _ => to_hyper(text_response(405, "The channel socket takes GET and POST")),
    }
}

fn switching_protocols(accept_value: &str) -> Response {
    let mut resp = http::Response::new(Full::default());
    *resp.status_mut() = http::StatusCode::SWITCHING_PROTOCOLS;
    let headers = resp.headers_mut();
    headers.insert(
        http::header::UPGRADE,
        http::HeaderValue::from_static("websocket"),
    );
    headers.insert(
        http::header::CONNECTION,
        http::HeaderValue::from_static("Upgrade"),
    );
    // Base64: always a valid header value.
    if let Ok(accept) = http::HeaderValue::from_str(accept_value) {
        headers.insert(http::header::SEC_WEBSOCKET_ACCEPT, accept);
    }
    resp
}

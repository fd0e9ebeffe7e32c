//! The tide plug: the channel socket as a tide endpoint.
//!
//! **Legacy upstream**: tide has been dormant since 2024 and runs on the
//! discontinued async-std. Supported for existing tide applications.
//!
//! ```no_run
//! use sente::packer::EdnPacker;
//! use sente::runtimes::async_std::AsyncStdRuntime;
//! use sente::runtimes::tide::ChskEndpoint;
//! use sente::server::{ChannelSocketServer, CsrfCheck, ServerOptions};
//!
//! # async fn run() -> std::io::Result<()> {
//! let opts = ServerOptions::default().csrf(CsrfCheck::Skip);
//! let (chsk, _events) = ChannelSocketServer::new(AsyncStdRuntime, EdnPacker::new(), opts)
//!     .expect("valid options");
//! let mut app = tide::new();
//! let endpoint = ChskEndpoint::new(chsk);
//! app.at("/chsk").get(endpoint.clone()).post(endpoint);
//! app.at("/").get(|_| async { Ok("hello") });
//! app.listen("127.0.0.1:8080").await
//! # }
//! ```

use crate::server::{
    ChannelSocketServer, GetResponse, HttpResponse, is_websocket_upgrade, text_response,
};
use crate::ws::{WsChannel, check_upgrade};

/// A tide endpoint serving the channel socket (mount it for GET and POST).
#[derive(Debug, Clone)]
pub struct ChskEndpoint {
    chsk: ChannelSocketServer,
}

impl ChskEndpoint {
    /// An endpoint for this server.
    pub fn new(chsk: ChannelSocketServer) -> Self {
        Self { chsk }
    }
}

/// The neutral request head of a tide request.
fn head_of<State>(req: &tide::Request<State>) -> http::request::Parts {
    let url = req.url();
    let path_and_query = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    };
    let mut b = http::Request::builder()
        .method(req.method().as_ref())
        .uri(path_and_query);
    for (name, values) in req.iter() {
        for v in values.iter() {
            b = b.header(name.as_str(), v.as_str());
        }
    }
    let (head, ()) = b.body(()).unwrap_or_default().into_parts();
    head
}

fn to_tide(resp: HttpResponse) -> tide::Response {
    let mut out = tide::Response::new(resp.status().as_u16());
    for (name, value) in resp.headers() {
        if let Ok(v) = value.to_str() {
            out.insert_header(name.as_str(), v);
        }
    }
    out.set_body(resp.into_body());
    out
}

#[tide::utils::async_trait]
impl<State: Clone + Send + Sync + 'static> tide::Endpoint<State> for ChskEndpoint {
    async fn call(&self, mut req: tide::Request<State>) -> tide::Result {
        let max = self.chsk.options().max_message_size;
        let head = head_of(&req);
        match req.method() {
            tide::http::Method::Get => {
                let accept_value = if is_websocket_upgrade(&head) {
                    match check_upgrade(&head.headers) {
                        Ok(value) => Some(value),
                        Err(refused) => return Ok(to_tide(refused.response())),
                    }
                } else {
                    None
                };
                match self.chsk.handle_get(head).await {
                    GetResponse::Respond(resp) => Ok(to_tide(resp)),
                    GetResponse::Upgrade(accept) => {
                        let Some(accept_value) = accept_value else {
                            return Ok(to_tide(text_response(400, "Not a WebSocket upgrade")));
                        };
                        let mut resp = tide::Response::new(101);
                        resp.insert_header("upgrade", "websocket");
                        resp.insert_header("connection", "Upgrade");
                        resp.insert_header("sec-websocket-accept", accept_value);
                        let http_resp: &mut tide::http::Response = resp.as_mut();
                        let upgrade = http_resp.recv_upgrade().await;
                        let chsk = self.chsk.clone();
                        async_std::task::spawn(async move {
                            if let Some(conn) = upgrade.await {
                                chsk.serve_websocket(accept, WsChannel::new(conn, max))
                                    .await;
                            }
                        });
                        Ok(resp)
                    }
                }
            }
            tide::http::Method::Post => {
                match self.chsk.read_post_body(&head, req.take_body()).await {
                    Ok(body) => Ok(to_tide(self.chsk.handle_post(head, &body).await)),
                    Err(refused) => Ok(to_tide(refused)),
                }
            }
            _ => Ok(to_tide(text_response(
                405,
                "The channel socket takes GET and POST",
            ))),
        }
    }
}

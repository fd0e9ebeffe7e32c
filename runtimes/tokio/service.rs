//! The channel socket as a tower [`Service`](tower_service::Service) on
//! hyper's upgrades: mount it in axum, hyper-util or any tower-based server
//! on hyper's HTTP/1.1.

use std::convert::Infallible;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::rt::TokioIo;

use crate::runtime::BoxFuture;
use crate::runtimes::hyper_handler;
use crate::runtimes::hyper_io::{HyperIo, Reclaimed};
use crate::server::ChannelSocketServer;
use crate::ws::WsChannel;

/// The response body type.
pub type Body = Full<Bytes>;
/// The response type of [`handle`] and [`ChskService`].
pub type Response = http::Response<Body>;

/// Serves the channel socket for one request on its path: GET (WebSocket
/// upgrade, Ajax handshake or long-poll) and POST (Ajax events, the body
/// read under the server's bounds: 413, 408, 503); other methods get 405.
/// The request's extensions (your middleware's session, user, state) reach
/// the server's functions in [`ChskRequest`](crate::server::ChskRequest).
///
/// A WebSocket upgrade needs a connection served by hyper's HTTP/1.1 with
/// upgrades (axum's `serve`, hyper-util's builders): its socket is taken
/// from the request's extensions, and the connection's task spawned on the
/// server's [`runtime`](ChannelSocketServer::runtime). Without one the
/// upgrade is answered 500.
pub async fn handle<B>(chsk: &ChannelSocketServer, req: http::Request<B>) -> Response
where
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let max = chsk.options().max_message_size;
    let server = chsk.clone();
    hyper_handler::handle(chsk, req, move |on_upgrade, accept| {
        let runtime = server.runtime().clone();
        // This task ends once the upgrade is through; the connection gets
        // a task of its own holding only its state.
        runtime.clone().spawn(Box::pin(async move {
            let upgraded = match on_upgrade.await {
                Ok(u) => u,
                Err(e) => return tracing::info!(error = %e, "WebSocket upgrade failed"),
            };
            // Take the TCP stream back from hyper when it is a plain tokio
            // one (axum's `serve`): hyper's read buffer then goes.
            match upgraded.downcast::<TokioIo<tokio::net::TcpStream>>() {
                Ok(parts) => {
                    let hyper::upgrade::Parts { io, read_buf, .. } = parts;
                    let io = Reclaimed::new(read_buf, HyperIo(io));
                    runtime.spawn(Box::pin(
                        server.serve_websocket(accept, WsChannel::new(io, max)),
                    ));
                }
                Err(upgraded) => {
                    let io = HyperIo(upgraded);
                    runtime.spawn(Box::pin(
                        server.serve_websocket(accept, WsChannel::new(io, max)),
                    ));
                }
            }
        }));
    })
    .await
}

/// The channel socket as a tower `Service` for any request body hyper
/// can stream: [`handle`] for every request. Never fails (the error type
/// is [`Infallible`]); always ready.
///
/// In axum: `Router::new().route_service("/chsk", ChskService::new(chsk))`
/// (or [`router`](crate::runtimes::axum::router) with the `axum` feature).
#[derive(Debug, Clone)]
pub struct ChskService {
    chsk: ChannelSocketServer,
}

impl ChskService {
    /// A service for this server.
    pub fn new(chsk: ChannelSocketServer) -> Self {
        Self { chsk }
    }

    /// The server it serves.
    pub fn server(&self) -> &ChannelSocketServer {
        &self.chsk
    }
}

impl<B> tower_service::Service<http::Request<B>> for ChskService
where
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<Result<Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let chsk = self.chsk.clone();
        Box::pin(async move { Ok(handle(&chsk, req).await) })
    }
}

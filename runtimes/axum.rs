//! The axum plug: the channel socket as a [`Router`](axum::Router) to merge
//! into your app, beside your own routes, under your own middleware.
//!
//! Your middleware reaches the server's functions through the request:
//! what it puts in the request's extensions (a session, the user, your
//! state) is in [`ChskRequest::head`](crate::server::ChskRequest)`.extensions`
//! for `user_id_fn`, the handshake-data function and the reject and
//! authorization hooks; [`SessionUid`](crate::server::SessionUid) there
//! is the default user id.
//!
//! ```no_run
//! use axum::routing::get;
//! use sente::packer::EdnPacker;
//! use sente::runtimes::tokio::TokioRuntime;
//! use sente::server::{ChannelSocketServer, CsrfCheck, ServerOptions};
//!
//! #[tokio::main]
//! async fn main() -> std::io::Result<()> {
//!     let opts = ServerOptions::default().csrf(CsrfCheck::Skip);
//!     let (chsk, events) =
//!         ChannelSocketServer::new(TokioRuntime::current(), EdnPacker::new(), opts)
//!             .expect("valid options");
//!     tokio::spawn(async move {
//!         while let Ok(msg) = events.recv().await {
//!             let _ = msg.reply(msg.data().clone());
//!         }
//!     });
//!     let app = axum::Router::new()
//!         .route("/", get(|| async { "hello" }))
//!         .merge(sente::runtimes::axum::router("/chsk", chsk));
//!     let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//!     axum::serve(listener, app).await
//! }
//! ```

use crate::runtimes::tokio::ChskService;
use crate::server::ChannelSocketServer;

/// A router serving the channel socket at `path` for GET and POST (other
/// methods get 405), for any state type, so it merges into your app's
/// router: see the [module docs](self). WebSockets need the app served by
/// `axum::serve` (or another server on hyper's HTTP/1.1 with upgrades).
///
/// # Panics
/// As [`Router::route_service`](axum::Router::route_service): when `path`
/// is not a valid route (it must start with `/`).
pub fn router<S>(path: &str, chsk: ChannelSocketServer) -> axum::Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    axum::Router::new().route_service(path, ChskService::new(chsk))
}

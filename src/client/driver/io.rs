//! The driver's I/O tasks: one per WebSocket, one per Ajax request. They
//! build the requests, move bytes through the [`ClientTransport`] and report
//! what happened to the core.
//!
//! [`ClientTransport`]: crate::client::ClientTransport

use std::sync::Weak;
use std::time::Duration;

use futures_util::future::{Either, select};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};

use super::host::{Host, WsEnd, app_caught_up};
use super::requests;
use crate::channel::Outbound;
use crate::client::transport::{AjaxResponse, ClientWebSocket, WsIncoming};
use crate::client::types::{AjaxError, RequestId, SocketId};
use crate::codec::{Packed, PackedRef};

/// How long a close we started waits for the server's close frame before
/// the socket counts as closed uncleanly.
const CLOSE_HANDSHAKE_WAIT: Duration = Duration::from_secs(2);

/// A connected socket, borrowed (`Box<dyn Sink>` is not a `Sink` here).
type Socket<'a> = &'a mut dyn ClientWebSocket;

/// One WebSocket: connect, then read and write until it closes; report the
/// close (and any error before it).
pub(super) async fn run_ws<H: Host>(
    host: Weak<H>,
    socket: SocketId,
    frames: async_channel::Receiver<Outbound>,
    kill: async_channel::Receiver<()>,
) {
    let end = drive_ws(&host, socket, &frames, &kill).await;
    tracing::debug!(socket = socket.get(), ?end, "WebSocket ended");
    if let Some(h) = host.upgrade() {
        h.ws_ended(socket, &end);
    }
}

async fn drive_ws<H: Host>(
    host: &Weak<H>,
    socket: SocketId,
    frames: &async_channel::Receiver<Outbound>,
    kill: &async_channel::Receiver<()>,
) -> WsEnd {
    let Some(h) = host.upgrade() else {
        return WsEnd::lost(false);
    };
    let cx = h.context();
    let csrf = cx.options.current_csrf_token();
    let request = requests::ws_request(&cx.options, &cx.options.config.client_id, csrf.as_deref());
    let (transport, runtime, max) = (
        cx.transport.clone(),
        cx.runtime.clone(),
        cx.options.max_message_size,
    );
    drop(h);
    let request = match request {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "cannot build the WebSocket request");
            return WsEnd::lost(true);
        }
    };
    let mut connecting = transport.connect_ws(request);
    // Frames asked for while connecting: only a close is expected.
    let mut early = Vec::new();
    let mut ws: Box<dyn ClientWebSocket> = loop {
        let stop = std::pin::pin!(async {
            let killed = std::pin::pin!(kill.recv());
            let frame = std::pin::pin!(frames.recv());
            match select(killed, frame).await {
                Either::Left(_) | Either::Right((Err(_), _)) => None,
                Either::Right((Ok(frame), _)) => Some(frame),
            }
        });
        match select(&mut connecting, stop).await {
            Either::Left((Ok(ws), _)) => break ws,
            Either::Left((Err(e), _)) => {
                tracing::info!(error = %e, "WebSocket connection failed");
                return WsEnd::lost(true);
            }
            Either::Right((Some(Outbound::Message(m)), _)) => early.push(Outbound::Message(m)),
            // Closed (or killed) before it opened, as a browser's CONNECTING socket.
            Either::Right((Some(Outbound::Close { .. }) | None, _)) => return WsEnd::lost(false),
        }
    };
    let socket_ref: Socket<'_> = &mut *ws;
    let (mut sink, mut stream) = socket_ref.split();
    let reader = std::pin::pin!(read_frames(host, socket, &mut stream, max));
    let writer = std::pin::pin!(write_frames(&mut sink, frames, kill, early));
    match select(reader, writer).await {
        Either::Left((end, _)) => end,
        Either::Right((WriterEnd::Closed, reader)) => {
            let wait = match runtime.now().checked_add(CLOSE_HANDSHAKE_WAIT) {
                Some(deadline) => runtime.sleep_until(deadline),
                None => Box::pin(futures_util::future::pending()),
            };
            match select(reader, wait).await {
                Either::Left((end, _)) => end,
                Either::Right(_) => WsEnd::lost(false),
            }
        }
        Either::Right((WriterEnd::Failed, _)) => WsEnd {
            send_failed: true,
            ..WsEnd::lost(false)
        },
        Either::Right((WriterEnd::Stopped, _)) => WsEnd::lost(false),
    }
}

/// Reads until the stream ends: each message goes to the core, then waits
/// for the application to take the events (backpressure).
async fn read_frames<H: Host>(
    host: &Weak<H>,
    socket: SocketId,
    stream: &mut SplitStream<Socket<'_>>,
    max: usize,
) -> WsEnd {
    let mut close: Option<(u16, String)> = None;
    while let Some(item) = stream.next().await {
        match item {
            Ok(WsIncoming::Message(packed)) if close.is_none() => {
                if packed.len() > max {
                    tracing::warn!(
                        len = packed.len(),
                        max,
                        "message too large: dropping the WebSocket"
                    );
                    return WsEnd {
                        code: 1009,
                        ..WsEnd::lost(false)
                    };
                }
                if let Some(h) = host.upgrade() {
                    h.ws_message(socket, packed.as_ref());
                }
                app_caught_up(host).await;
            }
            Ok(WsIncoming::Message(_)) => {}
            Ok(WsIncoming::Closed { code, reason }) => close = Some((code, reason)),
            Err(e) if close.is_none() => {
                tracing::info!(error = %e, "WebSocket failed");
                return WsEnd::lost(true);
            }
            Err(_) => break,
        }
    }
    match close {
        Some((code, reason)) => WsEnd {
            error: false,
            send_failed: false,
            code,
            reason,
            clean: true,
        },
        None => WsEnd::lost(false),
    }
}

#[derive(Debug)]
enum WriterEnd {
    /// A close frame went out.
    Closed,
    /// A write failed.
    Failed,
    /// Killed, or the client is gone.
    Stopped,
}

/// Writes queued frames (coalescing what is queued into one flush) until a
/// close frame, a failure, a kill or the end of the queue.
async fn write_frames(
    sink: &mut SplitSink<Socket<'_>, Outbound>,
    frames: &async_channel::Receiver<Outbound>,
    kill: &async_channel::Receiver<()>,
    early: Vec<Outbound>,
) -> WriterEnd {
    let mut backlog = std::collections::VecDeque::from(early);
    loop {
        let first = match backlog.pop_front() {
            Some(f) => f,
            None => {
                let killed = std::pin::pin!(kill.recv());
                let frame = std::pin::pin!(frames.recv());
                match select(killed, frame).await {
                    Either::Right((Ok(frame), _)) => frame,
                    _ => return WriterEnd::Stopped,
                }
            }
        };
        let mut closing = matches!(first, Outbound::Close { .. });
        if sink.feed(first).await.is_err() {
            return WriterEnd::Failed;
        }
        while !closing {
            let Some(frame) = backlog.pop_front().or_else(|| frames.try_recv().ok()) else {
                break;
            };
            closing = matches!(frame, Outbound::Close { .. });
            if sink.feed(frame).await.is_err() {
                return WriterEnd::Failed;
            }
        }
        if sink.flush().await.is_err() {
            return WriterEnd::Failed;
        }
        if closing {
            let _ = sink.close().await;
            return WriterEnd::Closed;
        }
    }
}

/// What an Ajax request is for.
#[derive(Debug)]
pub(super) enum AjaxKind {
    /// A long-poll (or handshake) GET.
    Poll {
        /// Ask for a handshake.
        handshake: bool,
    },
    /// An event POST.
    Post {
        /// `[event cb?]`, packed.
        payload: Packed,
    },
}

/// One Ajax request: performed unless aborted (its sender dropped), then
/// its outcome reported to the core.
pub(super) async fn run_ajax<H: Host>(
    host: Weak<H>,
    request: RequestId,
    kind: AjaxKind,
    udt: i64,
    timeout: Duration,
    abort: async_channel::Receiver<()>,
) {
    if matches!(kind, AjaxKind::Poll { .. }) {
        // Backpressure: no new poll while the application lags behind.
        let drained = std::pin::pin!(app_caught_up(&host));
        let aborted = std::pin::pin!(abort.recv());
        if let Either::Right(_) = select(drained, aborted).await {
            return;
        }
    }
    let Some(h) = host.upgrade() else { return };
    let cx = h.context();
    let csrf = cx.options.current_csrf_token();
    let client_id = cx.options.config.client_id.as_str();
    let built = match &kind {
        AjaxKind::Poll { handshake } => requests::poll_request(
            &cx.options,
            client_id,
            csrf.as_deref(),
            *handshake,
            udt,
            timeout,
        ),
        AjaxKind::Post { payload } => requests::post_request(
            &cx.options,
            client_id,
            csrf.as_deref(),
            payload,
            udt,
            timeout,
        ),
    };
    let (transport, binary) = (cx.transport.clone(), cx.binary);
    drop(h);
    let result = match built {
        Ok(req) => {
            let aborted = std::pin::pin!(abort.recv());
            match select(transport.ajax(req), aborted).await {
                Either::Left((result, _)) => result,
                Either::Right(_) => return,
            }
        }
        Err(e) => Err(AjaxError::Network(format!("cannot build the request: {e}"))),
    };
    if let Some(h) = host.upgrade() {
        let poll = matches!(kind, AjaxKind::Poll { .. });
        h.ajax_done(request, poll, body_of(&result, binary));
    }
}

/// A 2xx answer's body as the packer reads it (bytes for a binary packer,
/// text for a text one; a text body that is not UTF-8 is given as bytes,
/// which a text packer refuses); other statuses are errors.
fn body_of(
    result: &Result<AjaxResponse, AjaxError>,
    binary: bool,
) -> Result<PackedRef<'_>, AjaxError> {
    match result {
        Ok(resp) if (200..300).contains(&resp.status) => Ok(if binary {
            PackedRef::Binary(&resp.body)
        } else {
            match std::str::from_utf8(&resp.body) {
                Ok(text) => PackedRef::Text(text),
                Err(_) => PackedRef::Binary(&resp.body),
            }
        }),
        Ok(resp) => Err(AjaxError::Status(resp.status)),
        Err(e) => Err(e.clone()),
    }
}

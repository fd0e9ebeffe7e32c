//! [`WsChannel`]: the decoder and frame writer on a futures-io stream.

use std::cell::RefCell;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util::io::{AsyncRead, AsyncWrite};
use futures_util::{Sink, Stream};

use super::decoder::{Decoded, Decoder};
use super::frame::{OP_BINARY, OP_CLOSE, OP_PONG, OP_TEXT, close_payload, server_header};
use crate::channel::{ChannelError, Inbound, Outbound};
use crate::inline_deque::InlineDeque;
use crate::packer::Packed;

/// The per-thread scratch buffer that reads land in and small frames are
/// gathered in before a write: no connection owns one.
const SCRATCH_LEN: usize = 64 * 1024;
/// Reads in one poll before yielding to other tasks (a long message).
const READS_PER_POLL: usize = 16;
/// Frames queued in the channel before `poll_ready` writes some out.
const QUEUED_FRAMES: usize = 64;

thread_local! {
    static SCRATCH: RefCell<Vec<u8>> = RefCell::new(vec![0; SCRATCH_LEN]);
}

/// Runs `f` with this thread's scratch buffer (a fresh one if it is taken,
/// which no caller here does: the buffer is only used between two awaits).
fn with_scratch<R>(f: impl FnOnce(&mut [u8]) -> R) -> R {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => f(&mut buf),
        Err(_) => f(&mut vec![0; SCRATCH_LEN]),
    })
}

/// What one read gave.
enum ReadStep {
    /// A complete item.
    Item(Decoded),
    /// A partial one: read more.
    More,
    /// The end of the stream.
    End,
}

/// A frame waiting to be written: its header and a payload it shares.
#[derive(Debug)]
struct OutFrame {
    head: [u8; 10],
    head_len: u8,
    payload: OutPayload,
    /// Bytes of header + payload already written.
    written: usize,
}

#[derive(Debug)]
enum OutPayload {
    /// A data message, possibly shared with other connections.
    Shared(Arc<Packed>),
    /// A control frame's payload.
    Control(Vec<u8>),
}

impl OutFrame {
    fn new(opcode: u8, payload: OutPayload) -> Self {
        let len = match &payload {
            OutPayload::Shared(p) => p.len(),
            OutPayload::Control(c) => c.len(),
        };
        let (head, head_len) = server_header(opcode, len);
        Self {
            head,
            head_len,
            payload,
            written: 0,
        }
    }

    fn payload(&self) -> &[u8] {
        match &self.payload {
            OutPayload::Shared(p) => p.as_bytes(),
            OutPayload::Control(c) => c,
        }
    }

    fn len(&self) -> usize {
        usize::from(self.head_len) + self.payload().len()
    }

    /// The unwritten parts: what is left of the header, then of the payload.
    fn unwritten(&self) -> [&[u8]; 2] {
        let head_len = usize::from(self.head_len);
        if self.written < head_len {
            [&self.head[self.written..head_len], self.payload()]
        } else {
            [&[], &self.payload()[self.written - head_len..]]
        }
    }
}

/// A server-side WebSocket on an upgraded connection `S`, as a
/// [`ServerChannel`](crate::channel::ServerChannel).
///
/// Reading holds no buffer while the connection is idle (see the
/// [module docs](super)); writing queues frames that point at their
/// payloads and writes them with vectored writes, no copy. Pings are
/// answered with pongs, a client's close frame with a close frame (its
/// code echoed), and a protocol error ends the stream with a
/// [`ChannelError`] whose [`close_code`](ChannelError::close_code) says
/// which close frame to send. Nothing is written after a close frame.
///
/// ```
/// # fn check<S>(io: S) where S: futures_util::io::AsyncRead + futures_util::io::AsyncWrite + Send + Unpin + 'static {
/// use sente::channel::ServerChannel;
/// // `io`: the connection after your server answered the upgrade with 101.
/// let channel = sente::ws::WsChannel::new(io, 1024 * 1024);
/// fn is_server_channel(_: &impl ServerChannel) {}
/// is_server_channel(&channel);
/// # }
/// ```
#[derive(Debug)]
pub struct WsChannel<S> {
    io: S,
    decoder: Decoder,
    /// Bytes read past the item last returned (two frames in one read),
    /// decoded from `unparsed_at` on; at most one read's worth.
    unparsed: Vec<u8>,
    unparsed_at: usize,
    out: InlineDeque<OutFrame>,
    /// The stream has ended (close frame, end of input, or error).
    read_done: bool,
    /// A close frame is queued: nothing more may be.
    close_queued: bool,
}

impl<S> WsChannel<S> {
    /// A channel on `io`, an upgraded connection whose handshake is done,
    /// refusing messages larger than `max_message_size` bytes (close 1009).
    pub fn new(io: S, max_message_size: usize) -> Self {
        Self {
            io,
            decoder: Decoder::new(max_message_size),
            unparsed: Vec::new(),
            unparsed_at: 0,
            out: InlineDeque::default(),
            read_done: false,
            close_queued: false,
        }
    }

    /// The connection, for its address or options.
    pub fn get_ref(&self) -> &S {
        &self.io
    }

    /// The connection, mutably. Reading or writing it directly corrupts the
    /// WebSocket stream.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.io
    }

    fn queue(&mut self, opcode: u8, payload: OutPayload) {
        if self.close_queued {
            return;
        }
        if opcode == OP_CLOSE {
            self.close_queued = true;
        }
        self.out.push_back(OutFrame::new(opcode, payload));
    }
}

impl<S: AsyncWrite + Unpin> WsChannel<S> {
    /// Writes queued frames until none is left. Small frames are gathered
    /// into one contiguous write (many streams write only the first slice
    /// of a vectored write); a frame larger than the scratch buffer is
    /// written from its payload directly.
    fn poll_write_out(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some(front) = self.out.front() {
            let io = &mut self.io;
            let out = &self.out;
            let poll = with_scratch(|scratch| {
                if front.len() - front.written > scratch.len() {
                    let [head, payload] = front.unwritten();
                    let slices = [IoSlice::new(head), IoSlice::new(payload)];
                    return Pin::new(&mut *io).poll_write_vectored(cx, &slices);
                }
                let mut filled = 0;
                for frame in out.iter() {
                    let [head, payload] = frame.unwritten();
                    if filled + head.len() + payload.len() > scratch.len() {
                        break;
                    }
                    for part in [head, payload] {
                        scratch[filled..filled + part.len()].copy_from_slice(part);
                        filled += part.len();
                    }
                }
                Pin::new(&mut *io).poll_write(cx, &scratch[..filled])
            });
            let mut written = match poll {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(w)) => w,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            };
            while written > 0 {
                let Some(frame) = self.out.front_mut() else {
                    break;
                };
                let left = frame.len() - frame.written;
                if written >= left {
                    written -= left;
                    self.out.pop_front();
                } else {
                    frame.written += written;
                    written = 0;
                }
            }
        }
        Poll::Ready(Ok(()))
    }

    /// Handles a decoded control item; returns what the stream yields, if anything.
    fn on_decoded(&mut self, item: Decoded) -> Option<Inbound> {
        match item {
            Decoded::Message(p) => Some(Inbound::Message(p)),
            Decoded::Ping(payload) => {
                // One pong answers every ping not yet answered (RFC 6455
                // 5.5.3): a ping flood cannot grow the queue.
                let unsent = self
                    .out
                    .iter_mut()
                    .find(|f| f.written == 0 && f.head[0] == 0x80 | OP_PONG);
                match unsent {
                    Some(pong) => *pong = OutFrame::new(OP_PONG, OutPayload::Control(payload)),
                    None => self.queue(OP_PONG, OutPayload::Control(payload)),
                }
                None
            }
            Decoded::Pong(_) => None,
            Decoded::Close { code, .. } => {
                let payload = code.map(|c| c.to_be_bytes().to_vec()).unwrap_or_default();
                self.queue(OP_CLOSE, OutPayload::Control(payload));
                self.read_done = true;
                Some(Inbound::Closed)
            }
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Stream for WsChannel<S> {
    type Item = Result<Inbound, ChannelError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let result = this.poll_inbound(cx);
        // Pongs and the close answer go out as soon as they are queued;
        // what does not fit now goes with the next write.
        if !this.out.is_empty()
            && let Poll::Ready(Err(e)) = this.poll_write_out(cx)
            && !matches!(result, Poll::Ready(Some(_)))
        {
            this.read_done = true;
            return Poll::Ready(Some(Err(ChannelError::new(e))));
        }
        result
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> WsChannel<S> {
    fn poll_inbound(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Inbound, ChannelError>>> {
        if self.read_done {
            return Poll::Ready(None);
        }
        for _ in 0..READS_PER_POLL {
            // Bytes left over from an earlier read come first.
            while self.unparsed_at < self.unparsed.len() {
                let (used, item) = match self.decoder.decode(&self.unparsed[self.unparsed_at..]) {
                    Ok(x) => x,
                    Err(e) => {
                        self.read_done = true;
                        return Poll::Ready(Some(Err(ChannelError::new(e))));
                    }
                };
                self.unparsed_at += used;
                if self.unparsed_at == self.unparsed.len() {
                    self.unparsed = Vec::new();
                    self.unparsed_at = 0;
                }
                if let Some(inbound) = item.and_then(|i| self.on_decoded(i)) {
                    return Poll::Ready(Some(Ok(inbound)));
                }
            }
            let io = &mut self.io;
            let decoder = &mut self.decoder;
            let unparsed = &mut self.unparsed;
            let step = with_scratch(|chunk| {
                let n = match Pin::new(&mut *io).poll_read(cx, chunk) {
                    Poll::Ready(Ok(n)) => n,
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(ChannelError::new(e))),
                    Poll::Pending => return Poll::Pending,
                };
                if n == 0 {
                    return Poll::Ready(Ok(ReadStep::End));
                }
                // The decoder takes all of the input unless an item completes.
                let (used, item) = decoder.decode(&chunk[..n]).map_err(ChannelError::new)?;
                Poll::Ready(Ok(match item {
                    Some(item) => {
                        // Bytes past this item wait for the next poll.
                        unparsed.extend_from_slice(&chunk[used..n]);
                        ReadStep::Item(item)
                    }
                    None => ReadStep::More,
                }))
            });
            match step {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => {
                    self.read_done = true;
                    return Poll::Ready(Some(Err(e)));
                }
                Poll::Ready(Ok(ReadStep::End)) => {
                    self.read_done = true;
                    return Poll::Ready(Some(Ok(Inbound::Closed)));
                }
                Poll::Ready(Ok(ReadStep::More)) => {}
                Poll::Ready(Ok(ReadStep::Item(item))) => {
                    if let Some(inbound) = self.on_decoded(item) {
                        return Poll::Ready(Some(Ok(inbound)));
                    }
                    // A control frame: go on with what was read after it.
                }
            }
        }
        // A long message: let other tasks run, then go on.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Sink<Outbound> for WsChannel<S> {
    type Error = ChannelError;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), ChannelError>> {
        let this = self.get_mut();
        if this.out.len() >= QUEUED_FRAMES {
            futures_util::ready!(this.poll_write_out(cx)).map_err(ChannelError::new)?;
        }
        Poll::Ready(Ok(()))
    }

    fn start_send(self: Pin<&mut Self>, item: Outbound) -> Result<(), ChannelError> {
        let this = self.get_mut();
        if this.close_queued {
            return Err(ChannelError::new(io::Error::new(
                io::ErrorKind::NotConnected,
                "WebSocket closed: nothing is sent after a close frame",
            )));
        }
        match item {
            Outbound::Message(p) => {
                let opcode = if p.is_binary() { OP_BINARY } else { OP_TEXT };
                this.queue(opcode, OutPayload::Shared(p));
            }
            Outbound::Close { code, reason } => {
                this.queue(OP_CLOSE, OutPayload::Control(close_payload(code, reason)));
            }
        }
        Ok(())
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), ChannelError>> {
        let this = self.get_mut();
        futures_util::ready!(this.poll_write_out(cx)).map_err(ChannelError::new)?;
        Pin::new(&mut this.io)
            .poll_flush(cx)
            .map_err(ChannelError::new)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), ChannelError>> {
        let this = self.get_mut();
        futures_util::ready!(this.poll_write_out(cx)).map_err(ChannelError::new)?;
        Pin::new(&mut this.io)
            .poll_close(cx)
            .map_err(ChannelError::new)
    }
}

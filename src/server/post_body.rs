//! Reading an Ajax POST's body under the server's bounds: its size (413,
//! from `Content-Length` before any of it is read), its time (408), and the
//! memory all unfinished bodies hold together (503).

use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures_util::future::{Either, select};
use futures_util::{AsyncRead, AsyncReadExt};

use super::driver::ChannelSocketServer;
use super::security::{HttpResponse, text_response};

/// The most a body grows by per read.
const READ_STEP: usize = 16 * 1024;

/// The bytes held by POST bodies still being received, server-wide.
#[derive(Debug)]
pub(crate) struct BodyBudget {
    held: AtomicUsize,
    limit: usize,
}

/// Bytes taken from a [`BodyBudget`], given back when dropped.
#[derive(Debug)]
struct Reservation<'a> {
    budget: &'a BodyBudget,
    bytes: usize,
}

impl BodyBudget {
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            held: AtomicUsize::new(0),
            limit,
        }
    }

    /// Bytes held now.
    pub(crate) fn held(&self) -> usize {
        self.held.load(Ordering::Acquire)
    }

    fn reserve(&self, bytes: usize) -> Option<Reservation<'_>> {
        let mut r = Reservation {
            budget: self,
            bytes: 0,
        };
        r.grow(bytes).then_some(r)
    }
}

impl Reservation<'_> {
    /// Takes `more` bytes from the budget; false (and nothing taken) when
    /// they do not fit.
    fn grow(&mut self, more: usize) -> bool {
        let fits = self
            .budget
            .held
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |held| {
                held.checked_add(more).filter(|&n| n <= self.budget.limit)
            })
            .is_ok();
        if fits {
            self.bytes += more;
        }
        fits
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        self.budget.held.fetch_sub(self.bytes, Ordering::AcqRel);
    }
}

fn too_large(max: usize) -> HttpResponse {
    text_response(413, &format!("The body is larger than {max} bytes"))
}

fn too_busy() -> HttpResponse {
    let mut resp = text_response(503, "Too many request bodies in flight; try again");
    resp.headers_mut().insert(
        http::header::RETRY_AFTER,
        http::HeaderValue::from_static("1"),
    );
    resp
}

/// The request's `Content-Length`, when it has a valid one.
fn content_length(head: &http::request::Parts) -> Option<u64> {
    head.headers
        .get(http::header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

impl ChannelSocketServer {
    /// Reads an Ajax POST's body for [`handle_post`](Self::handle_post),
    /// within the server's bounds; for adapters (the smol and tide plugs
    /// use it).
    ///
    /// * A `Content-Length` above `max_message_size` is answered 413 before
    ///   any of the body is read; so is a body without one that grows past it.
    /// * The body must arrive within `post_body_timeout` (408 otherwise), so
    ///   a client cannot hold a request open by sending it slowly.
    /// * All bodies being received hold at most `max_pending_post_bytes`
    ///   together: a body that would go past it is answered 503 with
    ///   `Retry-After: 1`. Its `Content-Length` is reserved at once.
    ///
    /// # Errors
    /// The response to send instead of calling `handle_post` (413, 408,
    /// 503, or 400 when reading the body fails).
    pub async fn read_post_body<R: AsyncRead + Unpin>(
        &self,
        head: &http::request::Parts,
        mut body: R,
    ) -> Result<Vec<u8>, HttpResponse> {
        let opts = &self.shared.options;
        let max = opts.max_message_size;
        let declared = content_length(head);
        if declared.is_some_and(|n| n > max as u64) {
            tracing::info!(declared, max, "POST refused: Content-Length over the limit");
            return Err(too_large(max));
        }
        let budget = &self.shared.post_bodies;
        let declared = declared.map(|n| n as usize);
        let Some(mut reservation) = budget.reserve(declared.unwrap_or(0)) else {
            tracing::warn!(
                held = budget.held(),
                "POST refused: request bodies in flight are over the limit"
            );
            return Err(too_busy());
        };
        let read = async {
            let limit = declared.unwrap_or(max);
            let mut out: Vec<u8> = Vec::new();
            out.reserve_exact(declared.unwrap_or(0));
            loop {
                let start = out.len();
                if start == limit {
                    // All that may come has come: the body must end here.
                    let mut probe = [0u8; 1];
                    return match body.read(&mut probe).await {
                        Ok(0) => Ok(out),
                        Ok(_) if declared.is_none() => Err(too_large(max)),
                        Ok(_) => Err(text_response(
                            400,
                            "The body is longer than its Content-Length",
                        )),
                        Err(e) => Err(text_response(400, &format!("Could not read the body: {e}"))),
                    };
                }
                out.resize(start + READ_STEP.min(limit - start), 0);
                if out.capacity() > reservation.bytes
                    && !reservation.grow(out.capacity() - reservation.bytes)
                {
                    tracing::warn!(
                        held = budget.held(),
                        "POST refused: request bodies in flight are over the limit"
                    );
                    return Err(too_busy());
                }
                match body.read(&mut out[start..]).await {
                    Ok(0) => {
                        out.truncate(start);
                        return Ok(out);
                    }
                    Ok(n) => out.truncate(start + n),
                    Err(e) => {
                        return Err(text_response(400, &format!("Could not read the body: {e}")));
                    }
                }
            }
        };
        let deadline = self
            .shared
            .runtime
            .sleep_until(self.shared.runtime.now() + opts.post_body_timeout);
        match select(pin!(read), deadline).await {
            Either::Left((result, _)) => result,
            Either::Right(((), _)) => {
                tracing::info!(
                    timeout_ms = opts.post_body_timeout.as_millis() as u64,
                    "POST refused: the body did not arrive in time"
                );
                Err(text_response(
                    408,
                    "The request body did not arrive in time",
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_reserves_only_what_fits_and_gives_it_back() {
        let budget = BodyBudget::new(100);
        let mut a = budget.reserve(60).expect("fits");
        assert!(budget.reserve(41).is_none(), "over the limit");
        let b = budget.reserve(40).expect("fits exactly");
        assert_eq!(budget.held(), 100);
        assert!(!a.grow(1), "full");
        drop(b);
        assert!(a.grow(40));
        assert_eq!(budget.held(), 100);
        drop(a);
        assert_eq!(budget.held(), 0);
    }
}

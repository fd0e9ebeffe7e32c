//! Deep values on a stack sized for them.
//!
//! The packers' readers and writers recurse once per level of nesting, and
//! a level costs from about 130 to 900 bytes of stack in release builds and
//! from 1.7 to 5.9 KiB in debug builds (measured by `tests/stack_depth.rs`).
//! [`crate::edn::DEFAULT_MAX_DEPTH`] levels would therefore not fit a 2 MiB
//! thread (what a spawned std thread, a tokio worker or an async-executor
//! thread gets) in a debug build.
//!
//! So a packer first does its work on the caller's stack with the limit
//! [`INLINE_DEPTH`], which every message of ordinary shape meets. Only when
//! that attempt fails for being too deep is the work done again, with the
//! real limit, on a thread whose stack is sized for that limit
//! ([`STACK_PER_LEVEL`] per level): a deep message costs a second pass and a
//! thread, a shallow one nothing. The limit itself is capped at
//! [`crate::edn::MAX_DEPTH_CEILING`], so the stack asked for is bounded.

use crate::codec::{MAX_DEPTH_CEILING, PackError, UnpackError, UnpackErrorKind};

/// The nesting done on the caller's stack: at most 64 × 5.9 KiB = 378 KiB
/// in a debug build, 58 KiB in release.
pub(crate) const INLINE_DEPTH: usize = 64;

/// The stack given to each level on the deep thread: above the worst level
/// measured in a debug build (5.9 KiB).
const STACK_PER_LEVEL: usize = 8 * 1024;

/// The deep thread's stack besides the levels.
const STACK_BASE: usize = 256 * 1024;

/// `max_depth`, lowered to [`MAX_DEPTH_CEILING`].
pub(crate) const fn capped(max_depth: usize) -> usize {
    if max_depth < MAX_DEPTH_CEILING {
        max_depth
    } else {
        MAX_DEPTH_CEILING
    }
}

/// Runs `work(limit)` with `limit = max_depth` (capped at the ceiling), on
/// the caller's stack when the work nests at most [`INLINE_DEPTH`] levels,
/// else on a thread with a stack sized for `max_depth` levels.
///
/// `too_deep` tells a depth error of `work`; `no_thread` is the error when
/// the thread cannot be started (then the value is refused, never read on a
/// stack too small for it).
pub(crate) fn run<T: Send, E: Send>(
    max_depth: usize,
    work: impl Fn(usize) -> Result<T, E> + Sync,
    too_deep: impl Fn(&E) -> bool,
    no_thread: impl FnOnce(std::io::Error) -> E,
) -> Result<T, E> {
    let max_depth = capped(max_depth);
    if max_depth <= INLINE_DEPTH {
        return work(max_depth);
    }
    match work(INLINE_DEPTH) {
        Err(e) if too_deep(&e) => on_deep_stack(max_depth, work, no_thread),
        done => done,
    }
}

/// The rest of [`run`] for work deeper than [`INLINE_DEPTH`]: out of line,
/// so that the common path stays small.
#[cold]
#[inline(never)]
fn on_deep_stack<T: Send, E: Send>(
    max_depth: usize,
    work: impl Fn(usize) -> Result<T, E> + Sync,
    no_thread: impl FnOnce(std::io::Error) -> E,
) -> Result<T, E> {
    let stack = STACK_BASE + max_depth * STACK_PER_LEVEL;
    std::thread::scope(|scope| {
        let spawned = std::thread::Builder::new()
            .name("sente-deep-value".into())
            .stack_size(stack)
            .spawn_scoped(scope, || work(max_depth));
        match spawned {
            Ok(thread) => thread
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            Err(e) => Err(no_thread(e)),
        }
    })
}

/// [`run`] for a reader of `packer` (its depth errors are
/// [`UnpackErrorKind::TooDeep`]).
pub(crate) fn unpack<T: Send>(
    packer: &'static str,
    max_depth: usize,
    work: impl Fn(usize) -> Result<T, UnpackError> + Sync,
) -> Result<T, UnpackError> {
    run(
        max_depth,
        work,
        |e| e.kind() == UnpackErrorKind::TooDeep,
        |e| {
            UnpackError::new(
                packer,
                UnpackErrorKind::TooDeep,
                None,
                format!(
                    "more than {INLINE_DEPTH} levels are read on a thread of their own, which could not start: {e}"
                ),
            )
        },
    )
}

/// [`run`] for a writer (its depth errors are [`PackError::TooDeep`]).
pub(crate) fn pack<T: Send>(
    max_depth: usize,
    work: impl Fn(usize) -> Result<T, PackError> + Sync,
) -> Result<T, PackError> {
    run(
        max_depth,
        work,
        |e| matches!(e, PackError::TooDeep { .. }),
        |_| PackError::TooDeep {
            limit: INLINE_DEPTH,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shallow_work_stays_on_the_callers_thread_and_deep_work_moves() {
        let caller = std::thread::current().id();
        let on = |needed: usize| {
            run(
                1000,
                |limit| {
                    if needed > limit {
                        Err(true)
                    } else {
                        Ok(std::thread::current().id())
                    }
                },
                |e| *e,
                |_| false,
            )
        };
        assert_eq!(on(10), Ok(caller));
        assert_eq!(on(INLINE_DEPTH), Ok(caller));
        assert!(matches!(on(INLINE_DEPTH + 1), Ok(id) if id != caller));
        assert_eq!(on(1001), Err(true));
        // Other errors are final at once.
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let r: Result<(), bool> = run(
            1000,
            |_| {
                calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                Err(false)
            },
            |e| *e,
            |_| true,
        );
        assert_eq!(r, Err(false));
        assert_eq!(calls.into_inner(), 1);
    }
}

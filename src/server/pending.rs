//! What waits for one client: push batches packed for it while it has no
//! channel (an Ajax client between polls, a WebSocket client within its
//! reconnect grace), bounded in bytes.

use std::collections::VecDeque;
use std::sync::Arc;

use crate::packer::Packed;

/// What a waiting batch counts for besides its payload.
const BATCH_OVERHEAD: usize = 64;

fn cost(batch: &Packed) -> usize {
    batch.len() + BATCH_OVERHEAD
}

/// Batches waiting for a client, oldest first, each with its event count.
#[derive(Debug, Default)]
pub(crate) struct PendingBatches {
    batches: VecDeque<(Arc<Packed>, usize)>,
    bytes: usize,
}

impl PendingBatches {
    /// Keeps a batch of `events` events, dropping the oldest batches while
    /// the total would pass `limit` bytes (the newest batch is always kept).
    /// Returns the event counts of the dropped batches, oldest first.
    pub(crate) fn push(&mut self, batch: Arc<Packed>, events: usize, limit: usize) -> Vec<usize> {
        let cost = cost(&batch);
        let mut dropped = Vec::new();
        while !self.batches.is_empty() && self.bytes + cost > limit {
            if let Some((_, n)) = self.pop_front() {
                dropped.push(n);
            }
        }
        self.bytes += cost;
        self.batches.push_back((batch, events));
        dropped
    }

    /// The oldest batch and its event count.
    pub(crate) fn pop_front(&mut self) -> Option<(Arc<Packed>, usize)> {
        let (batch, n) = self.batches.pop_front()?;
        self.bytes -= cost(&batch);
        Some((batch, n))
    }

    /// Takes every batch, oldest first.
    pub(crate) fn take_all(&mut self) -> VecDeque<(Arc<Packed>, usize)> {
        self.bytes = 0;
        std::mem::take(&mut self.batches)
    }

    /// The bytes the batches count for.
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(len: usize) -> Arc<Packed> {
        Arc::new(Packed::Text("x".repeat(len)))
    }

    #[test]
    fn the_oldest_batches_go_first_and_the_newest_always_stays() {
        let mut p = PendingBatches::default();
        let limit = 2 * (100 + BATCH_OVERHEAD);
        assert!(p.push(batch(100), 1, limit).is_empty());
        assert!(p.push(batch(100), 2, limit).is_empty());
        assert_eq!(p.push(batch(100), 3, limit), [1]);
        assert_eq!(
            p.push(batch(1_000), 4, limit),
            [2, 3],
            "larger than the bound alone"
        );
        assert_eq!(p.bytes(), 1_000 + BATCH_OVERHEAD);
        assert_eq!(p.pop_front().map(|(_, n)| n), Some(4));
        assert_eq!(p.bytes(), 0);
        assert!(p.pop_front().is_none());
    }
}

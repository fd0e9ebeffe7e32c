//! Sente's reconnect backoff (encore's `exp-backoff`) and the small seedable
//! random number generator the client core draws from.

use std::time::Duration;

/// Sente's default backoff, encore's `exp-backoff` without bounds: for
/// attempt `n`, with `b = 2^min(n, 36)`, waits `floor((b + u·b) · 0.5 · 1000)`
/// ms, `u` uniform in `[0, 1)`: uniform in `[b·500, b·1000)` ms, uncapped.
///
/// The client calls it from the second attempt on (the first retry is
/// immediate), so the waits are 2–4 s, 4–8 s, 8–16 s, … `uniform` is called
/// once; a value outside `[0, 1]` (or NaN) is clamped.
///
/// ```
/// use std::time::Duration;
/// use sente::client::exp_backoff;
/// assert_eq!(exp_backoff(2, &mut || 0.0), Duration::from_millis(2000));
/// assert_eq!(exp_backoff(3, &mut || 0.5), Duration::from_millis(6000));
/// assert_eq!(exp_backoff(99, &mut || 0.0), exp_backoff(36, &mut || 0.0));
/// ```
pub fn exp_backoff(attempt: u32, uniform: &mut dyn FnMut() -> f64) -> Duration {
    let b = (1u64 << attempt.min(36)) as f64;
    let u = uniform();
    let u = if u.is_nan() { 0.0 } else { u.clamp(0.0, 1.0) };
    let ms = ((b + u * b) * 0.5 * 1000.0).floor();
    // At most 2^37 · 500 ms: far below u64::MAX, and `as` saturates anyway.
    Duration::from_millis(ms as u64)
}

/// A small, fast, seedable pseudo-random generator (xorshift64*, seeded
/// through splitmix64). Not cryptographic: the client uses it for backoff
/// jitter, callback ids and the simulated bad-connection rate, and a fixed
/// seed makes all three reproducible in tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XorShift64 {
    state: u64,
}

impl XorShift64 {
    /// A generator whose whole sequence is determined by `seed` (any value,
    /// zero included).
    pub fn new(seed: u64) -> Self {
        // splitmix64 spreads close seeds apart and never yields the
        // all-zero state xorshift cannot leave.
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        Self {
            state: if z == 0 { 0x2545_F491_4F6C_DD1D } else { z },
        }
    }

    /// A generator seeded from the operating system's randomness.
    pub fn from_entropy() -> Self {
        let (hi, lo) = uuid::Uuid::new_v4().as_u64_pair();
        Self::new(hi ^ lo.rotate_left(17))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.state = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// The next value, uniform in `[0, 1)` (53 random bits).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

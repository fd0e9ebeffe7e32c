//! Instants in time (`#inst` in EDN), with their RFC 3339 text form.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A point in time: seconds since the Unix epoch plus nanoseconds.
///
/// Prints as Clojure prints a `java.util.Date`:
/// `#inst "2024-01-01T00:00:00.000-00:00"` (millisecond precision when the
/// instant is a whole number of milliseconds, nanoseconds otherwise).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Inst {
    secs: i64,
    nanos: u32,
}

impl Inst {
    /// Makes an instant; returns `None` when `nanos` is not below 10^9.
    pub fn new(secs: i64, nanos: u32) -> Option<Self> {
        (nanos < 1_000_000_000).then_some(Self { secs, nanos })
    }

    /// Makes an instant from milliseconds since the epoch (JS `Date`, Sente's `udt`).
    pub fn from_millis(millis: i64) -> Self {
        Self {
            secs: millis.div_euclid(1000),
            nanos: (millis.rem_euclid(1000) as u32) * 1_000_000,
        }
    }

    /// The current time of the system clock.
    pub fn now() -> Self {
        Self::from(SystemTime::now())
    }

    /// Whole seconds since the epoch (floor).
    pub fn secs(&self) -> i64 {
        self.secs
    }

    /// Nanoseconds within the second, below 10^9.
    pub fn subsec_nanos(&self) -> u32 {
        self.nanos
    }

    /// Milliseconds since the epoch (floor), saturating.
    pub fn millis(&self) -> i64 {
        self.secs
            .saturating_mul(1000)
            .saturating_add(i64::from(self.nanos / 1_000_000))
    }

    /// Parses RFC 3339 text as Clojure's `#inst` reader does: every part after
    /// the year is optional (`"2024"`, `"2024-01-01T10:00Z"`,
    /// `"2024-01-01T00:00:00.000-00:00"`).
    ///
    /// Returns `None` for malformed or out-of-range text.
    pub fn parse_rfc3339(text: &str) -> Option<Self> {
        let mut p = Cursor {
            b: text.as_bytes(),
            i: 0,
        };
        let year = p.digits(4)? as i64;
        let mut month = 1;
        let mut day = 1;
        let (mut hour, mut minute, mut second, mut nanos) = (0, 0, 0, 0u32);
        let mut offset_secs = 0i64;
        if p.eat(b'-') {
            month = p.digits(2)?;
            if p.eat(b'-') {
                day = p.digits(2)?;
                if p.eat(b'T') || p.eat(b't') {
                    hour = p.digits(2)?;
                    if p.eat(b':') {
                        minute = p.digits(2)?;
                        if p.eat(b':') {
                            second = p.digits(2)?;
                            if p.eat(b'.') {
                                let start = p.i;
                                let mut n: u64 = 0;
                                while let Some(d) = p.peek().filter(u8::is_ascii_digit) {
                                    if p.i - start < 9 {
                                        n = n * 10 + u64::from(d - b'0');
                                    }
                                    p.i += 1;
                                }
                                let len = p.i - start;
                                if len == 0 {
                                    return None;
                                }
                                for _ in len.min(9)..9 {
                                    n *= 10;
                                }
                                nanos = n as u32;
                            }
                        }
                    }
                    if p.eat(b'Z') || p.eat(b'z') {
                    } else if let Some(sign @ (b'+' | b'-')) = p.peek() {
                        p.i += 1;
                        let oh = p.digits(2)? as i64;
                        p.eat(b':');
                        let om = p.digits(2)? as i64;
                        if oh > 23 || om > 59 {
                            return None;
                        }
                        offset_secs = (oh * 3600 + om * 60) * if sign == b'-' { -1 } else { 1 };
                    }
                }
            }
        }
        if p.i != p.b.len()
            || !(1..=12).contains(&month)
            || day < 1
            || day > days_in_month(year, month)
            || hour > 23
            || minute > 59
            || second > 60
        {
            return None;
        }
        let days = days_from_civil(year, month, day);
        let secs = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second) - offset_secs;
        Some(Self { secs, nanos })
    }

    /// The RFC 3339 text Clojure prints for this instant, e.g.
    /// `2024-01-01T00:00:00.000-00:00`.
    pub fn to_rfc3339(&self) -> String {
        let days = self.secs.div_euclid(86_400);
        let rem = self.secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        let (hh, mm, ss) = (rem / 3600, rem % 3600 / 60, rem % 60);
        if self.nanos.is_multiple_of(1_000_000) {
            format!(
                "{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}.{:03}-00:00",
                self.nanos / 1_000_000
            )
        } else {
            format!(
                "{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}.{:09}-00:00",
                self.nanos
            )
        }
    }
}

impl From<SystemTime> for Inst {
    fn from(t: SystemTime) -> Self {
        match t.duration_since(UNIX_EPOCH) {
            Ok(d) => Self {
                secs: d.as_secs() as i64,
                nanos: d.subsec_nanos(),
            },
            Err(e) => {
                let d = e.duration();
                let mut secs = -(d.as_secs() as i64);
                let mut nanos = d.subsec_nanos();
                if nanos > 0 {
                    secs -= 1;
                    nanos = 1_000_000_000 - nanos;
                }
                Self { secs, nanos }
            }
        }
    }
}

impl TryFrom<Inst> for SystemTime {
    type Error = InstOutOfRange;

    /// The instant as a `SystemTime`.
    ///
    /// # Errors
    /// [`InstOutOfRange`] when the platform's `SystemTime` cannot hold it.
    fn try_from(i: Inst) -> Result<Self, InstOutOfRange> {
        let t = if i.secs >= 0 {
            UNIX_EPOCH.checked_add(Duration::new(i.secs as u64, i.nanos))
        } else {
            UNIX_EPOCH
                .checked_sub(Duration::from_secs(i.secs.unsigned_abs()))
                .and_then(|t| t.checked_add(Duration::from_nanos(u64::from(i.nanos))))
        };
        t.ok_or(InstOutOfRange(i))
    }
}

/// An [`Inst`] outside the range of the platform's `SystemTime`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("instant {0:?} is outside the range of SystemTime")]
pub struct InstOutOfRange(pub Inst);

impl fmt::Debug for Inst {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#inst {:?}", self.to_rfc3339())
    }
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    fn eat(&mut self, c: u8) -> bool {
        let hit = self.peek() == Some(c);
        self.i += usize::from(hit);
        hit
    }
    fn digits(&mut self, n: usize) -> Option<u32> {
        let s = self.b.get(self.i..self.i + n)?;
        if !s.iter().all(u8::is_ascii_digit) {
            return None;
        }
        self.i += n;
        Some(s.iter().fold(0, |acc, d| acc * 10 + u32::from(d - b'0')))
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_like_clojure_date() {
        assert_eq!(
            Inst::from_millis(0).to_rfc3339(),
            "1970-01-01T00:00:00.000-00:00"
        );
        assert_eq!(
            Inst::from_millis(1_704_067_200_123).to_rfc3339(),
            "2024-01-01T00:00:00.123-00:00"
        );
        assert_eq!(
            Inst::from_millis(-1).to_rfc3339(),
            "1969-12-31T23:59:59.999-00:00"
        );
    }

    #[test]
    fn parses_partial_and_offset_forms() {
        assert_eq!(
            Inst::parse_rfc3339("2024").unwrap().millis(),
            1_704_067_200_000
        );
        assert_eq!(
            Inst::parse_rfc3339("2024-01-01T01:00:00.5+01:00")
                .unwrap()
                .millis(),
            1_704_067_200_500
        );
        assert_eq!(
            Inst::parse_rfc3339("2024-01-01T00:00:00.000-00:00").unwrap(),
            Inst::from_millis(1_704_067_200_000)
        );
        let fine = Inst::parse_rfc3339("2024-01-01T00:00:00.123456789Z").unwrap();
        assert_eq!(fine.subsec_nanos(), 123_456_789);
        assert_eq!(Inst::parse_rfc3339(&fine.to_rfc3339()), Some(fine));
        assert!(Inst::parse_rfc3339("2024-02-30").is_none());
        assert!(Inst::parse_rfc3339("2024-01-01T00:00:00.").is_none());
        assert!(Inst::parse_rfc3339("yesterday").is_none());
    }

    #[test]
    fn system_time_conversion_is_checked() {
        let t = SystemTime::try_from(Inst::from_millis(-1_500)).unwrap();
        assert_eq!(Inst::from(t), Inst::from_millis(-1_500));
        // The extremes convert or fail, never panic (the range is the platform's).
        for secs in [i64::MAX, i64::MIN, i64::MIN + 1] {
            let _ = SystemTime::try_from(Inst::new(secs, 999_999_999).unwrap());
        }
    }

    #[test]
    fn civil_round_trips_over_centuries() {
        for days in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}

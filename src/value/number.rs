//! Arbitrary-precision numbers kept as validated decimal text.
//!
//! Sente peers on the JVM send `123N` (BigInt), `1.5M` (BigDecimal) and `1/3`
//! (Ratio). We carry them losslessly as text; arithmetic is the user's business
//! (parse them with the big-number crate of your choice).

use std::fmt;
use std::sync::Arc;

/// An integer of any size, as canonical decimal text (`-?[0-9]+`, no leading
/// zeros). Prints as `123N` in EDN.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BigInt(Arc<str>);

impl BigInt {
    /// Parses decimal digits with an optional sign (`+` or `-`).
    ///
    /// Returns `None` when the text is not an integer.
    pub fn parse(text: &str) -> Option<Self> {
        let (neg, digits) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let trimmed = digits.trim_start_matches('0');
        let trimmed = if trimmed.is_empty() { "0" } else { trimmed };
        let canonical = if neg && trimmed != "0" {
            format!("-{trimmed}")
        } else {
            trimmed.to_owned()
        };
        Some(Self(Arc::from(canonical)))
    }

    /// Makes a big integer from any primitive integer.
    pub fn from_i128(n: i128) -> Self {
        Self(Arc::from(n.to_string()))
    }

    /// The canonical decimal text, without the `N` suffix.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The value as an `i64`, when it fits.
    pub fn to_i64(&self) -> Option<i64> {
        self.0.parse().ok()
    }

    /// The value as an `i128`, when it fits.
    pub fn to_i128(&self) -> Option<i128> {
        self.0.parse().ok()
    }
}

impl fmt::Debug for BigInt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}N", self.0)
    }
}

/// A decimal number of any precision, as its text (`-?digits[.digits][e±digits]`).
/// Prints as `1.5M` in EDN; packers without decimals send it as a double.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BigDec(Arc<str>);

impl BigDec {
    /// Parses a decimal such as `-12.50` or `1e-3`.
    ///
    /// Returns `None` when the text is not a decimal number.
    pub fn parse(text: &str) -> Option<Self> {
        let b = text.as_bytes();
        let mut i = 0;
        if matches!(b.first(), Some(b'-' | b'+')) {
            i += 1;
        }
        let int_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == int_start {
            return None;
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
        }
        if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
            i += 1;
            if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
                i += 1;
            }
            let exp_start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i == exp_start {
                return None;
            }
        }
        if i != b.len() {
            return None;
        }
        let text = text.strip_prefix('+').unwrap_or(text);
        Some(Self(Arc::from(text)))
    }

    /// The decimal text, without the `M` suffix.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The nearest `f64`.
    pub fn to_f64(&self) -> f64 {
        self.0.parse().unwrap_or(f64::NAN)
    }
}

impl fmt::Debug for BigDec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}M", self.0)
    }
}

/// A ratio of two integers, as Clojure's `1/3`. Kept exactly as read (Clojure
/// normalises ratios when it makes them; we do not do arithmetic).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ratio {
    numerator: BigInt,
    denominator: BigInt,
}

impl Ratio {
    /// Makes a ratio; returns `None` when the denominator is zero or negative.
    pub fn new(numerator: BigInt, denominator: BigInt) -> Option<Self> {
        if denominator.as_str() == "0" || denominator.as_str().starts_with('-') {
            return None;
        }
        Some(Self {
            numerator,
            denominator,
        })
    }

    /// The numerator (may be negative).
    pub fn numerator(&self) -> &BigInt {
        &self.numerator
    }

    /// The denominator (always positive).
    pub fn denominator(&self) -> &BigInt {
        &self.denominator
    }

    /// The nearest `f64`.
    pub fn to_f64(&self) -> f64 {
        let n: f64 = self.numerator.as_str().parse().unwrap_or(f64::NAN);
        let d: f64 = self.denominator.as_str().parse().unwrap_or(f64::NAN);
        n / d
    }
}

impl fmt::Debug for Ratio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}",
            self.numerator.as_str(),
            self.denominator.as_str()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_int_is_canonical() {
        assert_eq!(BigInt::parse("-000").unwrap().as_str(), "0");
        assert_eq!(BigInt::parse("+0012").unwrap().as_str(), "12");
        assert_eq!(BigInt::parse("-12").unwrap().to_i64(), Some(-12));
        assert!(BigInt::parse("1.0").is_none());
        assert!(BigInt::parse("-").is_none());
        assert_eq!(
            BigInt::parse("123456789012345678901234567890")
                .unwrap()
                .to_i64(),
            None
        );
    }

    #[test]
    fn big_dec_validates() {
        assert!(BigDec::parse("1.5").is_some());
        assert!(BigDec::parse("1e-3").is_some());
        assert!(BigDec::parse("1.").is_some());
        assert!(BigDec::parse(".5").is_none());
        assert!(BigDec::parse("1e").is_none());
        assert!(BigDec::parse("abc").is_none());
    }

    #[test]
    fn ratio_rejects_zero_denominator() {
        let one = BigInt::parse("1").unwrap();
        assert!(Ratio::new(one.clone(), BigInt::parse("0").unwrap()).is_none());
        assert_eq!(
            Ratio::new(one, BigInt::parse("4").unwrap())
                .unwrap()
                .to_f64(),
            0.25
        );
    }
}

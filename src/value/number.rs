//! Arbitrary-precision numbers kept as validated decimal text.
//!
//! Sente peers on the JVM send `123N` (BigInt), `1.5M` (BigDecimal) and `1/3`
//! (Ratio). We carry them losslessly as text; arithmetic is the user's business
//! (parse them with the big-number crate of your choice).

use std::fmt;
use std::sync::Arc;

use super::Value;

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

    /// The integer with the given sign and magnitude (`-0` is `0`).
    pub(crate) fn from_sign_magnitude(neg: bool, magnitude: u128) -> Self {
        if neg && magnitude != 0 {
            Self(Arc::from(format!("-{magnitude}")))
        } else {
            Self(Arc::from(magnitude.to_string()))
        }
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
    /// Parses a decimal such as `-12.50` or `1e-3`, and keeps it in the
    /// form Clojure prints it: `java.math.BigDecimal`'s `toString` of
    /// `new BigDecimal(text)` (what `LispReader`/`EdnReader.matchNumber`
    /// build for `…M`, and transit-clj for `"~f…"`). So `1e2` becomes
    /// `1E+2`, `0.00000001` becomes `1E-8`, `-0.0` becomes `0.0`, and
    /// `1.50` stays `1.50` (the scale is kept).
    ///
    /// Returns `None` when the text is not a decimal number, or when its
    /// scale does not fit a Java `int` (Java throws there too).
    pub fn parse(text: &str) -> Option<Self> {
        let DecimalParts {
            neg,
            int_digits,
            frac_digits,
            exp_neg,
            exp_digits,
        } = DecimalParts::split(text)?;
        // More than 10 digits is past Java's `int` (Java throws too).
        let exp_digits = exp_digits.trim_start_matches('0');
        if exp_digits.len() > 10 {
            return None;
        }
        let magnitude: i64 = if exp_digits.is_empty() {
            0
        } else {
            exp_digits.parse().ok()?
        };
        let exponent = if exp_neg { -magnitude } else { magnitude };
        // unscaledValue × 10^-scale, as java.math.BigDecimal holds it.
        let scale = i64::try_from(frac_digits.len()).ok()? - exponent;
        if i32::try_from(scale).is_err() || i32::try_from(exponent).is_err() {
            return None;
        }
        let mut coefficient = String::with_capacity(int_digits.len() + frac_digits.len());
        coefficient.push_str(int_digits);
        coefficient.push_str(frac_digits);
        let coefficient = match coefficient.trim_start_matches('0') {
            "" => "0",
            trimmed => trimmed,
        };
        let mut out = String::with_capacity(coefficient.len() + 8);
        if neg && coefficient != "0" {
            out.push('-');
        }
        layout_big_decimal(&mut out, coefficient, scale);
        Some(Self(Arc::from(out)))
    }

    /// True when `text` is a decimal [`BigDec::parse`] takes (checked
    /// without building it).
    pub(crate) fn is_valid(text: &str) -> bool {
        DecimalParts::split(text).is_some()
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

/// A decimal's text taken apart: `[sign] int [. frac] [e|E [sign] exp]`.
struct DecimalParts<'a> {
    neg: bool,
    int_digits: &'a str,
    frac_digits: &'a str,
    exp_neg: bool,
    /// Empty when there is no exponent.
    exp_digits: &'a str,
}

impl<'a> DecimalParts<'a> {
    /// The parts of `text`, or `None` when it is not a decimal.
    fn split(text: &'a str) -> Option<Self> {
        let b = text.as_bytes();
        let mut i = 0;
        let neg = match b.first() {
            Some(b'-') => {
                i = 1;
                true
            }
            Some(b'+') => {
                i = 1;
                false
            }
            _ => false,
        };
        let int_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == int_start {
            return None;
        }
        let int_digits = &text[int_start..i];
        let mut frac_digits = "";
        if i < b.len() && b[i] == b'.' {
            i += 1;
            let frac_start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            frac_digits = &text[frac_start..i];
        }
        let (mut exp_neg, mut exp_digits) = (false, "");
        if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
            i += 1;
            exp_neg = match b.get(i) {
                Some(b'-') => {
                    i += 1;
                    true
                }
                Some(b'+') => {
                    i += 1;
                    false
                }
                _ => false,
            };
            let exp_start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i == exp_start {
                return None;
            }
            exp_digits = &text[exp_start..i];
        }
        if i != b.len() {
            return None;
        }
        Some(Self {
            neg,
            int_digits,
            frac_digits,
            exp_neg,
            exp_digits,
        })
    }
}

/// Appends the unsigned `coefficient` × 10^-`scale` as
/// `java.math.BigDecimal.toString` lays it out: plain digits when the scale
/// is 0; plain with a point when the scale is positive and the adjusted
/// exponent (`-scale + digits - 1`) is at least -6; otherwise one digit, the
/// rest after a point, and `E` with the adjusted exponent (signed `+` when
/// positive).
fn layout_big_decimal(out: &mut String, coefficient: &str, scale: i64) {
    let len = coefficient.len();
    if scale == 0 {
        out.push_str(coefficient);
        return;
    }
    let adjusted = (len as i64 - 1) - scale;
    if scale > 0 && adjusted >= -6 {
        match usize::try_from(scale) {
            // At most 5 zeros here: adjusted >= -6 bounds scale - len.
            Ok(scale) if scale >= len => {
                out.push_str("0.");
                for _ in len..scale {
                    out.push('0');
                }
                out.push_str(coefficient);
            }
            Ok(scale) => {
                out.push_str(&coefficient[..len - scale]);
                out.push('.');
                out.push_str(&coefficient[len - scale..]);
            }
            Err(_) => out.push_str(coefficient),
        }
        return;
    }
    out.push_str(&coefficient[..1]);
    if len > 1 {
        out.push('.');
        out.push_str(&coefficient[1..]);
    }
    if adjusted != 0 {
        out.push('E');
        if adjusted > 0 {
            out.push('+');
        }
        out.push_str(&adjusted.to_string());
    }
}

impl fmt::Debug for BigDec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}M", self.0)
    }
}

/// A ratio of two integers, as Clojure's `1/3`.
///
/// The readers make ratios the way Clojure does, through
/// [`Value::ratio`](super::Value::ratio): in lowest terms, with a positive
/// denominator above 1 (`4/2` reads as `2`, `-3/9` as `-1/3`). A ratio made
/// with [`Ratio::new`] is kept as given, so one that is not in lowest terms
/// reads back from the wire as its reduced form.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ratio {
    numerator: BigInt,
    denominator: BigInt,
}

impl Ratio {
    /// Makes a ratio of exactly these parts; returns `None` when the
    /// denominator is zero or negative. Use [`Value::ratio`] for the ratio
    /// (or integer) Clojure would make: readers do, so a ratio made here
    /// that is not in lowest terms reads back reduced.
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

    /// Clojure's `(/ numerator denominator)` on two integers
    /// (`clojure.lang.Numbers.divide`): `None` for a zero denominator; an
    /// integer when the division is exact; otherwise the ratio in lowest
    /// terms with the sign on the numerator. An exact result is a `Long`
    /// (`Value::Int`) when `longs` (both operands were `Long`s: Clojure's
    /// `LongOps.divide`), else a `BigInt` (`BigIntOps`: it prints with `N`).
    ///
    /// Parts beyond 128 bits are not reduced (we carry them as text and do
    /// no big arithmetic): only the sign moves, and `n/1` and `0/n` are
    /// still integers.
    pub(crate) fn divide(numerator: &BigInt, denominator: &BigInt, longs: bool) -> Option<Value> {
        if denominator.as_str() == "0" {
            return None;
        }
        let integer = |neg: bool, magnitude: u128| -> Value {
            let big = BigInt::from_sign_magnitude(neg, magnitude);
            match big.to_i64() {
                Some(i) if longs => Value::Int(i),
                _ => Value::BigInt(big),
            }
        };
        let (Some(n), Some(d)) = (numerator.to_i128(), denominator.to_i128()) else {
            return Some(divide_unreduced(numerator, denominator, longs));
        };
        let neg = (n < 0) != (d < 0);
        let (mut n, mut d) = (n.unsigned_abs(), d.unsigned_abs());
        let g = gcd(n, d);
        n /= g;
        d /= g;
        if n == 0 {
            return Some(integer(false, 0));
        }
        if d == 1 {
            return Some(integer(neg, n));
        }
        Some(Value::Ratio(Arc::new(Self {
            numerator: BigInt::from_sign_magnitude(neg, n),
            denominator: BigInt::from_sign_magnitude(false, d),
        })))
    }

    /// The nearest `f64`.
    pub fn to_f64(&self) -> f64 {
        let n: f64 = self.numerator.as_str().parse().unwrap_or(f64::NAN);
        let d: f64 = self.denominator.as_str().parse().unwrap_or(f64::NAN);
        n / d
    }
}

/// Euclid's algorithm on magnitudes; `gcd(0, d) = d`.
fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// [`Ratio::divide`] for parts beyond 128 bits: the sign moves to the
/// numerator, `0/d` and `n/1` are integers, anything else stays as given.
fn divide_unreduced(numerator: &BigInt, denominator: &BigInt, longs: bool) -> Value {
    let (d_neg, d) = split_sign(denominator.as_str());
    let (n_neg, n) = split_sign(numerator.as_str());
    let neg = n_neg != d_neg;
    let signed =
        |digits: &str| BigInt(Arc::from(format!("{}{digits}", if neg { "-" } else { "" })));
    if n == "0" {
        return if longs {
            Value::Int(0)
        } else {
            Value::BigInt(BigInt(Arc::from("0")))
        };
    }
    if d == "1" {
        let big = signed(n);
        return match big.to_i64() {
            Some(i) if longs => Value::Int(i),
            _ => Value::BigInt(big),
        };
    }
    Value::Ratio(Arc::new(Ratio {
        numerator: signed(n),
        denominator: BigInt(Arc::from(d)),
    }))
}

fn split_sign(text: &str) -> (bool, &str) {
    match text.strip_prefix('-') {
        Some(magnitude) => (true, magnitude),
        None => (false, text),
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

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
    /// Parts beyond 128 bits are reduced with a small big-integer gcd when
    /// both have at most [`MAX_REDUCED_DIGITS`] digits (a bound on the work
    /// a peer can ask for); longer parts are kept as given, with only the
    /// sign moved and `n/1`, `0/n` still integers.
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
            return Some(divide_big(numerator, denominator, longs));
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

/// The longest part, in decimal digits, of a ratio [`Ratio::divide`]
/// reduces beyond 128 bits: 100 digits (about 330 bits). The work grows
/// with the square of the length: a ratio of two 100-digit parts takes
/// about 12 µs in a release build (60 ns per byte of input; 300 digits
/// took 51 µs, 85 ns per byte), so a hostile message made of such ratios
/// costs a few times what reading EDN costs (about 10 ns per byte).
pub(crate) const MAX_REDUCED_DIGITS: usize = 100;

/// [`Ratio::divide`] for parts beyond 128 bits: reduced in base 2^32 when
/// both are at most [`MAX_REDUCED_DIGITS`] digits long.
fn divide_big(numerator: &BigInt, denominator: &BigInt, longs: bool) -> Value {
    let (n_neg, n) = split_sign(numerator.as_str());
    let (d_neg, d) = split_sign(denominator.as_str());
    if n.len() > MAX_REDUCED_DIGITS || d.len() > MAX_REDUCED_DIGITS {
        return divide_unreduced(numerator, denominator, longs);
    }
    let (n, d) = (big::from_decimal(n), big::from_decimal(d));
    let g = big::gcd(n.clone(), d.clone());
    let (n, d) = (big::div_exact(&n, &g), big::div_exact(&d, &g));
    let reduced = |magnitude: Vec<u32>, neg: bool| {
        let digits = big::to_decimal(magnitude);
        BigInt(Arc::from(if neg && digits != "0" {
            format!("-{digits}")
        } else {
            digits
        }))
    };
    let neg = n_neg != d_neg;
    if d == [1] || n.is_empty() {
        let n = reduced(n, neg);
        return match n.to_i64() {
            Some(i) if longs => Value::Int(i),
            _ => Value::BigInt(n),
        };
    }
    Value::Ratio(Arc::new(Ratio {
        numerator: reduced(n, neg),
        denominator: reduced(d, false),
    }))
}

/// Magnitudes as little-endian base-2^32 digits without leading zeros
/// (zero is empty): just what reducing a ratio needs.
mod big {
    use std::cmp::Ordering;

    const BILLION: u64 = 1_000_000_000;

    fn trim(n: &mut Vec<u32>) {
        while n.last() == Some(&0) {
            n.pop();
        }
    }

    /// The magnitude of ASCII decimal digits.
    pub(super) fn from_decimal(digits: &str) -> Vec<u32> {
        let mut n: Vec<u32> = Vec::with_capacity(digits.len() / 9 + 1);
        for chunk in digits.as_bytes().chunks(9) {
            let (mut scale, mut add) = (1u64, 0u64);
            for &d in chunk {
                scale *= 10;
                add = add * 10 + u64::from(d.wrapping_sub(b'0'));
            }
            // n = n * scale + add; scale and add are below 2^30.
            let mut carry = add;
            for limb in &mut n {
                let v = u64::from(*limb) * scale + carry;
                *limb = v as u32;
                carry = v >> 32;
            }
            if carry > 0 {
                n.push(carry as u32);
            }
        }
        trim(&mut n);
        n
    }

    /// The decimal digits of a magnitude.
    pub(super) fn to_decimal(mut n: Vec<u32>) -> String {
        let mut groups = Vec::with_capacity(n.len() + 1);
        while !n.is_empty() {
            let mut rem = 0u64;
            for limb in n.iter_mut().rev() {
                let v = (rem << 32) | u64::from(*limb);
                *limb = (v / BILLION) as u32;
                rem = v % BILLION;
            }
            trim(&mut n);
            groups.push(rem);
        }
        let mut out = groups
            .pop()
            .map_or_else(|| "0".to_owned(), |g| g.to_string());
        for g in groups.iter().rev() {
            out.push_str(&format!("{g:09}"));
        }
        out
    }

    fn cmp(a: &[u32], b: &[u32]) -> Ordering {
        a.len()
            .cmp(&b.len())
            .then_with(|| a.iter().rev().cmp(b.iter().rev()))
    }

    /// `a -= b`, for `a >= b`.
    fn sub_assign(a: &mut Vec<u32>, b: &[u32]) {
        let mut borrow = 0u64;
        for (i, limb) in a.iter_mut().enumerate() {
            let sub = u64::from(b.get(i).copied().unwrap_or(0)) + borrow;
            let (v, under) = u64::from(*limb).overflowing_sub(sub);
            *limb = v as u32;
            borrow = u64::from(under);
        }
        trim(a);
    }

    fn trailing_zeros(a: &[u32]) -> usize {
        let mut zeros = 0;
        for &limb in a {
            if limb != 0 {
                return zeros + limb.trailing_zeros() as usize;
            }
            zeros += 32;
        }
        zeros
    }

    fn shr(a: &mut Vec<u32>, k: usize) {
        a.drain(..(k / 32).min(a.len()));
        let bits = (k % 32) as u32;
        if bits > 0 {
            for i in 0..a.len() {
                let high = a.get(i + 1).copied().unwrap_or(0);
                a[i] = (a[i] >> bits) | (high << (32 - bits));
            }
        }
        trim(a);
    }

    fn shl(a: &mut Vec<u32>, k: usize) {
        if a.is_empty() {
            return;
        }
        let bits = (k % 32) as u32;
        if bits > 0 {
            let mut carry = 0u32;
            for limb in a.iter_mut() {
                let v = (*limb << bits) | carry;
                carry = *limb >> (32 - bits);
                *limb = v;
            }
            if carry > 0 {
                a.push(carry);
            }
        }
        a.splice(0..0, std::iter::repeat_n(0, k / 32));
    }

    /// The greatest common divisor (binary gcd); `gcd(0, b) = b`.
    pub(super) fn gcd(mut a: Vec<u32>, mut b: Vec<u32>) -> Vec<u32> {
        if a.is_empty() {
            return b;
        }
        if b.is_empty() {
            return a;
        }
        let (za, zb) = (trailing_zeros(&a), trailing_zeros(&b));
        shr(&mut a, za);
        loop {
            let zb = trailing_zeros(&b);
            shr(&mut b, zb);
            if cmp(&a, &b) == Ordering::Greater {
                std::mem::swap(&mut a, &mut b);
            }
            sub_assign(&mut b, &a);
            if b.is_empty() {
                break;
            }
        }
        shl(&mut a, za.min(zb));
        a
    }

    /// `n / d` for a non-zero `d` that divides `n`: long division, bit by bit.
    pub(super) fn div_exact(n: &[u32], d: &[u32]) -> Vec<u32> {
        let mut q = vec![0u32; n.len()];
        let mut r: Vec<u32> = Vec::with_capacity(d.len() + 1);
        for i in (0..n.len() * 32).rev() {
            shl(&mut r, 1);
            if (n[i / 32] >> (i % 32)) & 1 == 1 {
                match r.first_mut() {
                    Some(low) => *low |= 1,
                    None => r.push(1),
                }
            }
            if cmp(&r, d) != Ordering::Less {
                sub_assign(&mut r, d);
                q[i / 32] |= 1 << (i % 32);
            }
        }
        trim(&mut q);
        q
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn arithmetic_agrees_with_u128() {
            let samples: [u128; 9] = [
                1,
                2,
                6,
                1 << 40,
                3 << 70,
                (1 << 96) + 12345,
                u128::MAX,
                340_282_366_920_938_463_463_374_607_431_768_211_455 / 7,
                99_999_999_999_999_999_999,
            ];
            for &a in &samples {
                let big_a = from_decimal(&a.to_string());
                assert_eq!(to_decimal(big_a.clone()), a.to_string());
                for &b in &samples {
                    let big_b = from_decimal(&b.to_string());
                    let (mut x, mut y) = (a, b);
                    while y != 0 {
                        (x, y) = (y, x % y);
                    }
                    let g = gcd(big_a.clone(), big_b.clone());
                    assert_eq!(to_decimal(g.clone()), x.to_string(), "gcd({a}, {b})");
                    assert_eq!(to_decimal(div_exact(&big_a, &g)), (a / x).to_string());
                }
            }
            assert_eq!(to_decimal(from_decimal("000")), "0");
        }
    }
}

/// [`Ratio::divide`] for parts it does not reduce: the sign moves to the
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

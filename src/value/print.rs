//! The EDN printer: the exact text Clojure's `pr-str` prints, written to
//! any [`fmt::Write`] (a `String` for the packers and for [`Value`]'s
//! `Display`; transit prints its doubles with it).
//!
//! It lives with the data model so that `Display` needs nothing above it;
//! [`crate::edn`] (the reader and the text functions) and the packers use it
//! from here.

use std::fmt::{self, Write};

use super::{Inst, Value};
use crate::codec::{DEFAULT_MAX_DEPTH, PackError};

/// Prints `value` as EDN into `out`, nesting at most `max_depth` levels.
///
/// # Errors
/// [`PackError::TooDeep`] past `max_depth` (`out` then holds a part of
/// the text); [`PackError::Encoder`] when `out` fails.
pub(crate) fn write_value<W: Write + ?Sized>(
    out: &mut W,
    value: &Value,
    max_depth: usize,
) -> Result<(), PackError> {
    let mut printer = Printer::new(out, max_depth);
    let printed = printer.value(value, 1);
    printer.finish(printed)
}

/// Prints the vector `[first second]` into `out`, as [`write_value`] would
/// print that vector.
///
/// # Errors
/// As [`write_value`].
pub(crate) fn write_pair<W: Write + ?Sized>(
    out: &mut W,
    first: &Value,
    second: &Value,
    max_depth: usize,
) -> Result<(), PackError> {
    let mut printer = Printer::new(out, max_depth);
    let printed = printer.pair(first, second);
    printer.finish(printed)
}

/// `value` as EDN text, nesting at most `max_depth` levels (capped at
/// [`MAX_DEPTH_CEILING`](crate::edn::MAX_DEPTH_CEILING)); past
/// [`INLINE_DEPTH`](crate::stack::INLINE_DEPTH) levels it is printed on a
/// stack sized for them.
///
/// # Errors
/// [`PackError::TooDeep`] past `max_depth`.
pub(crate) fn to_string(value: &Value, max_depth: usize) -> Result<String, PackError> {
    crate::stack::pack(max_depth, |limit| {
        let mut out = String::with_capacity(64);
        write_value(&mut out, value, limit)?;
        Ok(out)
    })
}

/// `Display` for [`Value`]: the text, or `#sente/unprintable` for a value
/// nested deeper than [`DEFAULT_MAX_DEPTH`] (deep values are printed on a
/// stack sized for them).
///
/// It prints into a `String` and hands that to the formatter in one write.
/// Printing token by token into the formatter was measured slower (a
/// typical 205-byte event: 810 ns against 505 ns; 670 ns even through a
/// 256-byte stack buffer; a 10 KB batch: 32 to 41 µs against 21 µs, release
/// build), and it would have to walk the value first so that a value too
/// deep is not left half printed.
pub(super) fn display(value: &Value, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match to_string(value, DEFAULT_MAX_DEPTH) {
        Ok(text) => f.write_str(&text),
        Err(_) => f.write_str("#sente/unprintable \"value nested too deeply\""),
    }
}

/// Writes `i` in decimal without going through `fmt`.
fn write_int<W: Write + ?Sized>(out: &mut W, i: i64) -> fmt::Result {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut n = i.unsigned_abs();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if i < 0 {
        out.write_char('-')?;
    }
    // ASCII digits: always valid UTF-8.
    out.write_str(std::str::from_utf8(&digits[at..]).unwrap_or_default())
}

/// The printer's walk. Its steps return the writer's small `fmt::Result`
/// (cheap to pass up on every token); a depth past the limit stops the
/// walk the same way, noted in `too_deep`, and [`finish`](Self::finish)
/// turns the outcome into a [`PackError`].
struct Printer<'a, W: ?Sized> {
    out: &'a mut W,
    max_depth: usize,
    too_deep: bool,
}

impl<'a, W: Write + ?Sized> Printer<'a, W> {
    fn new(out: &'a mut W, max_depth: usize) -> Self {
        Self {
            out,
            max_depth,
            too_deep: false,
        }
    }

    fn finish(&self, printed: fmt::Result) -> Result<(), PackError> {
        match printed {
            Ok(()) => Ok(()),
            Err(fmt::Error) if self.too_deep => Err(PackError::TooDeep {
                limit: self.max_depth,
            }),
            Err(fmt::Error) => Err(PackError::Encoder {
                packer: "edn",
                detail: "the writer failed".to_owned(),
            }),
        }
    }

    fn put(&mut self, text: &str) -> fmt::Result {
        self.out.write_str(text)
    }

    /// `[first second]`.
    fn pair(&mut self, first: &Value, second: &Value) -> fmt::Result {
        if self.max_depth < 1 {
            self.too_deep = true;
            return Err(fmt::Error);
        }
        self.put("[")?;
        self.value(first, 2)?;
        self.put(" ")?;
        self.value(second, 2)?;
        self.put("]")
    }

    fn value(&mut self, v: &Value, depth: usize) -> fmt::Result {
        if depth > self.max_depth {
            self.too_deep = true;
            return Err(fmt::Error);
        }
        match v {
            Value::Vector(xs) => self.seq("[", "]", xs.iter(), depth),
            Value::List(xs) => self.seq("(", ")", xs.iter(), depth),
            Value::Set(xs) => self.seq("#{", "}", xs.iter(), depth),
            Value::Map(m) => {
                self.put("{")?;
                for (i, (k, x)) in m.iter().enumerate() {
                    if i > 0 {
                        self.put(", ")?;
                    }
                    self.value(k, depth + 1)?;
                    self.put(" ")?;
                    self.value(x, depth + 1)?;
                }
                self.put("}")
            }
            Value::Tagged(t) => {
                self.put("#")?;
                self.put(t.tag.as_str())?;
                self.put(" ")?;
                self.value(&t.value, depth + 1)
            }
            scalar => write_scalar(self.out, scalar),
        }
    }

    fn seq<'v>(
        &mut self,
        open: &str,
        close: &str,
        items: impl Iterator<Item = &'v Value>,
        depth: usize,
    ) -> fmt::Result {
        self.put(open)?;
        for (i, x) in items.enumerate() {
            if i > 0 {
                self.put(" ")?;
            }
            self.value(x, depth + 1)?;
        }
        self.put(close)
    }
}

/// Prints a value that holds no other value (collections and tagged
/// values are the printer's).
fn write_scalar<W: Write + ?Sized>(out: &mut W, v: &Value) -> fmt::Result {
    match v {
        Value::Nil => out.write_str("nil"),
        Value::Bool(true) => out.write_str("true"),
        Value::Bool(false) => out.write_str("false"),
        Value::Int(i) => write_int(out, *i),
        Value::BigInt(b) => {
            out.write_str(b.as_str())?;
            out.write_char('N')
        }
        Value::Float(f) => write_double(out, *f),
        Value::BigDec(d) => {
            out.write_str(d.as_str())?;
            out.write_char('M')
        }
        Value::Ratio(r) => {
            out.write_str(r.numerator().as_str())?;
            out.write_char('/')?;
            out.write_str(r.denominator().as_str())
        }
        Value::String(s) => write_string(out, s),
        Value::Char(c) => write_char(out, *c),
        Value::Keyword(k) => {
            out.write_char(':')?;
            out.write_str(k.as_str())
        }
        Value::Symbol(s) => out.write_str(s.as_str()),
        Value::Uuid(u) => write!(out, "#uuid \"{u}\""),
        Value::Inst(i) => write_inst(out, i),
        Value::Bytes(b) => {
            out.write_str("#sente/bytes \"")?;
            out.write_str(&crate::codec::base64::encode(b))?;
            out.write_char('"')
        }
        Value::Vector(_) | Value::List(_) | Value::Set(_) | Value::Map(_) | Value::Tagged(_) => {
            Ok(())
        }
    }
}

fn write_inst<W: Write + ?Sized>(out: &mut W, i: &Inst) -> fmt::Result {
    out.write_str("#inst \"")?;
    out.write_str(&i.to_rfc3339())?;
    out.write_char('"')
}

/// Prints a string the way `pr-str` does: only `"`, `\`, and the named
/// control characters are escaped; other control characters use `\uXXXX` so
/// that the text stays readable.
fn write_string<W: Write + ?Sized>(out: &mut W, s: &str) -> fmt::Result {
    out.write_char('"')?;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let esc: Option<&str> = match c {
            '"' => Some("\\\""),
            '\\' => Some("\\\\"),
            '\n' => Some("\\n"),
            '\t' => Some("\\t"),
            '\r' => Some("\\r"),
            '\u{c}' => Some("\\f"),
            '\u{8}' => Some("\\b"),
            _ => None,
        };
        if let Some(esc) = esc {
            out.write_str(&s[start..i])?;
            out.write_str(esc)?;
            start = i + c.len_utf8();
        } else if c.is_control() && (c as u32) < 0x20 {
            out.write_str(&s[start..i])?;
            write!(out, "\\u{:04x}", c as u32)?;
            start = i + 1;
        }
    }
    out.write_str(&s[start..])?;
    out.write_char('"')
}

fn write_char<W: Write + ?Sized>(out: &mut W, c: char) -> fmt::Result {
    match c {
        '\n' => out.write_str("\\newline"),
        ' ' => out.write_str("\\space"),
        '\t' => out.write_str("\\tab"),
        '\u{8}' => out.write_str("\\backspace"),
        '\u{c}' => out.write_str("\\formfeed"),
        '\r' => out.write_str("\\return"),
        c if c.is_control() => write!(out, "\\u{:04x}", c as u32),
        c => {
            out.write_char('\\')?;
            out.write_char(c)
        }
    }
}

/// Prints a double as Java's `Double.toString` does (which is what Clojure
/// prints): decimal notation with at least one fractional digit when
/// 10^-3 <= |x| < 10^7, `d.dddE±n` otherwise, and `##Inf`, `##-Inf`, `##NaN`.
pub(crate) fn write_double<W: Write + ?Sized>(out: &mut W, f: f64) -> fmt::Result {
    if f.is_nan() {
        return out.write_str("##NaN");
    }
    if f.is_infinite() {
        return out.write_str(if f > 0.0 { "##Inf" } else { "##-Inf" });
    }
    if f == 0.0 {
        return out.write_str(if f.is_sign_negative() { "-0.0" } else { "0.0" });
    }
    // Shortest round-trip digits from Rust, laid out Java's way.
    let sci = format!("{:e}", f.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    if f < 0.0 {
        out.write_char('-')?;
    }
    let abs = f.abs();
    if (1e-3..1e7).contains(&abs) {
        if exp >= 0 {
            let int_len = exp as usize + 1;
            if digits.len() <= int_len {
                out.write_str(&digits)?;
                for _ in digits.len()..int_len {
                    out.write_char('0')?;
                }
                out.write_str(".0")
            } else {
                out.write_str(&digits[..int_len])?;
                out.write_char('.')?;
                out.write_str(&digits[int_len..])
            }
        } else {
            out.write_str("0.")?;
            for _ in 0..(-exp - 1) {
                out.write_char('0')?;
            }
            out.write_str(&digits)
        }
    } else {
        out.write_str(&digits[..1])?;
        out.write_char('.')?;
        if digits.len() > 1 {
            out.write_str(&digits[1..])?;
        } else {
            out.write_char('0')?;
        }
        write!(out, "E{exp}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(f: f64) -> String {
        let mut s = String::new();
        write_double(&mut s, f).unwrap();
        s
    }

    #[test]
    fn doubles_print_like_java() {
        assert_eq!(d(1.5), "1.5");
        assert_eq!(d(100.0), "100.0");
        assert_eq!(d(1234567.0), "1234567.0");
        assert_eq!(d(1e7), "1.0E7");
        assert_eq!(d(1.0e10), "1.0E10");
        assert_eq!(d(1.25e-5), "1.25E-5");
        assert_eq!(d(0.001), "0.001");
        assert_eq!(d(0.000999), "9.99E-4");
        assert_eq!(d(-2.5), "-2.5");
        assert_eq!(d(0.1), "0.1");
        assert_eq!(d(123.456), "123.456");
        assert_eq!(d(f64::INFINITY), "##Inf");
        assert_eq!(d(f64::NEG_INFINITY), "##-Inf");
        assert_eq!(d(f64::NAN), "##NaN");
        assert_eq!(d(-0.0), "-0.0");
        assert_eq!(d(1e300), "1.0E300");
    }

    #[test]
    fn strings_escape_like_pr_str() {
        let mut s = String::new();
        write_string(&mut s, "a\"b\\c\nd\te\u{1}é").unwrap();
        assert_eq!(s, r#""a\"b\\c\nd\te\u0001é""#);
    }
}

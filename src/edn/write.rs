//! The EDN printer: the exact text Clojure's `pr-str` prints.

use std::fmt::Write as _;

use crate::packer::PackError;
use crate::value::{Inst, Value};

/// Prints `value` as EDN into `out`, nesting at most `max_depth` levels.
pub(crate) fn write_value(
    out: &mut String,
    value: &Value,
    max_depth: usize,
) -> Result<(), PackError> {
    Printer { out, max_depth }.value(value, 1)
}

/// Prints the vector `[first second]` into `out`, as [`write_value`] would
/// print that vector.
pub(crate) fn write_pair(
    out: &mut String,
    first: &Value,
    second: &Value,
    max_depth: usize,
) -> Result<(), PackError> {
    if max_depth < 1 {
        return Err(PackError::TooDeep { limit: max_depth });
    }
    let mut printer = Printer { out, max_depth };
    printer.out.push('[');
    printer.value(first, 2)?;
    printer.out.push(' ');
    printer.value(second, 2)?;
    printer.out.push(']');
    Ok(())
}

/// Appends `i` in decimal without going through `fmt`.
fn push_int(out: &mut String, i: i64) {
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
        out.push('-');
    }
    // ASCII digits: always valid UTF-8.
    out.push_str(std::str::from_utf8(&digits[at..]).unwrap_or_default());
}

struct Printer<'a> {
    out: &'a mut String,
    max_depth: usize,
}

impl Printer<'_> {
    fn value(&mut self, v: &Value, depth: usize) -> Result<(), PackError> {
        if depth > self.max_depth {
            return Err(PackError::TooDeep {
                limit: self.max_depth,
            });
        }
        let out = &mut *self.out;
        match v {
            Value::Nil => out.push_str("nil"),
            Value::Bool(true) => out.push_str("true"),
            Value::Bool(false) => out.push_str("false"),
            Value::Int(i) => push_int(out, *i),
            Value::BigInt(b) => {
                out.push_str(b.as_str());
                out.push('N');
            }
            Value::Float(f) => write_double(out, *f),
            Value::BigDec(d) => {
                out.push_str(d.as_str());
                out.push('M');
            }
            Value::Ratio(r) => {
                out.push_str(r.numerator().as_str());
                out.push('/');
                out.push_str(r.denominator().as_str());
            }
            Value::String(s) => write_string(out, s),
            Value::Char(c) => write_char(out, *c),
            Value::Keyword(k) => {
                out.push(':');
                out.push_str(k.as_str());
            }
            Value::Symbol(s) => out.push_str(s.as_str()),
            Value::Vector(xs) => self.seq("[", "]", xs.iter(), depth)?,
            Value::List(xs) => self.seq("(", ")", xs.iter(), depth)?,
            Value::Set(xs) => self.seq("#{", "}", xs.iter(), depth)?,
            Value::Map(m) => {
                self.out.push('{');
                for (i, (k, x)) in m.iter().enumerate() {
                    if i > 0 {
                        self.out.push_str(", ");
                    }
                    self.value(k, depth + 1)?;
                    self.out.push(' ');
                    self.value(x, depth + 1)?;
                }
                self.out.push('}');
            }
            Value::Uuid(u) => {
                let _ = write!(out, "#uuid \"{u}\"");
            }
            Value::Inst(i) => write_inst(out, i),
            Value::Bytes(b) => {
                out.push_str("#sente/bytes \"");
                out.push_str(&super::base64_encode(b));
                out.push('"');
            }
            Value::Tagged(t) => {
                out.push('#');
                out.push_str(t.tag.as_str());
                out.push(' ');
                self.value(&t.value, depth + 1)?;
            }
        }
        Ok(())
    }

    fn seq<'v>(
        &mut self,
        open: &str,
        close: &str,
        items: impl Iterator<Item = &'v Value>,
        depth: usize,
    ) -> Result<(), PackError> {
        self.out.push_str(open);
        for (i, x) in items.enumerate() {
            if i > 0 {
                self.out.push(' ');
            }
            self.value(x, depth + 1)?;
        }
        self.out.push_str(close);
        Ok(())
    }
}

fn write_inst(out: &mut String, i: &Inst) {
    out.push_str("#inst \"");
    out.push_str(&i.to_rfc3339());
    out.push('"');
}

/// Prints a string the way `pr-str` does: only `"`, `\`, and the named
/// control characters are escaped; other control characters use `\uXXXX` so
/// that the text stays readable.
pub(crate) fn write_string(out: &mut String, s: &str) {
    out.push('"');
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
            out.push_str(&s[start..i]);
            out.push_str(esc);
            start = i + c.len_utf8();
        } else if c.is_control() && (c as u32) < 0x20 {
            out.push_str(&s[start..i]);
            let _ = write!(out, "\\u{:04x}", c as u32);
            start = i + 1;
        }
    }
    out.push_str(&s[start..]);
    out.push('"');
}

fn write_char(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\newline"),
        ' ' => out.push_str("\\space"),
        '\t' => out.push_str("\\tab"),
        '\u{8}' => out.push_str("\\backspace"),
        '\u{c}' => out.push_str("\\formfeed"),
        '\r' => out.push_str("\\return"),
        c if c.is_control() => {
            let _ = write!(out, "\\u{:04x}", c as u32);
        }
        c => {
            out.push('\\');
            out.push(c);
        }
    }
}

/// Prints a double as Java's `Double.toString` does (which is what Clojure
/// prints): decimal notation with at least one fractional digit when
/// 10^-3 <= |x| < 10^7, `d.dddE±n` otherwise, and `##Inf`, `##-Inf`, `##NaN`.
pub(crate) fn write_double(out: &mut String, f: f64) {
    if f.is_nan() {
        out.push_str("##NaN");
        return;
    }
    if f.is_infinite() {
        out.push_str(if f > 0.0 { "##Inf" } else { "##-Inf" });
        return;
    }
    if f == 0.0 {
        out.push_str(if f.is_sign_negative() { "-0.0" } else { "0.0" });
        return;
    }
    // Shortest round-trip digits from Rust, laid out Java's way.
    let sci = format!("{:e}", f.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    if f < 0.0 {
        out.push('-');
    }
    let abs = f.abs();
    if (1e-3..1e7).contains(&abs) {
        if exp >= 0 {
            let int_len = exp as usize + 1;
            if digits.len() <= int_len {
                out.push_str(&digits);
                for _ in digits.len()..int_len {
                    out.push('0');
                }
                out.push_str(".0");
            } else {
                out.push_str(&digits[..int_len]);
                out.push('.');
                out.push_str(&digits[int_len..]);
            }
        } else {
            out.push_str("0.");
            for _ in 0..(-exp - 1) {
                out.push('0');
            }
            out.push_str(&digits);
        }
    } else {
        out.push_str(&digits[..1]);
        out.push('.');
        if digits.len() > 1 {
            out.push_str(&digits[1..]);
        } else {
            out.push('0');
        }
        let _ = write!(out, "E{exp}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(f: f64) -> String {
        let mut s = String::new();
        write_double(&mut s, f);
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
        write_string(&mut s, "a\"b\\c\nd\te\u{1}é");
        assert_eq!(s, r#""a\"b\\c\nd\te\u0001é""#);
    }
}

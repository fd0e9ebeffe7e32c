//! The transit-json writer: the exact text transit-clj writes, cache codes included.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write as _;

use super::{
    MAP_AS_ARRAY, MAX_CACHE_ENTRIES, PACKER, is_cacheable, is_interpreted_tag, push_cache_code,
};
use crate::codec::base64::encode as base64_encode;
use crate::packer::PackError;
use crate::value::print::write_double;
use crate::value::{Inst, Map, Tagged, Uuid, Value};

/// The largest integer written as a JSON number: beyond ±(2^53 − 1) a
/// JavaScript reader would lose precision, so transit writes `"~i…"`.
const MAX_JSON_INT: i64 = (1 << 53) - 1;

/// Writes `value` as transit-json (json-verbose when `verbose`), nesting at
/// most `max_depth` levels.
pub(super) fn write_value(
    value: &Value,
    verbose: bool,
    max_depth: usize,
) -> Result<String, PackError> {
    let mut w = Writer {
        out: String::with_capacity(64),
        verbose,
        max_depth,
        cache: (!verbose).then(WriteCache::default),
        scratch: String::new(),
    };
    if has_scalar_tag(value) {
        // Transit quotes a top-level scalar so that the text is always a JSON array or object.
        w.open_tag("'");
        w.value(value, 2, false)?;
        w.close_tag();
    } else {
        w.value(value, 1, false)?;
    }
    Ok(w.out)
}

/// True when transit's tag for the value is a single character: the value is
/// written as a JSON scalar or string and can be a key of a `["^ ",…]` map.
fn has_scalar_tag(v: &Value) -> bool {
    match v {
        Value::Vector(_) | Value::List(_) | Value::Map(_) | Value::Set(_) | Value::Ratio(_) => {
            false
        }
        Value::Tagged(t) => is_string_tagged(t),
        _ => true,
    }
}

/// A one-character tag with a string value, written `"~xtext"`.
fn is_string_tagged(t: &Tagged) -> bool {
    t.tag.as_str().chars().count() == 1 && matches!(t.value, Value::String(_))
}

/// The encoded strings of one message and their cache indexes.
#[derive(Default)]
struct WriteCache {
    indexes: HashMap<Box<str>, usize>,
}

impl WriteCache {
    /// The index of `encoded` when it is already cached; otherwise caches it
    /// (starting over when full, as transit-java does) and returns `None`.
    fn lookup_or_insert(&mut self, encoded: &str) -> Option<usize> {
        if let Some(&index) = self.indexes.get(encoded) {
            return Some(index);
        }
        if self.indexes.len() == MAX_CACHE_ENTRIES {
            self.indexes.clear();
        }
        self.indexes.insert(encoded.into(), self.indexes.len());
        None
    }
}

struct Writer {
    out: String,
    verbose: bool,
    max_depth: usize,
    /// `None` in verbose mode, which never writes cache codes.
    cache: Option<WriteCache>,
    /// Reused buffer for the full text of a cacheable string.
    scratch: String,
}

impl Writer {
    fn check_depth(&self, depth: usize) -> Result<(), PackError> {
        if depth > self.max_depth {
            return Err(PackError::TooDeep {
                limit: self.max_depth,
            });
        }
        Ok(())
    }

    fn value(&mut self, v: &Value, depth: usize, as_map_key: bool) -> Result<(), PackError> {
        self.check_depth(depth)?;
        match v {
            Value::Nil if as_map_key => self.encoded("~_", "", true),
            Value::Nil => self.out.push_str("null"),
            Value::Bool(b) if as_map_key => self.encoded("~?", if *b { "t" } else { "f" }, true),
            Value::Bool(b) => self.out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) if as_map_key || !(-MAX_JSON_INT..=MAX_JSON_INT).contains(i) => {
                self.encoded("~i", &i.to_string(), as_map_key)
            }
            Value::Int(i) => {
                let _ = write!(self.out, "{i}");
            }
            Value::BigInt(b) => self.encoded("~n", b.as_str(), as_map_key),
            Value::Float(f) if f.is_nan() => self.encoded("~z", "NaN", as_map_key),
            Value::Float(f) if f.is_infinite() => {
                self.encoded("~z", if *f > 0.0 { "INF" } else { "-INF" }, as_map_key)
            }
            Value::Float(f) if as_map_key => {
                let mut text = String::new();
                // Writing to a String cannot fail.
                let _ = write_double(&mut text, *f);
                self.encoded("~d", &text, true);
            }
            Value::Float(f) => {
                let _ = write_double(&mut self.out, *f);
            }
            Value::BigDec(d) => self.encoded("~f", d.as_str(), as_map_key),
            Value::Ratio(r) => {
                // transit-clj writes the numerator and denominator as BigIntegers.
                self.check_depth(depth + 1)?;
                self.open_tag("ratio");
                self.out.push('[');
                self.encoded("~n", r.numerator().as_str(), false);
                self.out.push(',');
                self.encoded("~n", r.denominator().as_str(), false);
                self.out.push(']');
                self.close_tag();
            }
            Value::String(s) => {
                let escape = matches!(s.as_bytes().first(), Some(b'~' | b'^' | b'`'));
                self.encoded(if escape { "~" } else { "" }, s, as_map_key);
            }
            Value::Char(c) => self.encoded("~c", c.encode_utf8(&mut [0; 4]), as_map_key),
            Value::Keyword(k) => self.encoded("~:", k.as_str(), as_map_key),
            Value::Symbol(s) => self.encoded("~$", s.as_str(), as_map_key),
            Value::Vector(xs) => self.array(xs.iter(), depth)?,
            Value::List(xs) => {
                self.open_tag("list");
                self.array(xs.iter(), depth)?;
                self.close_tag();
            }
            Value::Set(xs) => {
                self.open_tag("set");
                self.array(xs.iter(), depth)?;
                self.close_tag();
            }
            Value::Map(m) => self.map(m, depth)?,
            Value::Uuid(u) => {
                let mut buf = Uuid::encode_buffer();
                self.encoded("~u", u.hyphenated().encode_lower(&mut buf), as_map_key);
            }
            Value::Inst(i) => self.inst(*i, as_map_key),
            Value::Bytes(b) => self.encoded("~b", &base64_encode(b), as_map_key),
            Value::Tagged(t) => self.tagged(t, depth, as_map_key)?,
        }
        Ok(())
    }

    fn array<'v>(
        &mut self,
        items: impl Iterator<Item = &'v Value>,
        depth: usize,
    ) -> Result<(), PackError> {
        self.out.push('[');
        for (i, x) in items.enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            self.value(x, depth + 1, false)?;
        }
        self.out.push(']');
        Ok(())
    }

    fn map(&mut self, m: &Map, depth: usize) -> Result<(), PackError> {
        if !m.keys().all(has_scalar_tag) {
            // A composite key: the map goes as a flat key-value array.
            self.open_tag("cmap");
            self.array(m.iter().flat_map(|(k, v)| [k, v]), depth)?;
            self.close_tag();
            return Ok(());
        }
        if self.verbose {
            self.out.push('{');
            for (i, (k, v)) in m.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                self.entry(k, ':', v, depth)?;
            }
            self.out.push('}');
        } else {
            self.out.push_str("[\"");
            self.out.push_str(MAP_AS_ARRAY);
            self.out.push('"');
            for (k, v) in m {
                self.out.push(',');
                self.entry(k, ',', v, depth)?;
            }
            self.out.push(']');
        }
        Ok(())
    }

    /// One entry of a map at `depth`: the key as a string, `separator`, the value.
    fn entry(
        &mut self,
        key: &Value,
        separator: char,
        value: &Value,
        depth: usize,
    ) -> Result<(), PackError> {
        self.value(key, depth + 1, true)?;
        self.out.push(separator);
        self.value(value, depth + 1, false)
    }

    fn inst(&mut self, i: Inst, as_map_key: bool) {
        let millis = i.millis();
        if self.verbose
            && let Some(text) = verbose_time(Inst::from_millis(millis))
        {
            self.encoded("~t", &text, as_map_key);
            return;
        }
        self.encoded("~m", &millis.to_string(), as_map_key);
    }

    fn tagged(&mut self, t: &Tagged, depth: usize, as_map_key: bool) -> Result<(), PackError> {
        let tag = t.tag.as_str();
        if is_interpreted_tag(tag) {
            return Err(PackError::Unsupported {
                packer: PACKER,
                type_name: "tagged",
                detail: Cow::Owned(format!(
                    "the tag `{tag}` is transit's own and would read back as another type"
                )),
            });
        }
        match &t.value {
            Value::String(s) if is_string_tagged(t) => {
                self.encoded(&format!("~{tag}"), s, as_map_key)
            }
            value => {
                self.open_tag(tag);
                self.value(value, depth + 1, false)?;
                self.close_tag();
            }
        }
        Ok(())
    }

    /// Opens a tagged value: `["~#tag",` (or `{"~#tag":` in verbose mode).
    fn open_tag(&mut self, tag: &str) {
        self.out.push(if self.verbose { '{' } else { '[' });
        self.encoded("~#", tag, self.verbose);
        self.out.push(if self.verbose { ':' } else { ',' });
    }

    fn close_tag(&mut self) {
        self.out.push(if self.verbose { '}' } else { ']' });
    }

    /// Writes the JSON string `prefix + body`, or its cache code when it was
    /// written before in this message.
    fn encoded(&mut self, prefix: &str, body: &str, as_map_key: bool) {
        if let Some(cache) = self.cache.as_mut() {
            // Only keys and `~:`, `~$`, `~#` strings can be cacheable; skip the copy otherwise.
            if as_map_key || matches!(prefix, "~:" | "~$" | "~#") {
                self.scratch.clear();
                self.scratch.push_str(prefix);
                self.scratch.push_str(body);
                if is_cacheable(&self.scratch, as_map_key)
                    && let Some(index) = cache.lookup_or_insert(&self.scratch)
                {
                    self.out.push('"');
                    push_cache_code(&mut self.out, index);
                    self.out.push('"');
                    return;
                }
            }
        }
        self.out.push('"');
        push_json_escaped(&mut self.out, prefix);
        push_json_escaped(&mut self.out, body);
        self.out.push('"');
    }
}

/// The json-verbose instant text transit-java writes (`yyyy-MM-ddTHH:mm:ss.SSSZ`),
/// or `None` when the year does not have four digits.
fn verbose_time(millis_precise: Inst) -> Option<String> {
    let text = millis_precise.to_rfc3339();
    let stamp = text.strip_suffix("-00:00")?;
    (stamp.len() == "2024-01-01T00:00:00.000".len() && !stamp.starts_with('-'))
        .then(|| format!("{stamp}Z"))
}

/// Appends `s` with JSON escapes as Jackson writes them for transit-clj:
/// `\"`, `\\`, `\b`, `\t`, `\n`, `\f`, `\r`, and `\u00XX` (upper-case hex)
/// for other control characters; a character beyond the BMP as its two
/// UTF-16 surrogates, `\uD83D\uDE00` (Jackson's `UTF8JsonGenerator` writes
/// each surrogate of a Java string as an escape: `_outputMultiByteChar`);
/// everything else as is.
fn push_json_escaped(out: &mut String, s: &str) {
    // 0xF0..: the lead byte of a 4-byte UTF-8 sequence, a non-BMP character.
    let needs_escape = |b: &u8| *b < 0x20 || *b == b'"' || *b == b'\\' || *b >= 0xf0;
    let mut run = 0;
    while let Some(i) = s
        .as_bytes()
        .get(run..)
        .and_then(|rest| rest.iter().position(needs_escape))
    {
        let at = run + i;
        // The byte at `at` is ASCII or a lead byte, so `at` is a char boundary.
        out.push_str(s.get(run..at).unwrap_or_default());
        if let Some(c) = s.get(at..).and_then(|rest| rest.chars().next())
            && c.len_utf8() == 4
        {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                let _ = write!(out, "\\u{unit:04X}");
            }
            run = at + 4;
            continue;
        }
        match s.as_bytes().get(at).copied().unwrap_or_default() {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            0x08 => out.push_str("\\b"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            0x0c => out.push_str("\\f"),
            b'\r' => out.push_str("\\r"),
            control => {
                let _ = write!(out, "\\u{control:04X}");
            }
        }
        run = at + 1;
    }
    out.push_str(s.get(run..).unwrap_or_default());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_escapes_follow_jackson() {
        let mut out = String::new();
        push_json_escaped(&mut out, "a\"b\\c\n\t\r\u{8}\u{c}\u{1}\u{1f}é/\u{7f}");
        assert_eq!(
            out,
            r#"a\"b\\c\n\t\r\b\f\u0001\u001Fé/"#.to_owned() + "\u{7f}"
        );
    }

    /// transit-clj writes through Jackson's `UTF8JsonGenerator`, which
    /// escapes each UTF-16 surrogate of a non-BMP character
    /// (`_outputMultiByteChar`): Sente's transit text carries `\uD83D\uDE00`.
    #[test]
    fn non_bmp_characters_escape_as_surrogate_pairs() {
        let mut out = String::new();
        push_json_escaped(&mut out, "a😀b𝄞é\n");
        assert_eq!(out, r"a\uD83D\uDE00b\uD834\uDD1Eé\n");
    }

    #[test]
    fn verbose_time_needs_a_four_digit_year() {
        assert_eq!(
            verbose_time(Inst::from_millis(0)).as_deref(),
            Some("1970-01-01T00:00:00.000Z")
        );
        assert_eq!(verbose_time(Inst::from_millis(-100_000_000_000_000)), None);
        assert_eq!(verbose_time(Inst::from_millis(300_000_000_000_000)), None);
    }

    #[test]
    fn write_cache_starts_over_when_full() {
        let mut cache = WriteCache::default();
        for i in 0..MAX_CACHE_ENTRIES {
            assert_eq!(cache.lookup_or_insert(&format!("~:k{i}")), None);
        }
        assert_eq!(cache.lookup_or_insert("~:k5"), Some(5));
        assert_eq!(cache.lookup_or_insert("~:new"), None);
        assert_eq!(cache.lookup_or_insert("~:new"), Some(0));
        assert_eq!(cache.lookup_or_insert("~:k5"), None);
    }
}

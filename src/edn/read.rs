//! The EDN reader: `clojure.tools.reader.edn/read-string` semantics.
//!
//! Commas are whitespace; `;` comments and `#_` discards are skipped; numbers
//! take `N`/`M` suffixes, ratios, hex (`0x1F`), octal (`017`) and radix
//! (`2r101`) forms; strings and characters take Clojure's escapes; `#inst`,
//! `#uuid` and `#sente/bytes` are read, every other tag is passed through as
//! [`Value::Tagged`]. Nesting is bounded, so hostile input cannot overflow
//! the stack.

use std::sync::Arc;

use crate::codec::{UnpackError, UnpackErrorKind as Kind};
use crate::value::syntax::{is_keyword_text, is_symbol_text, is_terminator, is_ws};
use crate::value::{BigDec, BigInt, Inst, Keyword, Map, Set, Symbol, Tagged, Uuid, Value};

const PACKER: &str = "edn";

/// Reads exactly one value from `text` (surrounding whitespace and comments
/// allowed). Empty input reads as `nil`, as Sente's EDN packer does.
pub(crate) fn read_value(text: &str, max_depth: usize) -> Result<Value, UnpackError> {
    let mut r = Reader {
        s: text.as_bytes(),
        text,
        i: 0,
        max_depth,
    };
    r.skip_ws(1)?;
    if r.i == r.s.len() {
        return Ok(Value::Nil);
    }
    let v = r.read(1)?;
    r.skip_ws(1)?;
    if r.i != r.s.len() {
        return Err(r.err(Kind::TrailingInput, "only one top-level value is allowed"));
    }
    Ok(v)
}

struct Reader<'a> {
    s: &'a [u8],
    text: &'a str,
    i: usize,
    max_depth: usize,
}

impl<'a> Reader<'a> {
    fn err(&self, kind: Kind, detail: impl Into<std::borrow::Cow<'static, str>>) -> UnpackError {
        UnpackError::new(PACKER, kind, Some(self.i), detail)
    }

    fn err_at(
        &self,
        at: usize,
        kind: Kind,
        detail: impl Into<std::borrow::Cow<'static, str>>,
    ) -> UnpackError {
        UnpackError::new(PACKER, kind, Some(at), detail)
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    /// Skips whitespace, commas, comments and `#_` discarded forms, where a
    /// form read here would sit at `depth`.
    ///
    /// Iterative: `#_ #_ a b` counts two pending discards and then reads `a`
    /// and `b` at `depth`, so neither a run of `#_` nor a deep discarded form
    /// can go past the depth bound.
    fn skip_ws(&mut self, depth: usize) -> Result<(), UnpackError> {
        let mut pending_discards = 0usize;
        loop {
            match self.peek() {
                Some(b) if is_ws(b) => self.i += 1,
                Some(b';') => {
                    while let Some(b) = self.peek() {
                        self.i += 1;
                        if b == b'\n' {
                            break;
                        }
                    }
                }
                Some(b'#') if self.s.get(self.i + 1) == Some(&b'_') => {
                    self.i += 2;
                    pending_discards += 1;
                }
                None if pending_discards > 0 => {
                    return Err(self.err(Kind::UnexpectedEnd, "#_ with nothing to discard"));
                }
                Some(_) if pending_discards > 0 => {
                    // A discarded form still counts against the depth limit.
                    self.read(depth)?;
                    pending_discards -= 1;
                }
                _ => return Ok(()),
            }
        }
    }

    fn read(&mut self, depth: usize) -> Result<Value, UnpackError> {
        if depth > self.max_depth {
            return Err(self.err(
                Kind::TooDeep,
                format!("more than {} levels", self.max_depth),
            ));
        }
        let start = self.i;
        let Some(b) = self.peek() else {
            return Err(self.err(Kind::UnexpectedEnd, "expected a value"));
        };
        match b {
            b'[' => {
                self.i += 1;
                Ok(Value::Vector(self.read_items(b']', depth)?))
            }
            b'(' => {
                self.i += 1;
                Ok(Value::List(self.read_items(b')', depth)?))
            }
            b'{' => {
                self.i += 1;
                self.read_map(start, depth, None)
            }
            b'"' => Ok(Value::String(self.read_string_value()?)),
            b'\\' => self.read_char(),
            b':' => self.read_keyword(),
            b'#' => self.read_dispatch(depth),
            b')' | b']' | b'}' => {
                Err(self.err(Kind::Syntax, format!("unmatched delimiter '{}'", b as char)))
            }
            b'^' => self.read_with_meta(depth),
            b'@' | b'`' | b'~' => {
                Err(self.err(Kind::Syntax, format!("'{}' is not valid in EDN", b as char)))
            }
            _ => {
                let tok = self.token();
                self.read_atom(start, tok)
            }
        }
    }

    fn read_items(&mut self, close: u8, depth: usize) -> Result<Vec<Value>, UnpackError> {
        let mut items = Vec::new();
        loop {
            self.skip_ws(depth + 1)?;
            match self.peek() {
                None => {
                    return Err(
                        self.err(Kind::UnexpectedEnd, format!("expected '{}'", close as char))
                    );
                }
                Some(b) if b == close => {
                    self.i += 1;
                    return Ok(items);
                }
                Some(_) => items.push(self.read(depth + 1)?),
            }
        }
    }

    fn read_map(
        &mut self,
        start: usize,
        depth: usize,
        ns: Option<&str>,
    ) -> Result<Value, UnpackError> {
        let items = self.read_items(b'}', depth)?;
        if items.len() % 2 != 0 {
            return Err(self.err_at(
                start,
                Kind::Syntax,
                "map literal must contain an even number of forms",
            ));
        }
        let mut map = Map::with_capacity_and_hasher(items.len() / 2, Default::default());
        let mut it = items.into_iter();
        while let (Some(mut k), Some(v)) = (it.next(), it.next()) {
            if let Some(ns) = ns {
                k = qualify(k, ns);
            }
            if map.contains_key(&k) {
                return Err(self.err_at(
                    start,
                    Kind::DuplicateKey,
                    format!("duplicate map key {k}"),
                ));
            }
            map.insert(k, v);
        }
        Ok(Value::Map(Box::new(map)))
    }

    fn read_dispatch(&mut self, depth: usize) -> Result<Value, UnpackError> {
        let start = self.i;
        self.i += 1;
        match self.peek() {
            Some(b'{') => {
                self.i += 1;
                let items = self.read_items(b'}', depth)?;
                let mut set = Set::with_capacity_and_hasher(items.len(), Default::default());
                for x in items {
                    if set.contains(&x) {
                        return Err(self.err_at(
                            start,
                            Kind::DuplicateKey,
                            format!("duplicate set element {x}"),
                        ));
                    }
                    set.insert(x);
                }
                Ok(Value::Set(Box::new(set)))
            }
            Some(b'#') => {
                self.i += 1;
                let tok = self.token();
                match tok {
                    "Inf" => Ok(Value::Float(f64::INFINITY)),
                    "-Inf" => Ok(Value::Float(f64::NEG_INFINITY)),
                    "NaN" => Ok(Value::Float(f64::NAN)),
                    _ => Err(self.err_at(
                        start,
                        Kind::InvalidLiteral,
                        format!("unknown symbolic value ##{tok}"),
                    )),
                }
            }
            Some(b':') => {
                // Namespaced map: #:ns{:a 1} reads as {:ns/a 1}.
                self.i += 1;
                let ns = self.token();
                // `#::{…}` (auto-resolved, a Clojure reader feature) is not EDN.
                if ns.is_empty() || ns.starts_with(':') || !is_symbol_text(ns) || ns.contains('/') {
                    return Err(self.err_at(start, Kind::Syntax, "invalid namespaced map prefix"));
                }
                self.skip_ws(depth + 1)?;
                if self.peek() != Some(b'{') {
                    return Err(self.err(Kind::Syntax, "namespaced map must be followed by a map"));
                }
                self.i += 1;
                let ns = ns.to_owned();
                self.read_map(start, depth, Some(&ns))
            }
            Some(b) if b.is_ascii_alphabetic() => {
                let tag = self.token();
                if !is_symbol_text(tag) {
                    return Err(self.err_at(start, Kind::Syntax, format!("invalid tag #{tag}")));
                }
                let tag = tag.to_owned();
                self.skip_ws(depth + 1)?;
                let value_at = self.i;
                let value = self.read(depth + 1)?;
                self.tagged(&tag, value, value_at)
            }
            None => Err(self.err(Kind::UnexpectedEnd, "expected a dispatch form after '#'")),
            Some(b) => Err(self.err_at(
                start,
                Kind::Syntax,
                format!("unsupported dispatch '#{}'", b as char),
            )),
        }
    }

    fn tagged(&self, tag: &str, value: Value, at: usize) -> Result<Value, UnpackError> {
        match tag {
            "inst" => match &value {
                Value::String(s) => Inst::parse_rfc3339(s).map(Value::Inst).ok_or_else(|| {
                    self.err_at(at, Kind::InvalidLiteral, format!("invalid #inst {s:?}"))
                }),
                _ => Err(self.err_at(at, Kind::InvalidLiteral, "#inst takes a string")),
            },
            "uuid" => match &value {
                Value::String(s) => Uuid::try_parse(s).map(Value::Uuid).map_err(|_| {
                    self.err_at(at, Kind::InvalidLiteral, format!("invalid #uuid {s:?}"))
                }),
                _ => Err(self.err_at(at, Kind::InvalidLiteral, "#uuid takes a string")),
            },
            "sente/bytes" => match &value {
                Value::String(s) => crate::codec::base64::decode(s)
                    .map(|b| Value::Bytes(Arc::from(b)))
                    .ok_or_else(|| {
                        self.err_at(at, Kind::InvalidLiteral, "#sente/bytes takes base64 text")
                    }),
                _ => Err(self.err_at(at, Kind::InvalidLiteral, "#sente/bytes takes a string")),
            },
            _ => Ok(Value::Tagged(Box::new(Tagged {
                tag: Symbol::new(tag),
                value,
            }))),
        }
    }

    /// A maximal run of non-terminating characters.
    fn token(&mut self) -> &'a str {
        let start = self.i;
        while let Some(b) = self.peek() {
            if is_terminator(b) {
                break;
            }
            self.i += 1;
        }
        // Token boundaries are ASCII, so the slice is on char boundaries.
        &self.text[start..self.i]
    }

    fn read_keyword(&mut self) -> Result<Value, UnpackError> {
        let start = self.i;
        self.i += 1;
        let tok = self.token();
        if !is_keyword_text(tok) {
            return Err(self.err_at(start, Kind::Syntax, format!("invalid keyword :{tok}")));
        }
        Ok(Value::Keyword(Keyword::cached(tok)))
    }

    /// `^meta form`, possibly chained (`^:a ^:b [1]`): reads and checks each
    /// metadata form, then returns the form without it, as Clojure does in
    /// effect — `EdnReader.MetaReader.invoke` (and tools.reader's edn
    /// `read-meta`) attach the metadata, and `pr-str` does not print it.
    ///
    /// The chain is a loop, not recursion: each metadata form is read one
    /// level deeper than the form it annotates, so hostile nesting of `^`
    /// still meets the depth bound.
    #[cold]
    #[inline(never)]
    fn read_with_meta(&mut self, depth: usize) -> Result<Value, UnpackError> {
        while self.peek() == Some(b'^') {
            self.i += 1;
            self.skip_ws(depth + 1)?;
            let meta_at = self.i;
            let meta = self.read(depth + 1)?;
            // EdnReader.MetaReader: "Metadata must be Symbol,Keyword,String or Map".
            if !matches!(
                meta,
                Value::Map(_) | Value::Keyword(_) | Value::Symbol(_) | Value::String(_)
            ) {
                return Err(self.err_at(
                    meta_at,
                    Kind::Syntax,
                    "metadata must be a symbol, keyword, string or map",
                ));
            }
            self.skip_ws(depth)?;
        }
        let at = self.i;
        let value = self.read(depth)?;
        // EdnReader.MetaReader: "Metadata can only be applied to IMetas"
        // (symbols and collections).
        match value {
            Value::Symbol(_)
            | Value::List(_)
            | Value::Vector(_)
            | Value::Map(_)
            | Value::Set(_) => Ok(value),
            other => Err(self.err_at(
                at,
                Kind::Syntax,
                format!(
                    "metadata can only be applied to a symbol or a collection, not a {}",
                    other.type_name()
                ),
            )),
        }
    }

    fn read_atom(&self, start: usize, tok: &str) -> Result<Value, UnpackError> {
        if tok.is_empty() {
            return Err(self.err_at(start, Kind::Syntax, "unexpected character"));
        }
        let b = tok.as_bytes();
        let numeric = b[0].is_ascii_digit()
            || (matches!(b[0], b'+' | b'-') && b.len() > 1 && b[1].is_ascii_digit());
        if numeric {
            return parse_number(tok).ok_or_else(|| {
                self.err_at(start, Kind::InvalidLiteral, format!("invalid number {tok}"))
            });
        }
        match tok {
            "nil" => Ok(Value::Nil),
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ if is_symbol_text(tok) => Ok(Value::Symbol(Symbol::new(tok))),
            _ => Err(self.err_at(start, Kind::Syntax, format!("invalid symbol {tok}"))),
        }
    }

    /// A string literal as a shared string: one allocation when it has no
    /// escapes (the common case), which is sliced straight from the input.
    fn read_string_value(&mut self) -> Result<Arc<str>, UnpackError> {
        let body = self.i + 1;
        if let Some(len) = self.s[body..].iter().position(|&b| b == b'"' || b == b'\\')
            && self.s[body + len] == b'"'
        {
            self.i = body + len + 1;
            return Ok(Arc::from(&self.text[body..body + len]));
        }
        self.read_string().map(Arc::from)
    }

    fn read_string(&mut self) -> Result<String, UnpackError> {
        let open = self.i;
        self.i += 1;
        let mut out = String::new();
        let mut run = self.i;
        loop {
            let Some(b) = self.peek() else {
                return Err(self.err_at(open, Kind::UnexpectedEnd, "unterminated string"));
            };
            match b {
                b'"' => {
                    out.push_str(&self.text[run..self.i]);
                    self.i += 1;
                    return Ok(out);
                }
                b'\\' => {
                    out.push_str(&self.text[run..self.i]);
                    let esc_at = self.i;
                    self.i += 1;
                    let Some(e) = self.peek() else {
                        return Err(self.err_at(open, Kind::UnexpectedEnd, "unterminated string"));
                    };
                    self.i += 1;
                    match e {
                        b't' => out.push('\t'),
                        b'r' => out.push('\r'),
                        b'n' => out.push('\n'),
                        b'\\' => out.push('\\'),
                        b'"' => out.push('"'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'u' => {
                            let c = self.read_unicode_escape(esc_at)?;
                            out.push(c);
                        }
                        b'0'..=b'7' => {
                            let mut n = u32::from(e - b'0');
                            let mut len = 1;
                            while len < 3 {
                                match self.peek() {
                                    Some(d @ b'0'..=b'7') => {
                                        n = n * 8 + u32::from(d - b'0');
                                        self.i += 1;
                                        len += 1;
                                    }
                                    _ => break,
                                }
                            }
                            if n > 0o377 {
                                return Err(self.err_at(
                                    esc_at,
                                    Kind::InvalidLiteral,
                                    "octal escape out of range",
                                ));
                            }
                            out.push(char::from_u32(n).unwrap_or('\u{fffd}'));
                        }
                        _ => {
                            return Err(self.err_at(
                                esc_at,
                                Kind::InvalidLiteral,
                                format!("unsupported escape \\{}", e as char),
                            ));
                        }
                    }
                    run = self.i;
                }
                _ => self.i += 1,
            }
        }
    }

    /// Reads the four hex digits after `\u` (surrogate pairs combine).
    fn read_unicode_escape(&mut self, esc_at: usize) -> Result<char, UnpackError> {
        let hi = self.hex4(esc_at)?;
        if (0xD800..0xDC00).contains(&hi) && self.s.get(self.i..self.i + 2) == Some(b"\\u") {
            let save = self.i;
            self.i += 2;
            let lo = self.hex4(esc_at)?;
            if (0xDC00..0xE000).contains(&lo) {
                let c = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                return char::from_u32(c).ok_or_else(|| {
                    self.err_at(esc_at, Kind::InvalidLiteral, "invalid surrogate pair")
                });
            }
            self.i = save;
        }
        // A lone surrogate cannot be held in a Rust string: replace it.
        Ok(char::from_u32(hi).unwrap_or('\u{fffd}'))
    }

    fn hex4(&mut self, esc_at: usize) -> Result<u32, UnpackError> {
        let digits = self
            .text
            .get(self.i..self.i + 4)
            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| {
                self.err_at(esc_at, Kind::InvalidLiteral, "\\u needs four hex digits")
            })?;
        self.i += 4;
        u32::from_str_radix(digits, 16)
            .map_err(|_| self.err_at(esc_at, Kind::InvalidLiteral, "bad \\u escape"))
    }

    fn read_char(&mut self) -> Result<Value, UnpackError> {
        let start = self.i;
        self.i += 1;
        // The first character is taken whatever it is; then the token continues.
        let Some(first) = self.text[self.i..].chars().next() else {
            return Err(self.err_at(
                start,
                Kind::UnexpectedEnd,
                "expected a character after '\\'",
            ));
        };
        self.i += first.len_utf8();
        let rest_start = self.i;
        while let Some(b) = self.peek() {
            if is_terminator(b) {
                break;
            }
            self.i += 1;
        }
        let tok = &self.text[rest_start - first.len_utf8()..self.i];
        if tok.chars().count() == 1 {
            return Ok(Value::Char(first));
        }
        let c = match tok {
            "newline" => Some('\n'),
            "space" => Some(' '),
            "tab" => Some('\t'),
            "backspace" => Some('\u{8}'),
            "formfeed" => Some('\u{c}'),
            "return" => Some('\r'),
            _ if tok.len() == 5 && tok.starts_with('u') => u32::from_str_radix(&tok[1..], 16)
                .ok()
                .and_then(char::from_u32),
            _ if tok.starts_with('o') && (2..=4).contains(&tok.len()) => {
                u32::from_str_radix(&tok[1..], 8)
                    .ok()
                    .filter(|n| *n <= 0o377)
                    .and_then(char::from_u32)
            }
            _ => None,
        };
        c.map(Value::Char).ok_or_else(|| {
            self.err_at(
                start,
                Kind::InvalidLiteral,
                format!("unsupported character \\{tok}"),
            )
        })
    }
}

/// Applies a namespaced-map prefix to a key: `:a` becomes `:ns/a`, `:_/a` becomes `:a`.
fn qualify(k: Value, ns: &str) -> Value {
    match &k {
        Value::Keyword(kw) if kw.namespace().is_none() => {
            Value::Keyword(Keyword::namespaced(ns, kw.as_str()))
        }
        Value::Keyword(kw) if kw.namespace() == Some("_") => {
            Value::Keyword(Keyword::new(kw.name()))
        }
        Value::Symbol(s) if s.namespace().is_none() => {
            Value::Symbol(Symbol::namespaced(ns, s.as_str()))
        }
        _ => k,
    }
}

/// Parses an EDN number token: integers (with `N`, hex, octal and radix
/// forms), ratios, and floats (with `M`).
pub(crate) fn parse_number(tok: &str) -> Option<Value> {
    let (neg, body) = match tok.as_bytes()[0] {
        b'-' => (true, &tok[1..]),
        b'+' => (false, &tok[1..]),
        _ => (false, tok),
    };
    if let Some((n, d)) = body.split_once('/') {
        if n.is_empty()
            || d.is_empty()
            || !n.bytes().all(|b| b.is_ascii_digit())
            || !d.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let num = BigInt::parse(&format!("{}{n}", if neg { "-" } else { "" }))?;
        let den = BigInt::parse(d)?;
        // EdnReader.matchNumber: Numbers.divide(reduceBigInt(n), reduceBigInt(d)).
        return Value::ratio(num, den);
    }
    if let Some(dec) = body.strip_suffix('M') {
        let text = if neg {
            format!("-{dec}")
        } else {
            dec.to_owned()
        };
        return BigDec::parse(&text).map(Value::BigDec);
    }
    if body.contains(['.', 'e', 'E']) && !body.starts_with("0x") && !body.starts_with("0X") {
        if !body
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
        {
            return None;
        }
        if !BigDec::is_valid(body) {
            return None;
        }
        let f: f64 = body.parse().ok()?;
        return Some(Value::Float(if neg { -f } else { f }));
    }
    let (body, big) = match body.strip_suffix('N') {
        Some(b) => (b, true),
        None => (body, false),
    };
    let (radix, digits) =
        if let Some(h) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
            (16, h)
        } else if let Some((r, d)) = body.split_once(['r', 'R']) {
            let r: u32 = r.parse().ok().filter(|r| (2..=36).contains(r))?;
            (r, d)
        } else if body.len() > 1 && body.starts_with('0') {
            (8, &body[1..])
        } else {
            (10, body)
        };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    if radix == 10 {
        if !big {
            // Digits only (checked above): u64 then the sign, no allocation.
            let int = digits.parse::<u64>().ok().and_then(|mag| {
                if neg {
                    0i64.checked_sub_unsigned(mag)
                } else {
                    i64::try_from(mag).ok()
                }
            });
            if let Some(i) = int {
                return Some(Value::Int(i));
            }
        }
        return BigInt::parse(&format!("{}{digits}", if neg { "-" } else { "" }))
            .map(Value::BigInt);
    }
    // Non-decimal radix: up to i128 (a 128-bit literal is plenty for a wire format).
    let mag = u128::from_str_radix(digits, radix).ok()?;
    let n = if neg {
        0i128.checked_sub_unsigned(mag)?
    } else {
        i128::try_from(mag).ok()?
    };
    if big {
        return Some(Value::BigInt(BigInt::from_i128(n)));
    }
    Some(Value::from(n))
}

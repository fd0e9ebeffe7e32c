//! The transit-json reader: a small JSON tokenizer that decodes transit as it
//! goes (tagged strings, `["^ ",…]` maps, tagged arrays and objects, the read
//! cache), for both transit-json and json-verbose.
//!
//! Every JSON array or object goes one level deeper (a tagged value's
//! representation array shares its wrapper's level), so hostile nesting is an
//! error, not a stack overflow.

use std::borrow::Cow;
use std::sync::Arc;

use super::decode::{CollectionTag, Detail, decode_scalar, decode_tagged};
use super::{MAP_AS_ARRAY, MAX_CACHE_ENTRIES, PACKER, cache_index, is_cacheable};
use crate::packer::{UnpackError, UnpackErrorKind as Kind};
use crate::value::{BigInt, Map, Symbol, Value};

/// Reads exactly one transit value from `text` (JSON whitespace around it allowed).
pub(super) fn read_value(text: &str, max_depth: usize) -> Result<Value, UnpackError> {
    let mut r = Reader {
        text,
        bytes: text.as_bytes(),
        pos: 0,
        max_depth,
        cache: Vec::new(),
    };
    r.skip_ws();
    if r.pos == r.bytes.len() {
        return Err(r.err(Kind::UnexpectedEnd, "empty input: expected a transit value"));
    }
    let value = r.value(1)?;
    r.skip_ws();
    if r.pos != r.bytes.len() {
        return Err(r.err(Kind::TrailingInput, "only one top-level value is allowed"));
    }
    Ok(value)
}

/// What a JSON string stands for in transit.
#[derive(Clone)]
enum Decoded {
    /// A value.
    Value(Value),
    /// `"~#tag"`: the first element of a tagged array (or the key of a tagged object).
    Tag(Symbol),
    /// `"^ "`: the first element of an array that holds a map.
    MapMarker,
}

struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    max_depth: usize,
    /// The read cache: what each cacheable string of this message decoded to.
    cache: Vec<Decoded>,
}

impl<'a> Reader<'a> {
    fn err(&self, kind: Kind, detail: impl Into<Detail>) -> UnpackError {
        self.err_at(self.pos, kind, detail)
    }

    fn err_at(&self, at: usize, kind: Kind, detail: impl Into<Detail>) -> UnpackError {
        UnpackError::new(PACKER, kind, Some(at), detail)
    }

    /// An error at the current position: `UnexpectedEnd` at the end of the
    /// input, `Syntax` elsewhere.
    fn expected(&self, what: &'static str) -> UnpackError {
        let kind = if self.pos >= self.bytes.len() {
            Kind::UnexpectedEnd
        } else {
            Kind::Syntax
        };
        self.err(kind, format!("expected {what}"))
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn eat(&mut self, b: u8) -> bool {
        let hit = self.peek() == Some(b);
        self.pos += usize::from(hit);
        hit
    }

    /// Skips whitespace, then consumes `b` or fails with "expected `what`".
    fn expect(&mut self, b: u8, what: &'static str) -> Result<(), UnpackError> {
        self.skip_ws();
        if self.eat(b) {
            Ok(())
        } else {
            Err(self.expected(what))
        }
    }

    /// The text between two positions that sit on ASCII bytes (or the ends).
    fn slice(&self, from: usize, to: usize) -> &'a str {
        self.text.get(from..to).unwrap_or_default()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn check_depth(&self, depth: usize, at: usize) -> Result<(), UnpackError> {
        if depth > self.max_depth {
            return Err(self.err_at(
                at,
                Kind::TooDeep,
                format!("more than {} levels", self.max_depth),
            ));
        }
        Ok(())
    }

    /// A value at `depth`; a tag or map marker here is an error.
    fn value(&mut self, depth: usize) -> Result<Value, UnpackError> {
        self.skip_ws();
        let at = self.pos;
        let decoded = self.item(depth, false)?;
        self.only_value(decoded, at)
    }

    /// A map key at `depth` (strings are decoded as keys for the cache).
    fn key(&mut self, depth: usize) -> Result<Value, UnpackError> {
        self.skip_ws();
        let at = self.pos;
        let decoded = self.item(depth, true)?;
        self.only_value(decoded, at)
    }

    /// The value `decoded` (found at `at`) stands for, where markers are not allowed.
    fn only_value(&self, decoded: Decoded, at: usize) -> Result<Value, UnpackError> {
        match decoded {
            Decoded::Value(v) => Ok(v),
            Decoded::Tag(_) | Decoded::MapMarker => Err(self.err_at(
                at,
                Kind::Syntax,
                "misplaced tag or map marker (they only open an array, or a verbose tagged object)",
            )),
        }
    }

    // The functions from here to `tagged` recurse. They keep few locals, and
    // leave the rest to non-recursive helpers, so that a level of nesting
    // costs little stack even in debug builds.

    /// Any JSON value at `depth`, with strings decoded (markers included).
    fn item(&mut self, depth: usize, as_map_key: bool) -> Result<Decoded, UnpackError> {
        self.skip_ws();
        let at = self.pos;
        match self.peek() {
            Some(b'[') => {
                self.check_depth(depth, at)?;
                self.array(depth).map(Decoded::Value)
            }
            Some(b'{') => {
                self.check_depth(depth, at)?;
                self.object(depth).map(Decoded::Value)
            }
            Some(b'"') => self.string_item(depth, as_map_key, at),
            _ => self.scalar(depth, at).map(Decoded::Value),
        }
    }

    /// `[…]`: a vector, a `["^ ",k,v,…]` map or a `["~#tag",rep]` tagged value.
    fn array(&mut self, depth: usize) -> Result<Value, UnpackError> {
        self.pos += 1;
        self.skip_ws();
        if self.eat(b']') {
            return Ok(Value::Vector(Vec::new()));
        }
        match self.item(depth + 1, false)? {
            Decoded::Value(first) => self.elements(vec![first], depth).map(Value::Vector),
            Decoded::MapMarker => self.array_map(depth),
            Decoded::Tag(tag) => {
                self.expect(b',', "',' and the tagged representation")?;
                self.tagged(tag, depth, b']')
            }
        }
    }

    /// The rest of an array whose elements sit at `depth + 1`, after the
    /// elements already read (`items`), up to and including `]`.
    fn elements(&mut self, mut items: Vec<Value>, depth: usize) -> Result<Vec<Value>, UnpackError> {
        loop {
            self.skip_ws();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    let item = self.value(depth + 1)?;
                    items.push(item);
                }
                Some(b']') => {
                    self.pos += 1;
                    return Ok(items);
                }
                _ => return Err(self.expected("',' or ']'")),
            }
        }
    }

    /// The entries of a `["^ ",k,v,…]` map, after the marker.
    fn array_map(&mut self, depth: usize) -> Result<Value, UnpackError> {
        let mut map = Map::default();
        loop {
            self.skip_ws();
            match self.peek() {
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Value::Map(Box::new(map)));
                }
                Some(b',') => self.pos += 1,
                _ => return Err(self.expected("',' or ']'")),
            }
            let key = self.key(depth + 1)?;
            self.expect(b',', "',' and the value of the map key")?;
            let value = self.value(depth + 1)?;
            map.insert(key, value);
        }
    }

    /// `{…}` (json-verbose): a map, or a `{"~#tag":rep}` tagged value.
    fn object(&mut self, depth: usize) -> Result<Value, UnpackError> {
        self.pos += 1;
        let mut map = Map::default();
        self.skip_ws();
        if self.eat(b'}') {
            return Ok(Value::Map(Box::new(map)));
        }
        loop {
            self.skip_ws();
            let key_at = self.pos;
            if self.peek() != Some(b'"') {
                return Err(self.expected("a string key"));
            }
            let key = self.string_item(depth + 1, true, key_at)?;
            self.expect(b':', "':'")?;
            let key = match key {
                Decoded::Tag(tag) if map.is_empty() => return self.tagged(tag, depth, b'}'),
                key => self.only_value(key, key_at)?,
            };
            let value = self.value(depth + 1)?;
            map.insert(key, value);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Value::Map(Box::new(map)));
                }
                _ => return Err(self.expected("',' or '}'")),
            }
        }
    }

    /// The representation of a tagged value at `depth`, decoded, and the
    /// `close` byte that ends its wrapper.
    fn tagged(&mut self, tag: Symbol, depth: usize, close: u8) -> Result<Value, UnpackError> {
        self.skip_ws();
        let at = self.pos;
        let decoded = match CollectionTag::of(tag.as_str()) {
            Some(collection) => {
                let items = self.rep_items(collection, depth)?;
                collection.build(items)
            }
            None => {
                let rep = self.value(depth + 1)?;
                decode_tagged(tag, rep)
            }
        };
        let value = decoded.map_err(|d| self.err_at(at, Kind::InvalidLiteral, d))?;
        self.expect(
            close,
            "the end of the tagged value (it has one representation)",
        )?;
        Ok(value)
    }

    /// The JSON array holding a collection tag's items (at `depth + 1`).
    fn rep_items(
        &mut self,
        collection: CollectionTag,
        depth: usize,
    ) -> Result<Vec<Value>, UnpackError> {
        if !self.eat(b'[') {
            let detail = format!("the tag `{}` takes an array", collection.name());
            return Err(self.err(Kind::InvalidLiteral, detail));
        }
        self.skip_ws();
        if self.eat(b']') {
            return Ok(Vec::new());
        }
        let first = self.value(depth + 1)?;
        self.elements(vec![first], depth)
    }

    /// A JSON string at `depth` (found at `at`), decoded. Markers are not
    /// values, so only values are checked against the depth limit.
    fn string_item(
        &mut self,
        depth: usize,
        as_map_key: bool,
        at: usize,
    ) -> Result<Decoded, UnpackError> {
        let raw = self.json_string()?;
        let decoded = self.decode_string(raw, as_map_key, at)?;
        if matches!(decoded, Decoded::Value(_)) {
            self.check_depth(depth, at)?;
        }
        Ok(decoded)
    }

    /// A JSON number, `true`, `false` or `null` at `depth` (found at `at`).
    fn scalar(&mut self, depth: usize, at: usize) -> Result<Value, UnpackError> {
        self.check_depth(depth, at)?;
        match self.peek() {
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b't') => self.literal("true", Value::Bool(true)),
            Some(b'f') => self.literal("false", Value::Bool(false)),
            Some(b'n') => self.literal("null", Value::Nil),
            _ => Err(self.expected("a JSON value")),
        }
    }

    fn literal(&mut self, word: &'static str, value: Value) -> Result<Value, UnpackError> {
        if self
            .bytes
            .get(self.pos..)
            .is_some_and(|rest| rest.starts_with(word.as_bytes()))
        {
            self.pos += word.len();
            Ok(value)
        } else {
            Err(self.err(
                Kind::Syntax,
                "invalid literal (expected true, false or null)",
            ))
        }
    }

    /// What the JSON string `raw` (found at `at`) stands for, through the cache.
    fn decode_string(
        &mut self,
        raw: Cow<'a, str>,
        as_map_key: bool,
        at: usize,
    ) -> Result<Decoded, UnpackError> {
        if raw == MAP_AS_ARRAY {
            return Ok(Decoded::MapMarker);
        }
        if raw.starts_with('^') {
            return cache_index(&raw)
                .and_then(|i| self.cache.get(i))
                .cloned()
                .ok_or_else(|| {
                    self.err_at(
                        at,
                        Kind::InvalidLiteral,
                        format!("unknown cache reference {raw:?}"),
                    )
                });
        }
        let decoded = match raw.strip_prefix('~') {
            None => Decoded::Value(Value::String(Arc::from(&*raw))),
            Some(rest) => {
                let mut chars = rest.chars();
                match chars.next() {
                    // A lone "~" is just that string.
                    None => Decoded::Value(Value::String(Arc::from(&*raw))),
                    Some('~' | '^' | '`') => Decoded::Value(Value::String(Arc::from(rest))),
                    Some('#') => Decoded::Tag(Symbol::new(chars.as_str())),
                    Some(tag) => Decoded::Value(
                        decode_scalar(tag, chars.as_str())
                            .map_err(|d| self.err_at(at, Kind::InvalidLiteral, d))?,
                    ),
                }
            }
        };
        if is_cacheable(&raw, as_map_key) {
            if self.cache.len() == MAX_CACHE_ENTRIES {
                self.cache.clear();
            }
            self.cache.push(decoded.clone());
        }
        Ok(decoded)
    }

    /// A JSON string literal, unescaped; borrowed when it has no escapes.
    fn json_string(&mut self) -> Result<Cow<'a, str>, UnpackError> {
        let open = self.pos;
        self.pos += 1;
        let mut owned: Option<String> = None;
        let mut run = self.pos;
        loop {
            match self.peek() {
                None => return Err(self.err_at(open, Kind::UnexpectedEnd, "unterminated string")),
                Some(b'"') => {
                    let tail = self.slice(run, self.pos);
                    self.pos += 1;
                    return Ok(match owned {
                        Some(mut s) => {
                            s.push_str(tail);
                            Cow::Owned(s)
                        }
                        None => Cow::Borrowed(tail),
                    });
                }
                Some(b'\\') => {
                    let esc_at = self.pos;
                    self.pos += 1;
                    let c = self.escape(esc_at, open)?;
                    let buf = owned.get_or_insert_with(String::new);
                    buf.push_str(self.slice(run, esc_at));
                    buf.push(c);
                    run = self.pos;
                }
                Some(0..0x20) => {
                    return Err(self.err(Kind::Syntax, "unescaped control character in a string"));
                }
                Some(_) => self.pos += 1,
            }
        }
    }

    /// The character of the escape whose backslash is at `esc_at`.
    fn escape(&mut self, esc_at: usize, open: usize) -> Result<char, UnpackError> {
        let Some(e) = self.peek() else {
            return Err(self.err_at(open, Kind::UnexpectedEnd, "unterminated string"));
        };
        self.pos += 1;
        Ok(match e {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let hi = self.hex4(esc_at)?;
                if (0xD800..0xDC00).contains(&hi)
                    && self.bytes.get(self.pos..self.pos + 2) == Some(b"\\u")
                {
                    let save = self.pos;
                    self.pos += 2;
                    let lo = self.hex4(esc_at)?;
                    if (0xDC00..0xE000).contains(&lo) {
                        let c = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                        return Ok(char::from_u32(c).unwrap_or(char::REPLACEMENT_CHARACTER));
                    }
                    self.pos = save;
                }
                // A lone surrogate cannot live in a Rust string.
                char::from_u32(hi).unwrap_or(char::REPLACEMENT_CHARACTER)
            }
            _ => return Err(self.err_at(esc_at, Kind::Syntax, "invalid escape in a string")),
        })
    }

    fn hex4(&mut self, esc_at: usize) -> Result<u32, UnpackError> {
        let digits = self
            .text
            .get(self.pos..self.pos + 4)
            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| self.err_at(esc_at, Kind::Syntax, "\\u needs four hex digits"))?;
        self.pos += 4;
        u32::from_str_radix(digits, 16)
            .map_err(|_| self.err_at(esc_at, Kind::Syntax, "bad \\u escape"))
    }

    /// A JSON number: `Int` when it is an integer that fits, `BigInt` when it
    /// does not, `Float` when it has a fraction or an exponent.
    fn number(&mut self) -> Result<Value, UnpackError> {
        let start = self.pos;
        self.eat(b'-');
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.skip_digits(),
            _ => return Err(self.expected("a digit")),
        }
        let mut is_float = false;
        if self.eat(b'.') {
            is_float = true;
            self.required_digits()?;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            is_float = true;
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            self.required_digits()?;
        }
        let text = self.slice(start, self.pos);
        let value = if is_float {
            text.parse().ok().map(Value::Float)
        } else {
            text.parse()
                .ok()
                .map(Value::Int)
                .or_else(|| BigInt::parse(text).map(Value::BigInt))
        };
        value.ok_or_else(|| {
            self.err_at(
                start,
                Kind::InvalidLiteral,
                format!("invalid number {text}"),
            )
        })
    }

    fn skip_digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
    }

    fn required_digits(&mut self) -> Result<(), UnpackError> {
        if !matches!(self.peek(), Some(b'0'..=b'9')) {
            return Err(self.expected("a digit"));
        }
        self.skip_digits();
        Ok(())
    }
}

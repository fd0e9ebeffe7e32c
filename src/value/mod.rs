//! [`Value`]: the dynamic data model every packer reads and writes.
//!
//! It is complete for EDN, so whatever a Clojure(Script) Sente peer sends can
//! be held, inspected and sent back unchanged: nil, booleans, integers (64-bit
//! and arbitrary precision), doubles, big decimals, ratios, strings,
//! characters, keywords, symbols, vectors, lists, maps (insertion-ordered, any
//! value as key), sets, UUIDs, instants, byte strings and tagged values
//! (`#my/tag value`, passed through when the tag is unknown).
//!
//! Equality follows Clojure's `=` where that is cheap to honour: a vector equals
//! a list with the same elements, a big integer equals the `Int` of the same
//! value, maps and sets compare regardless of order, and floats compare by
//! value with `NaN` equal to itself (so any value can be a map key).
//!
//! Your own types travel through [`to_value`] and [`from_value`] (the serde
//! bridge); see [`to_value`] and [`from_value`] for the mapping.

mod inst;
mod name;
mod number;
pub(crate) mod print;
mod serde;
pub(crate) mod syntax;

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

pub use self::serde::{
    PathSegment, SERDE_MAX_DEPTH, ValueDeserializer, ValueError, ValueErrorKind, ValueSerializer,
    from_value, from_value_ref, to_value,
};
pub use inst::{Inst, InstOutOfRange};
pub use name::{Keyword, Symbol};
pub use number::{BigDec, BigInt, Ratio};
pub use uuid::Uuid;

/// The hasher of [`Map`] and [`Set`]: foldhash, seeded at random per
/// process (fast on the short keys events carry, and not predictable by a
/// peer choosing keys).
pub type ValueHasher = foldhash::fast::RandomState;
/// An insertion-ordered map from values to values. Make one with
/// `Map::default()` or `collect()`.
pub type Map = indexmap::IndexMap<Value, Value, ValueHasher>;
/// An insertion-ordered set of values. Make one with `Set::default()` or `collect()`.
pub type Set = indexmap::IndexSet<Value, ValueHasher>;

/// A tagged literal `#tag value` whose tag this library does not interpret.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Tagged {
    /// The tag, e.g. `my.app/point` for `#my.app/point [1 2]`.
    pub tag: Symbol,
    /// The tagged value.
    pub value: Value,
}

/// A dynamically typed EDN value. See the [module docs](self).
///
/// `Value` is 32 bytes; strings, names, byte strings and big numbers are
/// reference-counted so cloning them is cheap. Cloning a collection copies
/// it level by level without recursion, so a value of any depth clones on
/// any stack.
#[derive(Default)]
pub enum Value {
    /// `nil`
    #[default]
    Nil,
    /// `true` / `false`
    Bool(bool),
    /// A 64-bit integer.
    Int(i64),
    /// An integer of any size (`123N`).
    BigInt(BigInt),
    /// A double.
    Float(f64),
    /// A decimal of any precision (`1.5M`).
    BigDec(BigDec),
    /// A ratio (`1/3`).
    Ratio(Arc<Ratio>),
    /// A string.
    String(Arc<str>),
    /// A character (`\a`).
    Char(char),
    /// A keyword (`:ns/name`).
    Keyword(Keyword),
    /// A symbol (`ns/name`).
    Symbol(Symbol),
    /// A vector (`[a b]`).
    Vector(Vec<Value>),
    /// A list (`(a b)`).
    List(Vec<Value>),
    /// A map (`{k v}`), insertion-ordered.
    Map(Box<Map>),
    /// A set (`#{a b}`), insertion-ordered.
    Set(Box<Set>),
    /// A UUID (`#uuid "…"`).
    Uuid(Uuid),
    /// An instant (`#inst "…"`).
    Inst(Inst),
    /// A byte string (binary packers carry it natively; EDN has no literal for it).
    Bytes(Arc<[u8]>),
    /// A tagged value with a tag we do not interpret.
    Tagged(Box<Tagged>),
}

impl Value {
    /// A keyword value from its text without the colon: `Value::keyword("chsk/state")`.
    pub fn keyword(full: &str) -> Self {
        Self::Keyword(Keyword::new(full))
    }

    /// A symbol value.
    pub fn symbol(full: &str) -> Self {
        Self::Symbol(Symbol::new(full))
    }

    /// A string value.
    pub fn string(s: impl Into<Arc<str>>) -> Self {
        Self::String(s.into())
    }

    /// A vector of the given items.
    pub fn vector(items: impl IntoIterator<Item = Value>) -> Self {
        Self::Vector(items.into_iter().collect())
    }

    /// A map of the given entries (a later duplicate key replaces the earlier value).
    pub fn map(entries: impl IntoIterator<Item = (Value, Value)>) -> Self {
        Self::Map(Box::new(entries.into_iter().collect()))
    }

    /// A set of the given items.
    pub fn set(items: impl IntoIterator<Item = Value>) -> Self {
        Self::Set(Box::new(items.into_iter().collect()))
    }

    /// A tagged value `#tag value`.
    pub fn tagged(tag: &str, value: Value) -> Self {
        Self::Tagged(Box::new(Tagged {
            tag: Symbol::new(tag),
            value,
        }))
    }

    /// Clojure's `(/ numerator denominator)` for two integers, which is how
    /// its reader makes a ratio literal (`EdnReader.matchNumber` divides with
    /// `Numbers.divide`): `None` for a zero denominator; an integer when the
    /// division is exact (`4/2` is `2`; a `BigInt` when either part is
    /// outside the `i64` range, as Clojure's `BigIntOps` gives `2N`);
    /// otherwise a [`Ratio`] in lowest terms with a positive denominator
    /// (`-3/9` is `-1/3`).
    ///
    /// Parts of more than 100 digits are not reduced (a bound on the work a
    /// peer can ask for): only their sign is normalised.
    pub fn ratio(numerator: BigInt, denominator: BigInt) -> Option<Self> {
        let longs = numerator.to_i64().is_some() && denominator.to_i64().is_some();
        Ratio::divide(&numerator, &denominator, longs)
    }

    /// True for `nil`.
    pub fn is_nil(&self) -> bool {
        matches!(self, Self::Nil)
    }

    /// Clojure truthiness: everything but `nil` and `false`.
    pub fn is_truthy(&self) -> bool {
        !matches!(self, Self::Nil | Self::Bool(false))
    }

    /// The keyword, if this is one.
    pub fn as_keyword(&self) -> Option<&Keyword> {
        match self {
            Self::Keyword(k) => Some(k),
            _ => None,
        }
    }

    /// True if this is the keyword with the given text (`"chsk/timeout"`).
    pub fn is_keyword(&self, full: &str) -> bool {
        matches!(self, Self::Keyword(k) if k.as_str() == full)
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::String(s) => Some(s),
            _ => None,
        }
    }

    /// The integer, if this is an `Int` (or a `BigInt` that fits).
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Self::Int(i) => Some(*i),
            Self::BigInt(b) => b.to_i64(),
            _ => None,
        }
    }

    /// The number as a double, for any numeric variant.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Self::Int(i) => Some(*i as f64),
            Self::Float(f) => Some(*f),
            Self::BigInt(b) => b.as_str().parse().ok(),
            Self::BigDec(d) => Some(d.to_f64()),
            Self::Ratio(r) => Some(r.to_f64()),
            _ => None,
        }
    }

    /// The elements, if this is a vector or a list.
    pub fn as_seq(&self) -> Option<&[Value]> {
        match self {
            Self::Vector(v) | Self::List(v) => Some(v),
            _ => None,
        }
    }

    /// The map, if this is one.
    pub fn as_map(&self) -> Option<&Map> {
        match self {
            Self::Map(m) => Some(m),
            _ => None,
        }
    }

    /// Looks a key up in a map value; `None` when absent or not a map.
    pub fn get(&self, key: &Value) -> Option<&Value> {
        self.as_map()?.get(key)
    }

    /// A short name of the variant, for error messages (`"vector"`, `"keyword"`, …).
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Nil => "nil",
            Self::Bool(_) => "boolean",
            Self::Int(_) => "integer",
            Self::BigInt(_) => "bigint",
            Self::Float(_) => "double",
            Self::BigDec(_) => "bigdec",
            Self::Ratio(_) => "ratio",
            Self::String(_) => "string",
            Self::Char(_) => "char",
            Self::Keyword(_) => "keyword",
            Self::Symbol(_) => "symbol",
            Self::Vector(_) => "vector",
            Self::List(_) => "list",
            Self::Map(_) => "map",
            Self::Set(_) => "set",
            Self::Uuid(_) => "uuid",
            Self::Inst(_) => "inst",
            Self::Bytes(_) => "bytes",
            Self::Tagged(_) => "tagged",
        }
    }

    /// The nesting depth: 1 for a scalar, one more per level of collection.
    ///
    /// Iterative, so it is safe to call on values of any depth.
    pub fn depth(&self) -> usize {
        let mut max = 0;
        let mut stack: Vec<(&Value, usize)> = vec![(self, 1)];
        while let Some((v, d)) = stack.pop() {
            max = max.max(d);
            match v {
                Self::Vector(xs) | Self::List(xs) => stack.extend(xs.iter().map(|x| (x, d + 1))),
                Self::Set(xs) => stack.extend(xs.iter().map(|x| (x, d + 1))),
                Self::Map(m) => {
                    for (k, x) in m.iter() {
                        stack.push((k, d + 1));
                        stack.push((x, d + 1));
                    }
                }
                Self::Tagged(t) => stack.push((&t.value, d + 1)),
                _ => {}
            }
        }
        max
    }
}

impl Value {
    /// The nesting depth (as [`depth`](Self::depth)) and about how many
    /// bytes the value takes in a text format such as EDN (strings and
    /// names by their length, other scalars by a typical width, one
    /// separator per element). One iterative walk.
    pub(crate) fn depth_and_size(&self) -> (usize, usize) {
        let mut max = 0;
        let mut size = 0;
        let mut stack: Vec<(&Value, usize)> = vec![(self, 1)];
        while let Some((v, d)) = stack.pop() {
            max = max.max(d);
            size += match v {
                Self::String(s) => s.len() + 3,
                Self::Keyword(k) => k.as_str().len() + 2,
                Self::Symbol(s) => s.as_str().len() + 1,
                Self::Bytes(b) => b.len() * 4 / 3 + 16,
                Self::Vector(xs) | Self::List(xs) => {
                    stack.extend(xs.iter().map(|x| (x, d + 1)));
                    2
                }
                Self::Set(xs) => {
                    stack.extend(xs.iter().map(|x| (x, d + 1)));
                    3
                }
                Self::Map(m) => {
                    for (k, x) in m.iter() {
                        stack.push((k, d + 1));
                        stack.push((x, d + 1));
                    }
                    2
                }
                Self::Tagged(t) => {
                    stack.push((&t.value, d + 1));
                    t.tag.as_str().len() + 2
                }
                Self::Uuid(_) | Self::Inst(_) => 40,
                _ => 8,
            };
        }
        (max, size)
    }
}

impl Clone for Value {
    fn clone(&self) -> Self {
        match self {
            Self::Nil => Self::Nil,
            Self::Bool(b) => Self::Bool(*b),
            Self::Int(i) => Self::Int(*i),
            Self::BigInt(b) => Self::BigInt(b.clone()),
            Self::Float(f) => Self::Float(*f),
            Self::BigDec(d) => Self::BigDec(d.clone()),
            Self::Ratio(r) => Self::Ratio(r.clone()),
            Self::String(s) => Self::String(s.clone()),
            Self::Char(c) => Self::Char(*c),
            Self::Keyword(k) => Self::Keyword(k.clone()),
            Self::Symbol(s) => Self::Symbol(s.clone()),
            Self::Uuid(u) => Self::Uuid(*u),
            Self::Inst(i) => Self::Inst(*i),
            Self::Bytes(b) => Self::Bytes(b.clone()),
            Self::Vector(_) | Self::List(_) | Self::Map(_) | Self::Set(_) | Self::Tagged(_) => {
                clone_deep(self)
            }
        }
    }
}

/// A collection being copied by [`clone_deep`]: what is left of the
/// original, and the copy so far.
enum Copying<'a> {
    Seq {
        list: bool,
        rest: std::slice::Iter<'a, Value>,
        out: Vec<Value>,
    },
    Set {
        rest: indexmap::set::Iter<'a, Value>,
        out: Set,
    },
    Map {
        rest: indexmap::map::Iter<'a, Value, Value>,
        out: Map,
        /// The copied key whose value is being copied.
        key: Option<Value>,
        /// The original value of that key, until its copy starts.
        value: Option<&'a Value>,
    },
    Tagged {
        tag: Symbol,
    },
}

/// Copies a collection with an explicit stack of the collections being
/// copied (one entry per level), instead of recursing.
fn clone_deep(root: &Value) -> Value {
    let mut stack: Vec<Copying<'_>> = Vec::new();
    let mut next = root;
    loop {
        // Start copying `next`: a scalar is done at once, a collection is
        // pushed and its first element is next.
        let mut done = match next {
            Value::Vector(xs) | Value::List(xs) => {
                stack.push(Copying::Seq {
                    list: matches!(next, Value::List(_)),
                    rest: xs.iter(),
                    out: Vec::with_capacity(xs.len()),
                });
                None
            }
            Value::Set(xs) => {
                stack.push(Copying::Set {
                    rest: xs.iter(),
                    out: Set::with_capacity_and_hasher(xs.len(), Default::default()),
                });
                None
            }
            Value::Map(m) => {
                stack.push(Copying::Map {
                    rest: m.iter(),
                    out: Map::with_capacity_and_hasher(m.len(), Default::default()),
                    key: None,
                    value: None,
                });
                None
            }
            Value::Tagged(t) => {
                stack.push(Copying::Tagged { tag: t.tag.clone() });
                next = &t.value;
                continue;
            }
            scalar => Some(scalar.clone()),
        };
        // Hand finished copies up until a collection has another element.
        loop {
            let Some(top) = stack.last_mut() else {
                return done.unwrap_or_default();
            };
            let child = match top {
                Copying::Seq { rest, out, .. } => {
                    out.extend(done.take());
                    rest.next()
                }
                Copying::Set { rest, out } => {
                    if let Some(v) = done.take() {
                        out.insert(v);
                    }
                    rest.next()
                }
                Copying::Map {
                    rest,
                    out,
                    key,
                    value,
                } => match (done.take(), key.take()) {
                    // A key is copied: its value is next.
                    (Some(k), None) if value.is_some() => {
                        *key = Some(k);
                        value.take()
                    }
                    (Some(v), Some(k)) => {
                        out.insert(k, v);
                        rest.next().map(|(k, v)| {
                            *value = Some(v);
                            k
                        })
                    }
                    _ => rest.next().map(|(k, v)| {
                        *value = Some(v);
                        k
                    }),
                },
                Copying::Tagged { .. } => None,
            };
            if let Some(child) = child {
                next = child;
                break;
            }
            done = Some(match stack.pop() {
                Some(Copying::Seq {
                    list: true, out, ..
                }) => Value::List(out),
                Some(Copying::Seq { out, .. }) => Value::Vector(out),
                Some(Copying::Set { out, .. }) => Value::Set(Box::new(out)),
                Some(Copying::Map { out, .. }) => Value::Map(Box::new(out)),
                Some(Copying::Tagged { tag }) => Value::Tagged(Box::new(Tagged {
                    tag,
                    value: done.unwrap_or_default(),
                })),
                None => Value::Nil,
            });
        }
    }
}

/// Canonical bits of a float for equality and hashing: `-0.0` is `0.0` and all
/// NaNs are one NaN.
fn float_key(f: f64) -> u64 {
    if f == 0.0 {
        0
    } else if f.is_nan() {
        f64::NAN.to_bits()
    } else {
        f.to_bits()
    }
}

impl PartialEq for Value {
    /// Clojure's `=` where it is cheap (see the [module docs](self)).
    /// Collections are compared with an explicit stack, so nesting through
    /// vectors, lists, map values and tags costs no stack. A set element or
    /// a map key is found by a lookup, which compares it in a nested call:
    /// nesting through set elements or map keys costs about 1.7 KiB of stack
    /// a level in debug builds and 0.3 KiB in release (`tests/stack_depth.rs`).
    fn eq(&self, other: &Self) -> bool {
        use Value::*;
        match (self, other) {
            (Nil, Nil) => true,
            (Bool(a), Bool(b)) => a == b,
            (Int(a), Int(b)) => a == b,
            (BigInt(a), BigInt(b)) => a == b,
            (Int(a), BigInt(b)) | (BigInt(b), Int(a)) => b.to_i64() == Some(*a),
            (Float(a), Float(b)) => float_key(*a) == float_key(*b),
            (BigDec(a), BigDec(b)) => a == b,
            (Ratio(a), Ratio(b)) => a == b,
            (String(a), String(b)) => a == b,
            (Char(a), Char(b)) => a == b,
            (Keyword(a), Keyword(b)) => a == b,
            (Symbol(a), Symbol(b)) => a == b,
            (Vector(_) | List(_), Vector(_) | List(_))
            | (Map(_), Map(_))
            | (Set(_), Set(_))
            | (Tagged(_), Tagged(_)) => eq_deep(self, other),
            (Uuid(a), Uuid(b)) => a == b,
            (Inst(a), Inst(b)) => a == b,
            (Bytes(a), Bytes(b)) => a == b,
            _ => false,
        }
    }
}

/// Compares two collections level by level with a stack of the pairs
/// still to compare: sequences element by element, maps by looking each
/// key up (values compared later), sets by membership, tagged values by
/// tag and value.
fn eq_deep(a: &Value, b: &Value) -> bool {
    let mut pairs = vec![(a, b)];
    while let Some(pair) = pairs.pop() {
        match pair {
            (Value::Vector(x) | Value::List(x), Value::Vector(y) | Value::List(y)) => {
                if x.len() != y.len() {
                    return false;
                }
                pairs.extend(x.iter().zip(y.iter()));
            }
            (Value::Map(x), Value::Map(y)) => {
                if x.len() != y.len() {
                    return false;
                }
                for (k, v) in x.iter() {
                    match y.get(k) {
                        Some(w) => pairs.push((v, w)),
                        None => return false,
                    }
                }
            }
            (Value::Set(x), Value::Set(y)) => {
                if x.len() != y.len() || !x.iter().all(|e| y.contains(e)) {
                    return false;
                }
            }
            (Value::Tagged(x), Value::Tagged(y)) => {
                if x.tag != y.tag {
                    return false;
                }
                pairs.push((&x.value, &y.value));
            }
            (x, y) => {
                if x != y {
                    return false;
                }
            }
        }
    }
    true
}

impl Eq for Value {}

impl Hash for Value {
    /// Maps and sets hash regardless of order. Collections are walked with
    /// an explicit stack, so a value of any depth hashes on
    /// any stack; scalars hash here directly.
    fn hash<H: Hasher>(&self, state: &mut H) {
        use Value::*;
        match self {
            Nil => state.write_u8(0),
            Bool(b) => b.hash(state),
            Int(i) => i.hash(state),
            BigInt(b) => match b.to_i64() {
                Some(i) => i.hash(state),
                None => b.hash(state),
            },
            Float(f) => float_key(*f).hash(state),
            BigDec(d) => d.hash(state),
            Ratio(r) => r.hash(state),
            String(s) => s.hash(state),
            Char(c) => c.hash(state),
            Keyword(k) => {
                state.write_u8(1);
                k.hash(state)
            }
            Symbol(s) => {
                state.write_u8(2);
                s.hash(state)
            }
            Uuid(u) => u.hash(state),
            Inst(i) => i.hash(state),
            Bytes(b) => b.hash(state),
            Vector(_) | List(_) | Map(_) | Set(_) | Tagged(_) => hash_deep(self, state),
        }
    }
}

/// A step of [`hash_deep`].
enum Hashing<'a> {
    /// Hash this value into the current hasher.
    Value(&'a Value),
    /// A map entry or set element starts: it gets a hasher of its own.
    EntryStart,
    /// It ends: its hash is added to its collection's sum.
    EntryEnd,
    /// A map or set ends: its length and the sum of its entries' hashes go
    /// into the hasher that was current when it started.
    CollectionEnd { len: usize },
}

/// Hashes a collection as the recursive definition would (a sequence as its
/// length and its elements in order; a map or set as its length and the
/// wrapping sum of its entries' own hashes, so order does not matter; a
/// tagged value as its tag and value), with explicit stacks.
fn hash_deep<H: Hasher>(root: &Value, state: &mut H) {
    use std::collections::hash_map::DefaultHasher;
    let mut work = vec![Hashing::Value(root)];
    let mut entries: Vec<DefaultHasher> = Vec::new();
    let mut sums: Vec<u64> = Vec::new();
    while let Some(step) = work.pop() {
        let mut current: &mut dyn Hasher = match entries.last_mut() {
            Some(entry) => entry,
            None => &mut *state,
        };
        match step {
            Hashing::Value(Value::Vector(xs) | Value::List(xs)) => {
                current.write_usize(xs.len());
                work.extend(xs.iter().rev().map(Hashing::Value));
            }
            Hashing::Value(Value::Map(m)) => {
                sums.push(0);
                work.push(Hashing::CollectionEnd { len: m.len() });
                for (k, v) in m.iter().rev() {
                    work.extend([
                        Hashing::EntryEnd,
                        Hashing::Value(v),
                        Hashing::Value(k),
                        Hashing::EntryStart,
                    ]);
                }
            }
            Hashing::Value(Value::Set(s)) => {
                sums.push(0);
                work.push(Hashing::CollectionEnd { len: s.len() });
                for x in s.iter().rev() {
                    work.extend([Hashing::EntryEnd, Hashing::Value(x), Hashing::EntryStart]);
                }
            }
            Hashing::Value(Value::Tagged(t)) => {
                t.tag.hash(&mut current);
                work.push(Hashing::Value(&t.value));
            }
            // A scalar: `Value::hash` does not come back here.
            Hashing::Value(scalar) => scalar.hash(&mut current),
            Hashing::EntryStart => entries.push(DefaultHasher::new()),
            Hashing::EntryEnd => {
                if let (Some(entry), Some(sum)) = (entries.pop(), sums.last_mut()) {
                    *sum = sum.wrapping_add(entry.finish());
                }
            }
            Hashing::CollectionEnd { len } => {
                let sum = sums.pop().unwrap_or_default();
                current.write_usize(len);
                current.write_u64(sum);
            }
        }
    }
}

impl fmt::Debug for Value {
    /// Debug output is the EDN text, which is what Clojure developers expect to read.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Value {
    /// Prints the value as EDN, the way Clojure's `pr-str` would.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        print::display(self, f)
    }
}

macro_rules! from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(n: $t) -> Self {
                Value::Int(i64::from(n))
            }
        }
    )*};
}
from_int!(i8, i16, i32, i64, u8, u16, u32);

impl From<u64> for Value {
    /// Values above `i64::MAX` become a [`BigInt`].
    fn from(n: u64) -> Self {
        match i64::try_from(n) {
            Ok(i) => Value::Int(i),
            Err(_) => Value::BigInt(BigInt::from_i128(i128::from(n))),
        }
    }
}

impl From<i128> for Value {
    /// Values outside the `i64` range become a [`BigInt`].
    fn from(n: i128) -> Self {
        match i64::try_from(n) {
            Ok(i) => Value::Int(i),
            Err(_) => Value::BigInt(BigInt::from_i128(n)),
        }
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Self {
        Value::Float(f)
    }
}

impl From<f32> for Value {
    fn from(f: f32) -> Self {
        Value::Float(f64::from(f))
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<char> for Value {
    fn from(c: char) -> Self {
        Value::Char(c)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(Arc::from(s))
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(Arc::from(s))
    }
}

impl From<Keyword> for Value {
    fn from(k: Keyword) -> Self {
        Value::Keyword(k)
    }
}

impl From<Symbol> for Value {
    fn from(s: Symbol) -> Self {
        Value::Symbol(s)
    }
}

impl From<Uuid> for Value {
    fn from(u: Uuid) -> Self {
        Value::Uuid(u)
    }
}

impl From<Inst> for Value {
    fn from(i: Inst) -> Self {
        Value::Inst(i)
    }
}

impl From<Vec<Value>> for Value {
    fn from(v: Vec<Value>) -> Self {
        Value::Vector(v)
    }
}

impl From<Map> for Value {
    fn from(m: Map) -> Self {
        Value::Map(Box::new(m))
    }
}

impl From<Set> for Value {
    fn from(s: Set) -> Self {
        Value::Set(Box::new(s))
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    /// `None` becomes `nil`.
    fn from(o: Option<T>) -> Self {
        o.map_or(Value::Nil, Into::into)
    }
}

impl FromIterator<Value> for Value {
    /// Collects into a vector.
    fn from_iter<I: IntoIterator<Item = Value>>(iter: I) -> Self {
        Value::Vector(iter.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::hash_map::DefaultHasher;

    fn hash_of(v: &Value) -> u64 {
        let mut h = DefaultHasher::new();
        v.hash(&mut h);
        h.finish()
    }

    #[test]
    fn equality_follows_clojure_where_cheap() {
        let v = Value::vector([Value::from(1), Value::from(2)]);
        let l = Value::List(vec![Value::from(1), Value::from(2)]);
        assert_eq!(v, l);
        assert_eq!(hash_of(&v), hash_of(&l));
        let big = Value::BigInt(BigInt::parse("7").unwrap());
        assert_eq!(big, Value::Int(7));
        assert_eq!(hash_of(&big), hash_of(&Value::Int(7)));
        assert_eq!(Value::Float(f64::NAN), Value::Float(f64::NAN));
        assert_eq!(Value::Float(-0.0), Value::Float(0.0));
        assert_ne!(Value::Int(1), Value::Float(1.0));
        assert_ne!(Value::keyword("a"), Value::symbol("a"));
        assert_ne!(Value::keyword("a"), Value::from("a"));
    }

    #[test]
    fn maps_compare_and_hash_regardless_of_order() {
        let a = Value::map([
            (Value::keyword("a"), 1.into()),
            (Value::keyword("b"), 2.into()),
        ]);
        let b = Value::map([
            (Value::keyword("b"), 2.into()),
            (Value::keyword("a"), 1.into()),
        ]);
        assert_eq!(a, b);
        assert_eq!(hash_of(&a), hash_of(&b));
    }

    #[test]
    fn value_stays_small() {
        assert_eq!(std::mem::size_of::<Value>(), 32);
    }

    #[test]
    fn clones_copy_every_kind_of_collection() {
        let v = crate::edn::from_str(
            r#"[(1 #{2 [3]}) {:a {[4] #my/tag {:b (5)}}} #{} {} [] () #x #y 6 "s" :k 1/3 2N]"#,
        )
        .unwrap();
        let copy = v.clone();
        assert_eq!(copy, v);
        assert_eq!(copy.to_string(), v.to_string());
        assert!(matches!(&copy, Value::Vector(xs) if matches!(xs[0], Value::List(_))));
        assert_eq!(Value::from(1).clone(), Value::from(1));
    }

    #[test]
    fn depth_is_iterative() {
        let mut v = Value::Nil;
        for _ in 0..10 {
            v = Value::vector([v]);
        }
        assert_eq!(v.depth(), 11);
        assert!(Value::from(true).is_truthy());
        assert!(!Value::Nil.is_truthy());
        assert!(!Value::Bool(false).is_truthy());
    }
}

//! Shared test support: proptest strategies for arbitrary [`Value`]s.
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;

use proptest::prelude::*;
use sente::value::{BigDec, BigInt, Inst, Keyword, Symbol, Uuid, Value};

/// Which kinds of value a packer can represent exactly (round-trip to an equal value).
#[derive(Debug, Clone, Copy)]
pub struct Caps {
    pub big_int: bool,
    pub big_dec: bool,
    pub ratio: bool,
    pub chars: bool,
    pub symbols: bool,
    /// Lists stay lists (vectors and lists compare equal anyway).
    pub lists: bool,
    pub sets: bool,
    pub tagged: bool,
    pub bytes: bool,
    pub keywords: bool,
    /// Non-finite floats.
    pub non_finite: bool,
    /// Instants with sub-millisecond precision.
    pub inst_nanos: bool,
    pub insts: bool,
    pub uuids: bool,
    /// Map keys other than strings and keywords.
    pub any_map_keys: bool,
}

impl Caps {
    /// Everything (EDN, bincode).
    pub const ALL: Caps = Caps {
        big_int: true,
        big_dec: true,
        ratio: true,
        chars: true,
        symbols: true,
        lists: true,
        sets: true,
        tagged: true,
        bytes: true,
        keywords: true,
        non_finite: true,
        inst_nanos: true,
        insts: true,
        uuids: true,
        any_map_keys: true,
    };
}

fn name_text() -> impl Strategy<Value = String> {
    (
        "[a-z][a-z0-9_?!*-]{0,8}",
        proptest::option::of("[a-z][a-z0-9.]{0,6}"),
    )
        .prop_filter("reserved words read as nil/true/false", |(n, ns)| {
            ns.is_some() || !matches!(n.as_str(), "nil" | "true" | "false")
        })
        .prop_map(|(n, ns)| match ns {
            Some(ns) => format!("{ns}/{n}"),
            None => n,
        })
}

pub fn arb_scalar(caps: Caps) -> BoxedStrategy<Value> {
    let mut s: Vec<BoxedStrategy<Value>> = vec![
        Just(Value::Nil).boxed(),
        any::<bool>().prop_map(Value::Bool).boxed(),
        any::<i64>().prop_map(Value::Int).boxed(),
        (-1000i64..1000).prop_map(Value::Int).boxed(),
        any::<f64>()
            .prop_filter("finite unless allowed", move |f| {
                caps.non_finite || f.is_finite()
            })
            .prop_map(Value::Float)
            .boxed(),
        ".{0,20}"
            .prop_map(|s: String| Value::String(Arc::from(s)))
            .boxed(),
    ];
    if caps.keywords {
        s.push(
            name_text()
                .prop_map(|n| Value::Keyword(Keyword::new(n)))
                .boxed(),
        );
    }
    if caps.symbols {
        s.push(
            name_text()
                .prop_map(|n| Value::Symbol(Symbol::new(n)))
                .boxed(),
        );
    }
    if caps.chars {
        s.push(any::<char>().prop_map(Value::Char).boxed());
    }
    if caps.big_int {
        s.push(
            "-?[1-9][0-9]{19,30}"
                .prop_map(|t| Value::BigInt(BigInt::parse(&t).unwrap()))
                .boxed(),
        );
    }
    if caps.big_dec {
        s.push(
            "-?[0-9]{1,5}\\.[0-9]{1,5}"
                .prop_map(|t| Value::BigDec(BigDec::parse(&t).unwrap()))
                .boxed(),
        );
    }
    if caps.ratio {
        s.push(
            (any::<i32>(), 1u32..1000)
                // As Clojure makes them (reduced; `4/2` is `2`): what a
                // reader gives back.
                .prop_map(|(n, d)| {
                    Value::ratio(BigInt::from_i128(n.into()), BigInt::from_i128(d.into())).unwrap()
                })
                .boxed(),
        );
    }
    if caps.uuids {
        s.push(
            any::<u128>()
                .prop_map(|n| Value::Uuid(Uuid::from_u128(n)))
                .boxed(),
        );
    }
    if caps.insts {
        if caps.inst_nanos {
            s.push(
                (-10_000_000_000i64..10_000_000_000, 0u32..1_000_000_000)
                    .prop_map(|(s, n)| Value::Inst(Inst::new(s, n).unwrap()))
                    .boxed(),
            );
        } else {
            s.push(
                (-100_000_000_000_000i64..100_000_000_000_000)
                    .prop_map(|ms| Value::Inst(Inst::from_millis(ms)))
                    .boxed(),
            );
        }
    }
    if caps.bytes {
        s.push(
            proptest::collection::vec(any::<u8>(), 0..40)
                .prop_map(|b| Value::Bytes(Arc::from(b)))
                .boxed(),
        );
    }
    proptest::strategy::Union::new(s).boxed()
}

fn arb_key(caps: Caps) -> BoxedStrategy<Value> {
    if caps.any_map_keys {
        arb_scalar(caps)
    } else if caps.keywords {
        prop_oneof![
            ".{0,10}".prop_map(|s: String| Value::String(Arc::from(s))),
            name_text().prop_map(|n| Value::Keyword(Keyword::new(n))),
        ]
        .boxed()
    } else {
        ".{0,10}"
            .prop_map(|s: String| Value::String(Arc::from(s)))
            .boxed()
    }
}

/// Arbitrary values up to a few levels deep.
pub fn arb_value(caps: Caps) -> BoxedStrategy<Value> {
    arb_scalar(caps)
        .prop_recursive(4, 64, 8, move |inner| {
            let mut s: Vec<BoxedStrategy<Value>> = vec![
                proptest::collection::vec(inner.clone(), 0..8)
                    .prop_map(Value::Vector)
                    .boxed(),
                proptest::collection::vec((arb_key(caps), inner.clone()), 0..6)
                    .prop_map(Value::map)
                    .boxed(),
            ];
            if caps.lists {
                s.push(
                    proptest::collection::vec(inner.clone(), 0..8)
                        .prop_map(Value::List)
                        .boxed(),
                );
            }
            if caps.sets {
                s.push(
                    proptest::collection::vec(inner.clone(), 0..8)
                        .prop_map(Value::set)
                        .boxed(),
                );
            }
            if caps.tagged {
                s.push(
                    ("[a-z]{1,5}/[a-z]{1,5}", inner)
                        .prop_map(|(t, v)| Value::tagged(&t, v))
                        .boxed(),
                );
            }
            proptest::strategy::Union::new(s).boxed()
        })
        .boxed()
}

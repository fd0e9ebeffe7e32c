//! Stack use of every recursive path a network value goes through: the
//! readers and writers of every packer, the serde bridge, and dropping,
//! cloning, comparing and hashing a `Value`. (Cloning is iterative; it is
//! here to keep it so.)
//!
//! - The guard tests run each path at its deepest accepted nesting (each
//!   packer's ceiling, which is also the most a user can configure) on a
//!   thread with [`GUARD_STACK`] bytes of stack: a quarter of the 2 MiB a
//!   spawned std thread, a tokio worker or an async-executor (smol) thread
//!   gets by default, leaving the rest to whatever is above the packer in
//!   the caller's task. An overflow aborts the test binary.
//! - `stack_per_level` (ignored; `cargo test --all-features --test
//!   stack_depth -- --ignored --nocapture`, and again with `--release`)
//!   measures the bytes of stack each level costs on each path (only the
//!   paths whose name contains `SENTE_STACK_CASES`, when set): it finds,
//!   in child processes, the smallest stack that runs the path at two
//!   depths, and divides the difference by the levels between them.
#![cfg(all(
    feature = "edn",
    feature = "transit",
    feature = "msgpack",
    feature = "bincode"
))]

use std::sync::Arc;

use sente::Value;
use sente::packer::{BincodePacker, EdnPacker, MsgpackPacker, PackedRef, Packer, TransitPacker};
use sente::value::{ValueDeserializer, ValueSerializer};
use serde::{Deserialize, Serialize};

/// The stack the guard tests give each packer path at its ceiling: half
/// of a default 2 MiB thread.
const GUARD_STACK: usize = 1 << 20;

/// How a value nests: the container put around the level below.
#[derive(Clone, Copy, Debug)]
enum Shape {
    Vector,
    List,
    Set,
    MapValue,
    MapKey,
    Tagged,
}

const SHAPES: [Shape; 6] = [
    Shape::Vector,
    Shape::List,
    Shape::Set,
    Shape::MapValue,
    Shape::MapKey,
    Shape::Tagged,
];

/// A value `depth` levels deep (a scalar is one level), built without recursion.
fn nested(shape: Shape, depth: usize) -> Value {
    let mut v = Value::from(1);
    for _ in 1..depth {
        v = match shape {
            Shape::Vector => Value::vector([v]),
            Shape::List => Value::List(vec![v]),
            Shape::Set => Value::set([v]),
            Shape::MapValue => Value::map([(Value::keyword("a"), v)]),
            Shape::MapKey => Value::map([(v, Value::Nil)]),
            Shape::Tagged => Value::tagged("my/tag", v),
        };
    }
    v
}

/// The packers, each at the given nesting limit.
fn packers(max_depth: usize) -> Vec<(&'static str, Arc<dyn Packer>)> {
    vec![
        ("edn", Arc::new(EdnPacker::new().with_max_depth(max_depth))),
        (
            "transit",
            Arc::new(TransitPacker::new().with_max_depth(max_depth)),
        ),
        (
            "msgpack",
            Arc::new(MsgpackPacker::new().with_max_depth(max_depth)),
        ),
        (
            "bincode",
            Arc::new(BincodePacker::new().with_max_depth(max_depth)),
        ),
    ]
}

/// Whether `packer` has a form for `shape` (msgpack has no tagged values).
fn supports(packer: &str, shape: Shape) -> bool {
    !(packer == "msgpack" && matches!(shape, Shape::Tagged))
}

/// One path at one depth. `run` does the work the measurement is about;
/// what it needs is prepared by `prepare` on the calling thread.
struct Case {
    name: String,
    kind: Kind,
    prepare: Box<dyn Fn(usize) -> Prepared + Send + Sync>,
}

/// What bounds a case's depth, and what it is guaranteed.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A packer's reader or writer, or dropping a value: up to
    /// `MAX_DEPTH_CEILING`, within [`GUARD_STACK`].
    Guarded,
    /// The serde bridge: up to `SERDE_MAX_DEPTH`, on a default 2 MiB thread.
    Serde,
    /// Comparing and hashing: measured, not guarded (hashing and comparing
    /// are iterative, but a set element or map key is compared inside a
    /// lookup, a nested call per such level; see `stack_per_level`).
    Measured,
}

impl Kind {
    fn ceiling(self) -> usize {
        match self {
            Self::Guarded | Self::Measured => sente::edn::MAX_DEPTH_CEILING,
            Self::Serde => sente::value::SERDE_MAX_DEPTH,
        }
    }
}

/// What a case's thread runs.
type Prepared = Box<dyn FnOnce() + Send>;

fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    for (name, _) in packers(1) {
        for shape in SHAPES {
            if !supports(name, shape) {
                continue;
            }
            out.push(Case {
                kind: Kind::Guarded,
                name: format!("{name} pack {shape:?}"),
                prepare: Box::new(move |depth| {
                    let packer = packer_named(name, depth);
                    let v = nested(shape, depth);
                    Box::new(move || {
                        packer.pack(true, &v).expect("packs");
                    })
                }),
            });
            out.push(Case {
                kind: Kind::Guarded,
                name: format!("{name} unpack {shape:?}"),
                prepare: Box::new(move |depth| {
                    let packer = packer_named(name, depth);
                    let packed = packer.pack(true, &nested(shape, depth)).expect("packs");
                    Box::new(move || {
                        packer.unpack(true, packed.as_ref()).expect("unpacks");
                    })
                }),
            });
        }
    }
    // EDN forms with no `Value` of their own: metadata and discards.
    out.push(Case {
        kind: Kind::Guarded,
        name: "edn unpack ^:k [".into(),
        prepare: Box::new(|depth| {
            let text = format!("{}1{}", "^:k [".repeat(depth - 1), "]".repeat(depth - 1));
            edn_reader(depth, text)
        }),
    });
    out.push(Case {
        kind: Kind::Guarded,
        name: "edn unpack [#_".into(),
        prepare: Box::new(|depth| {
            let text = format!("{}1{}", "[#_ 0 ".repeat(depth - 1), "]".repeat(depth - 1));
            edn_reader(depth, text)
        }),
    });
    for shape in SHAPES {
        out.push(Case {
            kind: Kind::Guarded,
            name: format!("Value drop {shape:?}"),
            prepare: Box::new(move |depth| {
                let v = nested(shape, depth);
                Box::new(move || drop(v))
            }),
        });
        out.push(Case {
            kind: Kind::Guarded,
            name: format!("Value clone {shape:?}"),
            prepare: Box::new(move |depth| {
                let v = nested(shape, depth);
                Box::new(move || {
                    let copy = v.clone();
                    std::mem::forget(copy);
                    std::mem::forget(v);
                })
            }),
        });
        out.push(Case {
            kind: Kind::Measured,
            name: format!("Value eq+hash {shape:?}"),
            prepare: Box::new(move |depth| {
                let v = nested(shape, depth);
                let copy = v.clone();
                Box::new(move || {
                    assert!(copy == v);
                    let mut set = sente::value::Set::default();
                    set.insert(copy);
                    assert!(set.contains(&v));
                    std::mem::forget(set);
                    std::mem::forget(v);
                })
            }),
        });
        out.push(Case {
            kind: Kind::Serde,
            name: format!("serde to_value(Value) {shape:?}"),
            prepare: Box::new(move |depth| {
                let v = nested(shape, depth);
                Box::new(move || {
                    let ser = ValueSerializer::new().with_max_depth(depth);
                    v.serialize(ser).expect("serializes");
                })
            }),
        });
        out.push(Case {
            kind: Kind::Serde,
            name: format!("serde Value::deserialize {shape:?}"),
            prepare: Box::new(move |depth| {
                let v = nested(shape, depth);
                Box::new(move || {
                    let de = ValueDeserializer::new(&v).with_max_depth(depth);
                    Value::deserialize(de).expect("deserializes");
                })
            }),
        });
    }
    out
}

fn packer_named(name: &str, depth: usize) -> Arc<dyn Packer> {
    packers(depth)
        .into_iter()
        .find(|(n, _)| *n == name)
        .map(|(_, p)| p)
        .expect("a packer")
}

fn edn_reader(depth: usize, text: String) -> Prepared {
    Box::new(move || {
        EdnPacker::new()
            .with_max_depth(depth)
            .unpack(true, PackedRef::Text(&text))
            .expect("unpacks");
    })
}

/// Runs `prepared` on a thread with `stack` bytes of stack.
fn on_stack(stack: usize, prepared: Prepared) {
    std::thread::Builder::new()
        .stack_size(stack)
        .spawn(prepared)
        .expect("a thread")
        .join()
        .expect("the case ran");
}

/// The deepest nesting the packers and the serde bridge accept.
fn ceiling() -> usize {
    sente::edn::MAX_DEPTH_CEILING
}

#[test]
fn every_packer_path_and_drop_runs_at_the_ceiling_within_the_guard_stack() {
    for case in cases().into_iter().filter(|c| c.kind == Kind::Guarded) {
        // Named first: an overflow aborts the binary without a test name.
        eprintln!("{}", case.name);
        let depth = case.kind.ceiling();
        let prepared = roomy(move || (case.prepare)(depth));
        on_stack(GUARD_STACK, prepared);
    }
}

#[test]
fn the_serde_bridge_runs_at_its_ceiling_on_a_default_thread() {
    for case in cases().into_iter().filter(|c| c.kind == Kind::Serde) {
        let depth = case.kind.ceiling();
        let prepared = roomy(move || (case.prepare)(depth));
        on_stack(2 << 20, prepared);
    }
}

/// Runs `f` on a thread with a roomy stack (preparing a case packs and
/// builds deep values, which is not what is measured).
fn roomy<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(f)
        .expect("a thread")
        .join()
        .expect("prepared")
}

#[test]
fn packers_cannot_be_configured_past_the_ceiling() {
    let over = ceiling() + 1;
    for (name, packer) in packers(usize::MAX) {
        on_stack(
            GUARD_STACK,
            Box::new(move || {
                let v = nested(Shape::Vector, over);
                assert!(packer.pack(true, &v).is_err(), "{name}");
                let ok = nested(Shape::Vector, ceiling());
                let packed = packer.pack(true, &ok).expect("the ceiling packs");
                let back = packer.unpack(true, packed.as_ref()).expect("and unpacks");
                assert_eq!(back.depth(), ceiling(), "{name}");
                let deeper = Value::vector([ok]);
                assert!(packer.pack(true, &deeper).is_err(), "{name}");
                // Dropped here: the drop of the deepest values is part of the guard.
                drop((v, back, deeper));
            }),
        );
    }
}

/// The child side of `stack_per_level`: runs one case when asked to.
#[test]
fn child_probe() {
    let Ok(spec) = std::env::var("SENTE_STACK_PROBE") else {
        return;
    };
    let mut parts = spec.rsplitn(3, ':');
    let stack: usize = parts.next().and_then(|s| s.parse().ok()).expect("stack");
    let depth: usize = parts.next().and_then(|s| s.parse().ok()).expect("depth");
    let name = parts.next().expect("name");
    let name = name.to_owned();
    // Prepared on a roomy stack: only the case itself is measured.
    let prepared = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || {
            let case = cases()
                .into_iter()
                .find(|c| c.name == name)
                .expect("a known case");
            (case.prepare)(depth)
        })
        .expect("a thread")
        .join()
        .expect("prepared");
    on_stack(stack, prepared);
}

/// Whether `case` runs at `depth` within `stack` bytes, in a child process.
fn fits(name: &str, depth: usize, stack: usize) -> bool {
    let exe = std::env::current_exe().expect("the test binary");
    std::process::Command::new(exe)
        .args(["--exact", "child_probe", "--test-threads", "1", "-q"])
        .env("SENTE_STACK_PROBE", format!("{name}:{depth}:{stack}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("the child runs")
        .success()
}

/// The smallest stack (to 512 bytes) that runs `case` at `depth`.
fn smallest_stack(name: &str, depth: usize) -> usize {
    let (mut lo, mut hi) = (16 * 1024, 64 * 1024 * 1024);
    assert!(
        fits(name, depth, hi),
        "{name} at {depth} does not fit 64 MiB"
    );
    while hi - lo > 512 {
        let mid = (lo + hi) / 2;
        if fits(name, depth, mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    hi
}

#[test]
#[ignore = "a measurement: run with --ignored --nocapture (debug and --release)"]
fn stack_per_level() {
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    println!(
        "{profile}: bytes of stack per level (from the smallest stack at the ceiling and at a quarter of it)"
    );
    // SENTE_STACK_CASES=text measures only the cases whose name has it.
    let only = std::env::var("SENTE_STACK_CASES").unwrap_or_default();
    for case in cases().into_iter().filter(|c| c.name.contains(&only)) {
        let high = case.kind.ceiling();
        let low = high / 4;
        let a = smallest_stack(&case.name, low);
        let b = smallest_stack(&case.name, high);
        let per_level = b.saturating_sub(a) / (high - low);
        println!(
            "{:<40} {:>6} B/level   ({} KiB at {high})",
            case.name,
            per_level,
            b / 1024
        );
    }
}

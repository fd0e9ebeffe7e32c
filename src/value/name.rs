//! Keywords and symbols: interned-looking names with an optional namespace.

use std::fmt;
use std::sync::Arc;

/// Splits `ns/name` the way Clojure does: the namespace is everything before
/// the first `/`, unless the text is `/` itself or the `/` is first or last.
fn split_namespace(full: &str) -> (Option<&str>, &str) {
    match full.find('/') {
        Some(i) if i > 0 && i + 1 < full.len() => (Some(&full[..i]), &full[i + 1..]),
        _ => (None, full),
    }
}

macro_rules! name_type {
    ($(#[$doc:meta])* $ty:ident, $sigil:literal, $readable:path) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $ty(Arc<str>);

        impl $ty {
            /// Makes a name from its full text, `"name"` or `"ns/name"`, without
            /// the leading sigil. Any text is accepted (as Clojure's constructor
            /// does); [`Self::is_readable`] tells whether EDN can read it back.
            pub fn new(full: impl AsRef<str>) -> Self {
                Self(Arc::from(full.as_ref()))
            }

            /// Makes a name from a namespace and a local name.
            pub fn namespaced(namespace: &str, name: &str) -> Self {
                let mut s = String::with_capacity(namespace.len() + name.len() + 1);
                s.push_str(namespace);
                s.push('/');
                s.push_str(name);
                Self(Arc::from(s))
            }

            /// The full text without the sigil: `"ns/name"` or `"name"`.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The namespace, if any: `"ns"` for `ns/name`.
            pub fn namespace(&self) -> Option<&str> {
                split_namespace(&self.0).0
            }

            /// The local name: `"name"` for `ns/name`.
            pub fn name(&self) -> &str {
                split_namespace(&self.0).1
            }

            /// True when the EDN reader would read the printed form back as
            /// this same name.
            pub fn is_readable(&self) -> bool {
                $readable(&self.0)
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str($sigil)?;
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(self, f)
            }
        }

        impl From<&str> for $ty {
            fn from(s: &str) -> Self {
                Self::new(s)
            }
        }
    };
}

name_type!(
    /// An EDN keyword such as `:chsk/handshake` or `:ok`, stored without the colon.
    ///
    /// Clones are cheap (a reference count).
    Keyword,
    ":",
    super::syntax::is_keyword_text
);

name_type!(
    /// An EDN symbol such as `foo` or `my.ns/bar`.
    ///
    /// Clones are cheap (a reference count).
    Symbol,
    "",
    super::syntax::is_symbol_text
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_split_follows_clojure() {
        let k = Keyword::new("chsk/handshake");
        assert_eq!(k.namespace(), Some("chsk"));
        assert_eq!(k.name(), "handshake");
        assert_eq!(Keyword::new("ok").namespace(), None);
        assert_eq!(Symbol::new("/").name(), "/");
        assert_eq!(Keyword::new("a/b/c").namespace(), Some("a"));
        assert_eq!(Keyword::new("a/b/c").name(), "b/c");
        assert_eq!(Keyword::namespaced("x", "y").to_string(), ":x/y");
    }
}

/// Keywords off the wire repeat (event ids, map keys): a per-thread cache
/// of this many slots hands out the same `Arc` for the same text instead of
/// a new allocation. Direct-mapped: a colliding keyword replaces the slot's,
/// so hostile input can only evict, never grow it.
const KEYWORD_CACHE_SLOTS: usize = 256;
/// Longer keywords are not cached.
const KEYWORD_CACHE_MAX_LEN: usize = 64;

thread_local! {
    static KEYWORD_CACHE: std::cell::RefCell<Vec<Option<Keyword>>> =
        std::cell::RefCell::new(vec![None; KEYWORD_CACHE_SLOTS]);
}

impl Keyword {
    /// [`Keyword::new`] through the per-thread cache: the same text read
    /// again shares the earlier keyword's allocation.
    pub(crate) fn cached(full: &str) -> Self {
        use std::hash::BuildHasher as _;
        if full.len() > KEYWORD_CACHE_MAX_LEN {
            return Self::new(full);
        }
        let slot =
            foldhash::fast::FixedState::default().hash_one(full) as usize % KEYWORD_CACHE_SLOTS;
        KEYWORD_CACHE
            .try_with(|cache| {
                let Ok(mut cache) = cache.try_borrow_mut() else {
                    return Self::new(full);
                };
                match &cache[slot] {
                    Some(k) if k.as_str() == full => k.clone(),
                    _ => {
                        let k = Self::new(full);
                        cache[slot] = Some(k.clone());
                        k
                    }
                }
            })
            .unwrap_or_else(|_| Self::new(full))
    }
}

#[cfg(test)]
mod cache_tests {
    use super::Keyword;

    #[test]
    fn cached_keywords_share_their_text_and_equal_new_ones() {
        let a = Keyword::cached("chsk/ws-ping");
        let b = Keyword::cached("chsk/ws-ping");
        assert!(std::sync::Arc::ptr_eq(&a.0, &b.0));
        assert_eq!(a, Keyword::new("chsk/ws-ping"));
        let long = "k".repeat(100);
        assert_eq!(Keyword::cached(&long).as_str(), long);
        // Many distinct keywords only evict: every one reads back right.
        for i in 0..2000 {
            let text = format!("k{i}");
            assert_eq!(Keyword::cached(&text).as_str(), text);
        }
    }
}

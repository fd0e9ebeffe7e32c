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
    ($(#[$doc:meta])* $ty:ident, $sigil:literal) => {
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
                crate::edn::is_symbol_text(&self.0)
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
    ":"
);

name_type!(
    /// An EDN symbol such as `foo` or `my.ns/bar`.
    ///
    /// Clones are cheap (a reference count).
    Symbol,
    ""
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

//! EDN's token rules, shared by the data model (which names read back,
//! [`Keyword::is_readable`](super::Keyword::is_readable)) and the reader in
//! [`crate::edn`]: whitespace, the characters that end a token, and the
//! texts that read as symbols and keywords.

/// EDN whitespace (commas included).
pub(crate) fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b',' | 0x0c | 0x0b)
}

/// Characters that end a token (tools.reader's macro-terminating set plus whitespace).
pub(crate) fn is_terminator(b: u8) -> bool {
    is_ws(b)
        || matches!(
            b,
            b'"' | b';'
                | b'@'
                | b'^'
                | b'`'
                | b'~'
                | b'('
                | b')'
                | b'['
                | b']'
                | b'{'
                | b'}'
                | b'\\'
        )
}

/// True when `s` is the text of a readable symbol or keyword (without the colon).
pub(crate) fn is_symbol_text(s: &str) -> bool {
    let b = s.as_bytes();
    if b.is_empty() {
        return false;
    }
    if s == "/" {
        return true;
    }
    if b.iter().any(|&c| is_terminator(c)) {
        return false;
    }
    // A leading digit (or sign + digit) would read as a number.
    if b[0].is_ascii_digit()
        || (matches!(b[0], b'+' | b'-' | b'.') && b.len() > 1 && b[1].is_ascii_digit())
    {
        return false;
    }
    if b[0] == b'#' {
        return false;
    }
    match s.find('/') {
        None => true,
        Some(i) => {
            let (ns, name) = (&s[..i], &s[i + 1..]);
            !ns.is_empty()
                && !name.is_empty()
                && (name == "/" || !name.contains('/'))
                && !name.as_bytes()[0].is_ascii_digit()
        }
    }
}

/// True when `s` is the text of a readable keyword (without the colon).
///
/// As a symbol, except that the text may start with a digit, or a sign or a
/// dot and a digit (`:1`, `:+1`, `:-1`, `:1/a`, `:1.5`): Clojure reads these
/// as keywords (`EdnReader.matchSymbol`'s `symbolPat` only asks for a
/// non-digit first character, and the colon is one; tools.reader's
/// `parse-symbol` has no rule on the first character). The name after a
/// namespace still may not start with a digit (`:a/1` is invalid in both),
/// and `::auto` (auto-resolved, not EDN) and a trailing colon are refused.
pub(crate) fn is_keyword_text(s: &str) -> bool {
    let b = s.as_bytes();
    let Some(&first) = b.first() else {
        return false;
    };
    if first.is_ascii_alphabetic() {
        // The common case (`:chsk/ws-ping`, `:user/id`): a symbol's text.
        return b.last() != Some(&b':') && is_symbol_text(s);
    }
    let digit_led = first.is_ascii_digit()
        || (matches!(first, b'+' | b'-' | b'.') && b.get(1).is_some_and(u8::is_ascii_digit));
    if first == b':' || b.last() == Some(&b':') {
        return false;
    }
    if !digit_led {
        return is_symbol_text(s);
    }
    // Replace the leading digit by a letter and apply the symbol rules to the rest.
    let mut probe = String::with_capacity(s.len() + 1);
    probe.push('a');
    probe.push_str(s);
    is_symbol_text(&probe)
}

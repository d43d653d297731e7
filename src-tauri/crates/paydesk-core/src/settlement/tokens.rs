//! The fast path of [`BankLine::mentions`](super::BankLine::mentions): which payout ids a
//! bank line names, found by hashing the line's tokens instead of testing every payout
//! against every line (20,000 payouts × 100,000 lines would be 2·10⁹ substring searches).
//!
//! A *word* is a maximal run of ASCII letters, digits, `_` and `-`; everything else (spaces,
//! `/`, `:`, Chinese text and punctuation) separates words. A word's *parts* are its pieces
//! between `_` and `-`. The candidate tokens of a text are the spans of up to [`MAX_PARTS`]
//! consecutive parts of each word, lowercased, at least [`MIN_LEN`] bytes long: for
//! "STRIPE-po_1AbCdE/REF" they are "stripe", "stripe-po", "stripe-po_1abcde", "po_1abcde"
//! and "1abcde".
//!
//! Agreement with `mentions` (substring, case-insensitive): every token is a substring of
//! the text, so a hit here is always a hit there. Conversely, an id that is [fast](is_fast)
//! is found here whenever it occurs with no ASCII letter or digit directly before or after it
//! ("提现po_123456", "po_123456/", "X-po_123456"). An id glued to letters or digits
//! ("REFpo_123456") is a substring match only, and is not found here; ids that are not fast
//! go through `mentions` itself.

/// Spans longer than this many parts are not generated (ids have at most a few).
pub const MAX_PARTS: usize = 8;
/// Shorter ids never match (the rule of `mentions`).
pub const MIN_LEN: usize = 6;

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

fn is_separator(b: u8) -> bool {
    b == b'_' || b == b'-'
}

/// The normalized form of an id as the fast path looks it up: trimmed and ASCII-lowercased.
/// `None` for ids shorter than [`MIN_LEN`] characters (they never match).
pub fn normalize(id: &str) -> Option<String> {
    let id = id.trim();
    if id.chars().count() < MIN_LEN {
        return None;
    }
    Some(id.to_lowercase())
}

/// Whether a normalized id can be found by [`for_each_token`]: ASCII word characters only,
/// starting and ending with a letter or digit, at most [`MAX_PARTS`] parts.
pub fn is_fast(normalized: &str) -> bool {
    let b = normalized.as_bytes();
    let (Some(&first), Some(&last)) = (b.first(), b.last()) else {
        return false;
    };
    b.len() >= MIN_LEN
        && b.iter().all(|&c| is_word_byte(c))
        && first.is_ascii_alphanumeric()
        && last.is_ascii_alphanumeric()
        && !b
            .windows(2)
            .any(|w| is_separator(w[0]) && is_separator(w[1]))
        && b.iter().filter(|&&c| is_separator(c)).count() < MAX_PARTS
}

/// Calls `f` with every candidate token of `text` (lowercased; duplicates possible).
pub fn for_each_token(text: &str, mut f: impl FnMut(&str)) {
    let bytes = text.as_bytes();
    let mut lower = String::new();
    let mut parts: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if !is_word_byte(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && is_word_byte(bytes[i]) {
            i += 1;
        }
        // The word is ASCII, so slicing it is safe and lowercasing keeps its length.
        lower.clear();
        lower.push_str(&text[start..i]);
        lower.make_ascii_lowercase();
        parts.clear();
        let w = lower.as_bytes();
        let mut p = 0;
        while p < w.len() {
            if is_separator(w[p]) {
                p += 1;
                continue;
            }
            let s = p;
            while p < w.len() && !is_separator(w[p]) {
                p += 1;
            }
            // Parts separated by exactly one separator chain into spans; a double separator
            // or an edge separator breaks the chain (no fast id contains one).
            parts.push((s, p));
        }
        for a in 0..parts.len() {
            let mut b = a;
            while b < parts.len() && b < a + MAX_PARTS {
                if b > a && parts[b].0 != parts[b - 1].1 + 1 {
                    break;
                }
                let (s, e) = (parts[a].0, parts[b].1);
                if e - s >= MIN_LEN {
                    f(&lower[s..e]);
                }
                b += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;
    use crate::settlement::BankLine;

    fn tokens(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        for_each_token(text, |t| out.push(t.to_string()));
        out
    }

    fn line(text: &str) -> BankLine {
        BankLine {
            booking_date: chrono::NaiveDate::MIN,
            value_date: None,
            amount: 1,
            currency: Currency::CNY,
            counterparty: None,
            references: vec![],
            text: text.to_string(),
            line: 1,
        }
    }

    #[test]
    fn words_parts_and_spans() {
        assert_eq!(
            tokens("STRIPE-po_1AbCdE/REF"),
            vec![
                "stripe",
                "stripe-po",
                "stripe-po_1abcde",
                "po_1abcde",
                "1abcde"
            ]
        );
        assert_eq!(tokens("支付宝提现2088123456 附言"), vec!["2088123456"]);
        assert_eq!(tokens("ab cd"), Vec::<String>::new());
        assert_eq!(tokens("x__abcdef"), vec!["abcdef"]);
    }

    #[test]
    fn fast_ids() {
        assert!(is_fast("po_1abcde"));
        assert!(is_fast("2088123456"));
        assert!(!is_fast("po__1abcde"));
        assert!(!is_fast("_po1abcde"));
        assert!(!is_fast("提现123456"));
        assert!(!is_fast("a b c d e f"));
        assert!(!is_fast("a-b-c-d-e-f-g-h-i"));
        assert_eq!(normalize(" PO_AB "), None);
        assert_eq!(normalize(" PO_ABCD "), Some("po_abcd".to_string()));
    }

    fn id_strategy() -> impl proptest::strategy::Strategy<Value = String> {
        proptest::string::string_regex("[A-Za-z0-9]{1,6}([_-][A-Za-z0-9]{1,6}){0,3}")
            .unwrap_or_else(|_| proptest::string::string_regex("x").unwrap())
    }

    proptest::proptest! {
        /// A token is always a substring: the fast path never finds what `mentions` does not.
        #[test]
        fn tokens_are_mentioned(text in "\\PC{0,60}") {
            let l = line(&text);
            for_each_token(&text, |t| assert!(l.mentions(t), "{t} in {text}"));
        }

        /// A fast id with no letter or digit next to it is found, wherever it stands.
        #[test]
        fn delimited_fast_ids_are_found(
            id in id_strategy(),
            before in "\\PC{0,12}",
            after in "\\PC{0,12}",
            left in "[ /:,_\\-提现]",
            right in "[ /:,_\\-附言]",
        ) {
            let Some(n) = normalize(&id) else { return Ok(()); };
            proptest::prop_assume!(is_fast(&n));
            let text = format!("{before}{left}{id}{right}{after}");
            let mut found = false;
            for_each_token(&text, |t| found |= t == n);
            proptest::prop_assert!(found, "{} not found in {:?}", n, text);
            proptest::prop_assert!(line(&text).mentions(&id));
        }
    }
}

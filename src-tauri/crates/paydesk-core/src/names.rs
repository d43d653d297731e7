//! The string forms of Paydesk's enums: one mechanism for all of them.
//!
//! Each enum derives its names with `strum` (`IntoStaticStr` for `as_str`, `Display`, and
//! `VariantArray` for the list of variants), spelled once on the enum with
//! `#[strum(serialize_all = "...")]` or a per-variant `#[strum(serialize = "...")]`.
//! Parsing that must be exact (words Paydesk wrote itself) derives `EnumString`. Parsing
//! that is lenient (words people type or other systems write: surrounding blanks ignored,
//! ASCII case ignored, aliases such as `weixin`) goes through [`parse`], since `EnumString`
//! cannot trim; the enum's `FromStr` keeps its own error message, built with [`listed`].

use strum::VariantArray;

/// Whether [`parse`] compares ASCII case-insensitively.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Case {
    Sensitive,
    Insensitive,
}

/// The variant whose name (or one of `aliases`) is `s` with surrounding blanks removed.
pub fn parse<T>(s: &str, case: Case, aliases: &[(&str, T)]) -> Option<T>
where
    T: VariantArray + Copy + Into<&'static str>,
{
    let s = s.trim();
    let same = |name: &str| match case {
        Case::Sensitive => name == s,
        Case::Insensitive => name.eq_ignore_ascii_case(s),
    };
    T::VARIANTS
        .iter()
        .copied()
        .find(|v| same((*v).into()))
        .or_else(|| aliases.iter().find(|(a, _)| same(a)).map(|(_, v)| *v))
}

/// The names of all variants, in declaration order.
pub fn names<T>() -> impl Iterator<Item = &'static str>
where
    T: VariantArray + Copy + Into<&'static str>,
{
    T::VARIANTS.iter().map(|v| (*v).into())
}

/// The names of all variants for an error message: `"a, b, c or d"` with `last = " or "`,
/// `"a, b, c, d"` with `last = ", "`.
pub fn listed<T>(last: &str) -> String
where
    T: VariantArray + Copy + Into<&'static str>,
{
    let all: Vec<&str> = names::<T>().collect();
    match all.split_last() {
        None => String::new(),
        Some((only, [])) => (*only).to_string(),
        Some((tail, init)) => format!("{}{last}{tail}", init.join(", ")),
    }
}

/// `VARIANTS` as a fixed-size array, for the enums whose `ALL` constant is an array; a wrong
/// `N` fails the build.
pub const fn array<T: Copy, const N: usize>(variants: &[T]) -> [T; N] {
    assert!(
        variants.len() == N,
        "the array length is not the number of variants"
    );
    let mut out = [variants[0]; N];
    let mut i = 1;
    while i < N {
        out[i] = variants[i];
        i += 1;
    }
    out
}

/// Test helper: every variant's name parses back to the variant, and names are distinct.
#[doc(hidden)]
pub fn assert_round_trip<T>(parse: impl Fn(&str) -> Option<T>)
where
    T: VariantArray + Copy + Into<&'static str> + PartialEq + std::fmt::Debug,
{
    let mut seen = std::collections::BTreeSet::new();
    for v in T::VARIANTS {
        let name: &'static str = (*v).into();
        assert!(!name.is_empty(), "{v:?} has an empty name");
        assert!(seen.insert(name), "two variants are named {name:?}");
        assert_eq!(
            parse(name),
            Some(*v),
            "{name:?} does not parse back to {v:?}"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::VariantArray)]
    #[strum(serialize_all = "snake_case")]
    enum Colour {
        Red,
        DarkBlue,
    }

    #[test]
    fn parse_trims_folds_case_and_knows_aliases() {
        let aliases = [("navy", Colour::DarkBlue)];
        assert_eq!(
            parse(" Dark_Blue ", Case::Insensitive, &aliases),
            Some(Colour::DarkBlue)
        );
        assert_eq!(
            parse("NAVY", Case::Insensitive, &aliases),
            Some(Colour::DarkBlue)
        );
        assert_eq!(parse("Red", Case::Sensitive, &aliases), None);
        assert_eq!(parse(" red", Case::Sensitive, &aliases), Some(Colour::Red));
        assert_eq!(parse("green", Case::Insensitive, &aliases), None);
    }

    #[test]
    fn lists_and_arrays() {
        assert_eq!(listed::<Colour>(" or "), "red or dark_blue");
        assert_eq!(listed::<Colour>(", "), "red, dark_blue");
        const ALL: [Colour; 2] = array(Colour::VARIANTS);
        assert_eq!(ALL, [Colour::Red, Colour::DarkBlue]);
        assert_round_trip::<Colour>(|s| parse(s, Case::Sensitive, &[]));
    }
}

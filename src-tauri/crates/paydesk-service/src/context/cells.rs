//! Spreadsheet cells that stay text: every export (reports, the audit log) writes free text
//! through [`neutralize`], so a cell a spreadsheet would run as a formula is made inert.

use std::borrow::Cow;

fn is_trigger(c: char) -> bool {
    matches!(c, '=' | '+' | '-' | '@' | '\t' | '\r')
}

/// Makes a free-text cell inert for spreadsheets: a cell starting with `=`, `+`, `-`, `@`, a
/// tab or a carriage return gets a leading `'`. Everything else is returned as is.
pub fn neutralize(cell: &str) -> Cow<'_, str> {
    match cell.chars().next() {
        Some(c) if is_trigger(c) => Cow::Owned(format!("'{cell}")),
        _ => Cow::Borrowed(cell),
    }
}

/// Undoes [`neutralize`]: drops a leading `'` that is followed by a trigger character.
/// Text that itself began with `'` and a trigger loses its quote; the review XLSX reader
/// compares a cell with the neutralized stored value first, so an untouched cell is never
/// affected.
pub fn unneutralize(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.chars().next().is_some_and(is_trigger) => rest,
        _ => cell,
    }
}

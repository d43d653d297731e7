//! SWIFT MT940 customer statements: `:20:` `:25:` `:28C:` `:60F:`/`:60M:` `:61:` `:86:`
//! `:62F:`/`:62M:` `:64:`, with or without the `{1:…}{2:…}{4:` block wrapper, several
//! messages per file (ended by `-` or `-}`, or by the next `:20:`).
//!
//! Amounts use a decimal comma (`1234,56`); the sign is the `C`/`D`/`RC`/`RD` mark. A
//! `:86:` wrapped over several lines is joined without a separator (banks wrap at 65
//! characters, often inside a word). `EREF` values in `:86:` (ING-style `/EREF/…/`,
//! German-style `?20`–`?29` subfields with `EREF+…`) are added to the line's references.

use super::{push_ref, push_text, BankImportError, Rejections};
use chrono::{Datelike, NaiveDate};
use paydesk_core::money::{parse_minor, Currency};
use paydesk_core::settlement::{BankLine, BankStatement, StatedBalance};

/// One tag and its value (continuation lines kept apart).
struct Field {
    tag: String,
    value: String,
    more: Vec<String>,
    line: u64,
}

/// Parses every message of an MT940 file.
pub(crate) fn parse(bytes: &[u8], file: &str) -> Result<Vec<BankStatement>, BankImportError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => std::borrow::Cow::Borrowed(t),
        Err(_) => encoding_rs::GBK
            .decode_without_bom_handling_and_without_replacement(bytes)
            .ok_or_else(|| {
                BankImportError::file(file, "the MT940 file is neither UTF-8 nor GBK text")
            })?,
    };
    let mut rejected = Rejections::default();
    let messages = split_messages(&text, &mut rejected);
    let mut statements = Vec::new();
    for fields in messages {
        if let Some(s) = statement(&fields, &mut rejected) {
            statements.push(s);
        }
    }
    if statements.is_empty() && rejected.0.is_empty() {
        return Err(BankImportError::file(
            file,
            "no MT940 statement found (no :20: field)",
        ));
    }
    rejected.finish(file, statements)
}

/// `:61:` → `61`, `:60F:` → `60F`: the tag of a field's first line.
fn tag_of(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix(':')?;
    let end = rest.find(':')?;
    let tag = &rest[..end];
    let b = tag.as_bytes();
    let ok = (b.len() == 2 || b.len() == 3)
        && b[0].is_ascii_digit()
        && b[1].is_ascii_digit()
        && b.get(2).is_none_or(|c| c.is_ascii_uppercase());
    ok.then(|| (tag, &rest[end + 1..]))
}

/// Splits the text into messages of fields, dropping the block wrapper.
fn split_messages(text: &str, rejected: &mut Rejections) -> Vec<Vec<Field>> {
    let mut messages = Vec::new();
    let mut cur: Vec<Field> = Vec::new();
    for (i, raw) in text.split('\n').enumerate() {
        let line_no = i as u64 + 1;
        let mut l = raw.strip_suffix('\r').unwrap_or(raw);
        if ["{1:", "{2:", "{3:", "{4:", "{5:"]
            .iter()
            .any(|b| l.starts_with(b))
        {
            match l.find("{4:") {
                Some(at) => l = &l[at + 3..],
                None => continue,
            }
        }
        let trimmed = l.trim();
        // Only a line that starts with the dash ends a message: " -" is wrapped text.
        if l.trim_end() == "-" || l.starts_with("-}") {
            if !cur.is_empty() {
                messages.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if trimmed.is_empty() || trimmed == ":940:" {
            continue;
        }
        if let Some((tag, value)) = tag_of(l) {
            if tag == "20" && !cur.is_empty() {
                messages.push(std::mem::take(&mut cur));
            }
            cur.push(Field {
                tag: tag.to_string(),
                value: value.to_string(),
                more: Vec::new(),
                line: line_no,
            });
        } else if let Some(f) = cur.last_mut() {
            f.more.push(l.to_string());
        } else {
            rejected.push(
                line_no,
                "text outside any MT940 field (expected a :20: tag)",
            );
        }
    }
    if !cur.is_empty() {
        messages.push(cur);
    }
    messages
}

/// `YYMMDD` (years 80–99 are 19xx, the rest 20xx).
fn yymmdd(s: &str) -> Option<NaiveDate> {
    if s.len() != 6 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let yy: i32 = s[0..2].parse().ok()?;
    let year = if yy >= 80 { 1900 + yy } else { 2000 + yy };
    NaiveDate::from_ymd_opt(year, s[2..4].parse().ok()?, s[4..6].parse().ok()?)
}

/// An entry date `MMDD` in the year that puts it nearest the value date (an entry on
/// 31 December for a value date of 2 January belongs to the year before).
fn entry_date(mmdd: &str, value: NaiveDate) -> Option<NaiveDate> {
    let m: u32 = mmdd.get(0..2)?.parse().ok()?;
    let d: u32 = mmdd.get(2..4)?.parse().ok()?;
    [value.year() - 1, value.year(), value.year() + 1]
        .into_iter()
        .filter_map(|y| NaiveDate::from_ymd_opt(y, m, d))
        .min_by_key(|date| (*date - value).num_days().abs())
}

/// An MT940 amount: digits with a decimal comma (`1234,56`, `1234,`).
fn amount(text: &str, cur: Currency) -> Result<i64, String> {
    let ok = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit() || b == b',')
        && text.bytes().filter(|&b| b == b',').count() <= 1
        && text.as_bytes()[0].is_ascii_digit();
    if !ok {
        return Err(format!(
            "amount {text:?} is not an MT940 amount (digits with a decimal comma, as 1234,56)"
        ));
    }
    let dotted = text.replace(',', ".");
    parse_minor(dotted.trim_end_matches('.'), cur).map_err(|e| e.to_string())
}

/// A balance field: `C` or `D`, `YYMMDD`, currency, amount.
fn balance(value: &str) -> Result<(StatedBalance, Currency), String> {
    let v = value.trim();
    let sign = match v.get(0..1) {
        Some("C") => 1,
        Some("D") => -1,
        _ => return Err(format!("balance {v:?} does not start with C or D")),
    };
    let date = v
        .get(1..7)
        .and_then(yymmdd)
        .ok_or_else(|| format!("balance {v:?} has no date YYMMDD"))?;
    let cur = Currency::parse(v.get(7..10).unwrap_or("")).map_err(|e| e.to_string())?;
    let amt = amount(v.get(10..).unwrap_or(""), cur)?;
    Ok((
        StatedBalance {
            date,
            amount: sign * amt,
        },
        cur,
    ))
}

/// What a `:61:` says, before `:86:` adds its text.
struct Line61 {
    line: BankLine,
    texts: Vec<String>,
}

/// `:61:` = value date, [entry date], mark, [funds code], amount, type, customer
/// reference [`//` bank reference] [newline supplementary details].
fn line61(f: &Field, cur: Currency) -> Result<Line61, String> {
    let v = f.value.trim_end();
    let value_date = v.get(0..6).and_then(yymmdd).ok_or_else(|| {
        format!(
            "value date {:?} is not a date YYMMDD",
            v.get(0..6).unwrap_or(v)
        )
    })?;
    let mut pos = 6;
    let mut booking_date = value_date;
    if let Some(mmdd) = v
        .get(6..10)
        .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
    {
        booking_date = entry_date(mmdd, value_date)
            .ok_or_else(|| format!("entry date {mmdd:?} is not a date MMDD"))?;
        pos = 10;
    }
    let rest = v.get(pos..).unwrap_or("");
    let (sign, mark_len) = if rest.starts_with("RC") {
        (-1, 2)
    } else if rest.starts_with("RD") {
        (1, 2)
    } else if rest.starts_with('C') {
        (1, 1)
    } else if rest.starts_with('D') {
        (-1, 1)
    } else {
        return Err(format!(
            "debit/credit mark missing after the dates in {v:?} (C, D, RC or RD)"
        ));
    };
    let mut rest = &rest[mark_len..];
    if rest.starts_with(|c: char| c.is_ascii_alphabetic()) {
        rest = &rest[1..];
    }
    let amount_len = rest
        .find(|c: char| !(c.is_ascii_digit() || c == ',' || c == '.'))
        .unwrap_or(rest.len());
    let amt = amount(&rest[..amount_len], cur)?;
    let rest = &rest[amount_len..];
    let ty = rest.get(0..4).unwrap_or("");
    if !(ty.starts_with(['N', 'F', 'S']) && ty.len() == 4) {
        return Err(format!(
            "transaction type {ty:?} is not N, F or S followed by 3 characters"
        ));
    }
    let refs_text = &rest[4..];
    let (customer, bank) = match refs_text.find("//") {
        Some(at) => (&refs_text[..at], Some(&refs_text[at + 2..])),
        None => (refs_text, None),
    };
    let mut references = Vec::new();
    if customer.trim() != "NONREF" {
        push_ref(&mut references, customer);
    }
    if let Some(b) = bank {
        push_ref(&mut references, b);
    }
    let mut texts = Vec::new();
    for s in &f.more {
        push_text(&mut texts, s);
    }
    Ok(Line61 {
        line: BankLine {
            booking_date,
            value_date: Some(value_date),
            amount: sign * amt,
            currency: cur,
            counterparty: None,
            references,
            text: String::new(),
            line: f.line,
        },
        texts,
    })
}

/// `:86:` codes of the ING-style structure, which end an `/EREF/` value.
const SLASH_CODES: &[&str] = &[
    "EREF",
    "CNTP",
    "REMI",
    "ORDP",
    "BENM",
    "NAME",
    "ISDT",
    "PURP",
    "MARF",
    "CSID",
    "RTRN",
    "TRCD",
    "SUM",
    "IREF",
    "PREF",
    "ULTC",
    "ULTD",
    "ULTB",
    "ADDR",
    "BIC",
    "CDTRREFTP",
    "CDTRREF",
    "CUR",
    "OCMT",
    "CHGS",
    "EXCH",
    "BUSP",
    "ACCW",
    "IBAN",
    "USTD",
    "STRD",
];

/// `/EREF/value/` occurrences of a `:86:` text.
fn slash_erefs(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("/EREF/") {
        rest = &rest[at + 6..];
        let mut end = rest.find("//").unwrap_or(rest.len());
        for code in SLASH_CODES {
            if let Some(i) = rest.find(&format!("/{code}/")) {
                end = end.min(i);
            }
        }
        out.push(rest[..end].trim_end_matches('/').to_string());
        rest = &rest[end..];
    }
    out
}

/// `?NN` subfields of a German-style (DK) `:86:`: returns the purpose lines `?20`–`?29`
/// and `?60`–`?63` joined, and the counterparty name `?32`+`?33`.
fn question_subfields(text: &str) -> Option<(String, Option<String>)> {
    let parts: Vec<(u32, &str)> = {
        let mut v = Vec::new();
        let mut rest = text;
        let b = |s: &str, i: usize| s.as_bytes().get(i).copied();
        // The code before the first `?` (e.g. 166) is the business transaction code.
        let first = rest.find('?')?;
        rest = &rest[first..];
        while rest.starts_with('?') {
            let digits = (b(rest, 1)?, b(rest, 2)?);
            if !(digits.0.is_ascii_digit() && digits.1.is_ascii_digit()) {
                return None;
            }
            let code = u32::from(digits.0 - b'0') * 10 + u32::from(digits.1 - b'0');
            let body = &rest[3..];
            let end = body.find('?').unwrap_or(body.len());
            v.push((code, &body[..end]));
            rest = &body[end..];
        }
        v
    };
    let purpose: String = parts
        .iter()
        .filter(|(c, _)| (20..=29).contains(c) || (60..=63).contains(c))
        .map(|(_, s)| *s)
        .collect();
    let name: String = parts
        .iter()
        .filter(|(c, _)| *c == 32 || *c == 33)
        .map(|(_, s)| *s)
        .collect();
    let name = name.trim();
    Some((purpose, (!name.is_empty()).then(|| name.to_string())))
}

/// The `EREF+` value of a DK purpose text (up to the next `XXXX+` key).
fn plus_eref(purpose: &str) -> Option<String> {
    let at = purpose.find("EREF+")?;
    let rest = &purpose[at + 5..];
    let mut end = rest.len();
    for key in [
        "KREF+", "MREF+", "CRED+", "DEBT+", "SVWZ+", "ABWA+", "ABWE+", "COAM+", "OAMT+", "IBAN+",
        "BIC+",
    ] {
        if let Some(i) = rest.find(key) {
            end = end.min(i);
        }
    }
    let v = rest[..end].trim();
    (!v.is_empty()).then(|| v.to_string())
}

/// Adds a `:86:` to the line before it: its text, its EREF references, a counterparty.
fn add_86(l: &mut Line61, f: &Field) {
    let mut text = f.value.clone();
    for m in &f.more {
        text.push_str(m);
    }
    for r in slash_erefs(&text) {
        push_ref(&mut l.line.references, &r);
    }
    // ING-style counterparty: /CNTP/account/BIC/name/city/
    if let Some(at) = text.find("/CNTP/") {
        let name = text[at + 6..].split('/').nth(2).unwrap_or("").trim();
        if !name.is_empty() {
            l.line.counterparty = Some(name.to_string());
        }
    }
    if let Some((purpose, name)) = question_subfields(&text) {
        if let Some(r) = plus_eref(&purpose) {
            push_ref(&mut l.line.references, &r);
        }
        l.line.counterparty = l.line.counterparty.take().or(name);
    }
    push_text(&mut l.texts, &text);
}

/// One message as a statement; its bad fields go to `rejected`.
fn statement(fields: &[Field], rejected: &mut Rejections) -> Option<BankStatement> {
    let first_line = fields.first().map_or(1, |f| f.line);
    let mut id20 = None;
    let mut id28 = None;
    let mut account = None;
    let mut opening: Option<(StatedBalance, Currency, &str)> = None;
    let mut closing: Option<(StatedBalance, &str)> = None;
    // The currency comes from the opening balance, which precedes the lines.
    let currency = fields
        .iter()
        .find(|f| f.tag == "60F" || f.tag == "60M")
        .and_then(|f| balance(&f.value).ok())
        .map(|(_, c)| c);
    let mut lines: Vec<Line61> = Vec::new();
    // A `:86:` belongs to the `:61:` right before it (elsewhere it is about the statement).
    let mut attach = false;
    for f in fields {
        let mut parsed_61 = false;
        match f.tag.as_str() {
            "20" => id20 = Some(f.value.trim().to_string()).filter(|s| !s.is_empty()),
            "25" => account = Some(f.value.trim().to_string()).filter(|s| !s.is_empty()),
            "28C" | "28" => id28 = Some(f.value.trim().to_string()).filter(|s| !s.is_empty()),
            "60F" | "60M" | "62F" | "62M" => match balance(&f.value) {
                Ok((b, c)) => {
                    if currency.is_some_and(|sc| sc != c) {
                        rejected.push(
                            f.line,
                            format!(
                                ":{}: currency {} differs from the opening balance's",
                                f.tag,
                                c.code()
                            ),
                        );
                    } else if f.tag.starts_with("60") {
                        if opening.is_none() || f.tag == "60F" {
                            opening = Some((b, c, f.tag.as_str()));
                        }
                    } else if closing.is_none_or(|(_, t)| t != "62F") {
                        closing = Some((b, f.tag.as_str()));
                    }
                }
                Err(r) => rejected.push(f.line, format!(":{}: {r}", f.tag)),
            },
            "61" => match currency {
                Some(cur) => match line61(f, cur) {
                    Ok(l) => {
                        lines.push(l);
                        parsed_61 = true;
                    }
                    Err(r) => rejected.push(f.line, format!(":61: {r}")),
                },
                None => rejected.push(
                    f.line,
                    ":61: comes without a valid opening balance (:60F:), which names the currency",
                ),
            },
            "86" if attach => {
                if let Some(l) = lines.last_mut() {
                    add_86(l, f);
                }
            }
            _ => {}
        }
        attach = parsed_61;
    }
    let Some((open, cur, _)) = opening else {
        rejected.push(first_line, "the statement has no opening balance (:60F:)");
        return None;
    };
    Some(BankStatement {
        account_id: account,
        statement_id: id20.or(id28),
        currency: cur,
        opening: Some(open),
        closing: closing.map(|(b, _)| b),
        lines: lines
            .into_iter()
            .map(|mut l| {
                l.line.text = super::join_text(&l.texts);
                l.line
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn entry_dates_cross_the_new_year() {
        let v = NaiveDate::from_ymd_opt(2025, 1, 2).unwrap();
        assert_eq!(entry_date("1231", v), NaiveDate::from_ymd_opt(2024, 12, 31));
        let v = NaiveDate::from_ymd_opt(2024, 12, 31).unwrap();
        assert_eq!(entry_date("0102", v), NaiveDate::from_ymd_opt(2025, 1, 2));
        assert_eq!(entry_date("1301", v), None);
    }

    #[test]
    fn amounts_take_a_decimal_comma_only() {
        assert_eq!(amount("1234,56", Currency::CNY), Ok(123456));
        assert_eq!(amount("1234,", Currency::CNY), Ok(123400));
        assert_eq!(amount("1234", Currency::CNY), Ok(123400));
        assert!(amount("12.3.4", Currency::CNY).is_err());
        assert!(amount("1,2,3", Currency::CNY).is_err());
        assert!(amount(",5", Currency::CNY).is_err());
    }

    #[test]
    fn eref_in_both_structures() {
        assert_eq!(
            slash_erefs("/EREF/E2E2014030100899040//CNTP/NL08INGB/REMI/x/"),
            vec!["E2E2014030100899040".to_string()]
        );
        assert_eq!(
            slash_erefs("/EREF/A/B-1/REMI/USTD//x/"),
            vec!["A/B-1".to_string()]
        );
        let (purpose, name) = question_subfields(
            "166?00GUTSCHRIFT?20EREF+PO-123?21SVWZ+Auszahlung?32STRIPE?33 PAYMENTS",
        )
        .unwrap();
        assert_eq!(plus_eref(&purpose).as_deref(), Some("PO-123"));
        assert_eq!(name.as_deref(), Some("STRIPE PAYMENTS"));
    }
}

//! ISO 20022 camt.053 (BankToCustomerStatement), versions .001.02 to .001.13.
//!
//! The versions differ in their namespace and in a few wrappers (`Sts` became `Sts/Cd`,
//! `Dbtr/Nm` became `Dbtr/Pty/Nm`), so elements are matched by local name and both shapes
//! are read. The document is streamed; only one child of a `Stmt` at a time (an `Acct`, a
//! `Bal`, an `Ntry`) is held as a small tree, so memory follows the largest entry, not the
//! file.
//!
//! Hostile XML: a DOCTYPE (and with it any entity declaration, the "billion laughs") is
//! refused, as is any entity other than the five predefined ones; nesting is capped.

use super::{push_ref, push_text, BankImportError, Rejections};
use chrono::NaiveDate;
use paydesk_core::money::{parse_minor, Currency};
use paydesk_core::settlement::{BankLine, BankStatement, StatedBalance};
use quick_xml::events::Event;
use quick_xml::Reader;

/// Deepest element nesting accepted (real statements nest about 12 deep).
const MAX_DEPTH: usize = 64;

/// An element of a `Stmt` child: its local name, `Ccy` attribute, text and children.
#[derive(Debug, Default)]
struct Node {
    name: String,
    ccy: Option<String>,
    text: String,
    children: Vec<Node>,
    line: u64,
}

impl Node {
    fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    fn children<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    fn get(&self, path: &[&str]) -> Option<&Node> {
        let mut n = self;
        for p in path {
            n = n.child(p)?;
        }
        Some(n)
    }

    /// The trimmed text at `path`, `None` when absent or blank.
    fn text_at(&self, path: &[&str]) -> Option<&str> {
        let t = self.get(path)?.text.trim();
        (!t.is_empty()).then_some(t)
    }
}

/// Turns byte offsets into 1-based line numbers (offsets only grow while reading).
struct Lines<'a> {
    bytes: &'a [u8],
    pos: usize,
    line: u64,
}

impl Lines<'_> {
    fn at(&mut self, pos: u64) -> u64 {
        let pos = usize::try_from(pos)
            .unwrap_or(usize::MAX)
            .min(self.bytes.len());
        if pos > self.pos {
            self.line += self.bytes[self.pos..pos]
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as u64;
            self.pos = pos;
        }
        self.line
    }
}

/// What a statement collects while its children stream past.
struct Stmt {
    id: Option<String>,
    account: Option<String>,
    currency: Option<Currency>,
    opening: Option<StatedBalance>,
    previous_closing: Option<StatedBalance>,
    closing: Option<StatedBalance>,
    lines: Vec<BankLine>,
    line: u64,
}

/// The parse: statements, pending entries skipped, rows rejected, entries numbered.
struct Parse {
    statements: Vec<BankStatement>,
    skipped: usize,
    rejected: Rejections,
    entry_no: u64,
}

/// Parses a camt.053 document. Returns its statements and the number of entries left out
/// because they are not booked (PDNG, INFO).
pub(crate) fn parse(
    bytes: &[u8],
    file: &str,
) -> Result<(Vec<BankStatement>, usize), BankImportError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = 1 + bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64;
        BankImportError::at(file, line, "the XML is not valid UTF-8")
    })?;
    let mut reader = Reader::from_str(text);
    reader.config_mut().expand_empty_elements = true;
    reader.config_mut().check_end_names = true;
    let mut lines = Lines {
        bytes,
        pos: 0,
        line: 1,
    };
    let mut p = Parse {
        statements: Vec::new(),
        skipped: 0,
        rejected: Rejections::default(),
        entry_no: 0,
    };
    let mut stack: Vec<String> = Vec::new();
    let mut building: Vec<Node> = Vec::new();
    let mut stmt: Option<(usize, Stmt)> = None;
    let mut seen_root = false;
    loop {
        let event = match reader.read_event() {
            Ok(e) => e,
            Err(e) => {
                let line = lines.at(reader.error_position());
                let at_end =
                    usize::try_from(reader.buffer_position()).is_ok_and(|p| p >= bytes.len());
                let hint = if at_end {
                    " (the file is truncated)"
                } else {
                    ""
                };
                return Err(BankImportError::at(
                    file,
                    line,
                    format!("malformed XML{hint}: {e}"),
                ));
            }
        };
        match event {
            Event::Start(e) => {
                let line = lines.at(reader.buffer_position());
                if stack.len() >= MAX_DEPTH {
                    return Err(BankImportError::at(
                        file,
                        line,
                        format!("elements nest more than {MAX_DEPTH} deep"),
                    ));
                }
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                let parent = stack.last().map(String::as_str);
                if name == "BkToCstmrStmt" {
                    seen_root = true;
                }
                if !building.is_empty() || (stmt.is_some() && parent == Some("Stmt")) {
                    let ccy = match e.try_get_attribute("Ccy") {
                        Ok(Some(a)) => Some(
                            a.decode_and_unescape_value(reader.decoder())
                                .map_err(|e| {
                                    BankImportError::at(file, line, format!("malformed XML: {e}"))
                                })?
                                .into_owned(),
                        ),
                        Ok(None) => None,
                        Err(e) => {
                            return Err(BankImportError::at(
                                file,
                                line,
                                format!("malformed XML: {e}"),
                            ))
                        }
                    };
                    building.push(Node {
                        name: name.clone(),
                        ccy,
                        line,
                        ..Node::default()
                    });
                } else if name == "Stmt" && parent == Some("BkToCstmrStmt") {
                    stmt = Some((
                        stack.len(),
                        Stmt {
                            id: None,
                            account: None,
                            currency: None,
                            opening: None,
                            previous_closing: None,
                            closing: None,
                            lines: Vec::new(),
                            line,
                        },
                    ));
                }
                stack.push(name);
            }
            Event::End(_) => {
                stack.pop();
                if let Some(node) = building.pop() {
                    match building.last_mut() {
                        Some(parent) => parent.children.push(node),
                        None => {
                            if let Some((_, s)) = stmt.as_mut() {
                                p.child(s, node);
                            }
                        }
                    }
                } else if let Some((depth, _)) = &stmt {
                    if *depth == stack.len() {
                        if let Some((_, s)) = stmt.take() {
                            p.finish(s);
                        }
                    }
                }
            }
            Event::Text(t) => {
                if let Some(n) = building.last_mut() {
                    let s = t.decode().map_err(|e| {
                        BankImportError::at(
                            file,
                            lines.at(reader.buffer_position()),
                            format!("malformed XML: {e}"),
                        )
                    })?;
                    n.text.push_str(&s);
                }
            }
            Event::CData(t) => {
                if let Some(n) = building.last_mut() {
                    n.text.push_str(&String::from_utf8_lossy(&t.into_inner()));
                }
            }
            Event::GeneralRef(r) => {
                let line = lines.at(reader.buffer_position());
                let name = String::from_utf8_lossy(&r).into_owned();
                let c = if r.is_char_ref() {
                    match r.resolve_char_ref() {
                        Ok(Some(c)) => c,
                        _ => {
                            return Err(BankImportError::at(
                                file,
                                line,
                                format!("malformed XML: bad character reference &{name};"),
                            ))
                        }
                    }
                } else {
                    match name.as_str() {
                        "amp" => '&',
                        "lt" => '<',
                        "gt" => '>',
                        "quot" => '"',
                        "apos" => '\'',
                        _ => {
                            return Err(BankImportError::at(
                                file,
                                line,
                                format!(
                                    "the XML uses the entity &{name};, which camt.053 never does: refused as hostile or malformed"
                                ),
                            ))
                        }
                    }
                };
                if let Some(n) = building.last_mut() {
                    n.text.push(c);
                }
            }
            Event::DocType(_) => {
                let line = lines.at(reader.buffer_position());
                return Err(BankImportError::at(
                    file,
                    line,
                    "the XML has a DOCTYPE declaration (entities, external references): refused as hostile; camt.053 files have none",
                ));
            }
            Event::Eof => {
                if let Some(open) = stack.last() {
                    let line = lines.at(reader.buffer_position());
                    return Err(BankImportError::at(
                        file,
                        line,
                        format!("the XML ends inside <{open}>: the file is truncated"),
                    ));
                }
                break;
            }
            Event::Empty(_) | Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
        }
    }
    if !seen_root {
        return Err(BankImportError::file(
            file,
            "not a camt.053 statement: the XML has no BkToCstmrStmt element",
        ));
    }
    if p.statements.is_empty() && p.rejected.0.is_empty() {
        return Err(BankImportError::file(
            file,
            "the camt.053 document has no statement (Stmt)",
        ));
    }
    let Parse {
        statements,
        skipped,
        rejected,
        ..
    } = p;
    rejected.finish(file, (statements, skipped))
}

/// A `YYYY-MM-DD` date, or the date of an ISO date-time (`Dt` or `DtTm` of a choice).
fn date_of(node: &Node) -> Result<NaiveDate, String> {
    let (t, what) = match (node.text_at(&["Dt"]), node.text_at(&["DtTm"])) {
        (Some(d), _) => (d, "Dt"),
        (None, Some(d)) => (d, "DtTm"),
        (None, None) => return Err(format!("{} has no Dt or DtTm", node.name)),
    };
    let ok = t
        .get(..10)
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
    match (ok, t.get(10..)) {
        (Some(d), Some(rest)) if rest.is_empty() || rest.starts_with(['T', 'Z', '+', '-']) => Ok(d),
        _ => Err(format!("{}/{what} {t:?} is not a date", node.name)),
    }
}

/// `CRDT` → +1, `DBIT` → −1.
fn sign_of(node: &Node) -> Result<i64, String> {
    match node.text_at(&["CdtDbtInd"]) {
        Some("CRDT") => Ok(1),
        Some("DBIT") => Ok(-1),
        Some(other) => Err(format!("CdtDbtInd {other:?} is neither CRDT nor DBIT")),
        None => Err("CdtDbtInd is missing".into()),
    }
}

impl Parse {
    /// The statement's currency: the first one named (Acct/Ccy, a balance, an entry); every
    /// later amount must be in it.
    fn currency(&self, s: &mut Stmt, code: &str) -> Result<Currency, String> {
        let c = Currency::parse(code).map_err(|e| e.to_string())?;
        match s.currency {
            None => {
                s.currency = Some(c);
                Ok(c)
            }
            Some(sc) if sc == c => Ok(c),
            Some(sc) => Err(format!(
                "currency {} differs from the statement's currency {}",
                c.code(),
                sc.code()
            )),
        }
    }

    /// An amount: `Amt` with its `Ccy`, non-negative, signed by `CdtDbtInd`.
    fn amount(&self, s: &mut Stmt, node: &Node) -> Result<i64, String> {
        let amt = node.child("Amt").ok_or("Amt is missing")?;
        let code = amt.ccy.as_deref().ok_or("Amt has no Ccy attribute")?;
        let cur = self.currency(s, code)?;
        let value = parse_minor(amt.text.trim(), cur).map_err(|e| e.to_string())?;
        if value < 0 {
            return Err(format!(
                "amount {:?} is negative; camt.053 gives the sign in CdtDbtInd",
                amt.text.trim()
            ));
        }
        Ok(sign_of(node)? * value)
    }

    /// One finished child of a `Stmt`.
    fn child(&mut self, s: &mut Stmt, node: Node) {
        match node.name.as_str() {
            "Id" => s.id = Some(node.text.trim().to_string()).filter(|t| !t.is_empty()),
            "Acct" => {
                s.account = node
                    .text_at(&["Id", "IBAN"])
                    .or_else(|| node.text_at(&["Id", "Othr", "Id"]))
                    .map(str::to_string);
                if let Some(code) = node.text_at(&["Ccy"]) {
                    if let Err(r) = self.currency(s, code) {
                        self.rejected.push(node.line, format!("account: {r}"));
                    }
                }
            }
            "Bal" => {
                let code = node
                    .text_at(&["Tp", "CdOrPrtry", "Cd"])
                    .unwrap_or("")
                    .to_string();
                if !matches!(code.as_str(), "OPBD" | "PRCD" | "CLBD") {
                    return;
                }
                let bal = self
                    .amount(s, &node)
                    .and_then(|amount| {
                        let dt = node.child("Dt").ok_or("Dt is missing")?;
                        Ok(StatedBalance {
                            date: date_of(dt)?,
                            amount,
                        })
                    })
                    .map_err(|r| format!("balance {code}: {r}"));
                match bal {
                    Ok(b) => {
                        let slot = match code.as_str() {
                            "OPBD" => &mut s.opening,
                            "PRCD" => &mut s.previous_closing,
                            _ => &mut s.closing,
                        };
                        slot.get_or_insert(b);
                    }
                    Err(r) => self.rejected.push(node.line, r),
                }
            }
            "Ntry" => {
                self.entry_no += 1;
                let no = self.entry_no;
                match self.entry(s, &node, no) {
                    Ok(Some(line)) => s.lines.push(line),
                    Ok(None) => self.skipped += 1,
                    Err(r) => self.rejected.push(node.line, format!("entry {no}: {r}")),
                }
            }
            _ => {}
        }
    }

    /// A booked entry as a bank line; `None` for an entry not booked yet.
    fn entry(&self, s: &mut Stmt, n: &Node, no: u64) -> Result<Option<BankLine>, String> {
        let status = n
            .text_at(&["Sts", "Cd"])
            .or_else(|| n.text_at(&["Sts", "Prtry"]))
            .or_else(|| n.text_at(&["Sts"]))
            .ok_or("Sts (status) is missing")?;
        match status {
            "BOOK" => {}
            "PDNG" | "INFO" | "FUTR" => return Ok(None),
            other => return Err(format!("status {other:?} is not BOOK, PDNG or INFO")),
        }
        let amount = self.amount(s, n)?;
        let currency = s.currency.ok_or("no currency")?;
        let value_date = n.child("ValDt").map(date_of).transpose()?;
        let booking_date = match n.child("BookgDt") {
            Some(b) => date_of(b)?,
            None => value_date.ok_or("BookgDt (booking date) is missing")?,
        };
        let mut references = Vec::new();
        if let Some(r) = n.text_at(&["AcctSvcrRef"]) {
            push_ref(&mut references, r);
        }
        let mut texts = Vec::new();
        let mut counterparty = None;
        let party = if amount < 0 { "Cdtr" } else { "Dbtr" };
        for details in n.children("NtryDtls") {
            for tx in details.children("TxDtls") {
                for path in [
                    &["Refs", "EndToEndId"][..],
                    &["Refs", "AcctSvcrRef"],
                    &["RmtInf", "Strd", "CdtrRefInf", "Ref"],
                ] {
                    if let Some(r) = tx.text_at(path) {
                        push_ref(&mut references, r);
                    }
                }
                if let Some(rmt) = tx.child("RmtInf") {
                    for u in rmt.children("Ustrd") {
                        push_text(&mut texts, &u.text);
                    }
                }
                if counterparty.is_none() {
                    counterparty = tx
                        .text_at(&["RltdPties", party, "Nm"])
                        .or_else(|| tx.text_at(&["RltdPties", party, "Pty", "Nm"]))
                        .map(str::to_string);
                }
            }
        }
        if texts.is_empty() {
            if let Some(t) = n.text_at(&["AddtlNtryInf"]) {
                push_text(&mut texts, t);
            }
        }
        Ok(Some(BankLine {
            booking_date,
            value_date,
            amount,
            currency,
            counterparty,
            references,
            text: super::join_text(&texts),
            line: no,
        }))
    }

    /// A `Stmt` ended: it becomes a statement (its rejected rows are already listed).
    fn finish(&mut self, s: Stmt) {
        let Some(currency) = s.currency else {
            self.rejected.push(
                s.line,
                "statement names no currency (no Acct/Ccy, balance or entry)",
            );
            return;
        };
        self.statements.push(BankStatement {
            account_id: s.account,
            statement_id: s.id,
            currency,
            opening: s.opening.or(s.previous_closing),
            closing: s.closing,
            lines: s.lines,
        });
    }
}

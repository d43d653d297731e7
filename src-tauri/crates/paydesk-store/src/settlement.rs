//! Settlement reconciliation's tables (migration 0013): bank statements and lines, provider
//! fund flows and payouts, settlement runs with their links and findings.
//!
//! Every write is one transaction: a bank file is imported whole or not at all, a run replaces
//! its bank account's booked links, suggestions and findings at once.

use crate::codec::{chunk_rows, insert_sql, ms, now_ms, RowReader};
use crate::db::AppDb;
use crate::error::{DbContext, Result, StoreError};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use paydesk_core::settlement::matching::{LinkRule, SettleClass};
use paydesk_core::settlement::{
    BankLine, BankStatement, FlowKind, FundFlow, Payout, PayoutStatus, StatedBalance,
};
use paydesk_core::{Currency, Provider};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;
use sqlx::Row;
use std::collections::HashMap;
use std::str::FromStr;

/// A parsed bank file about to be imported.
#[derive(Debug, Clone)]
pub struct NewBankImport<'a> {
    /// `[[bank_accounts]]` name.
    pub bank_account: &'a str,
    pub file_name: &'a str,
    pub content_sha256: &'a str,
    /// "camt053", "mt940", "table".
    pub format: &'a str,
    pub statements: &'a [BankStatement],
    pub actor: &'a str,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum BankImportOutcome {
    Imported {
        statements: u64,
        lines: u64,
        /// Lines an earlier (overlapping) file already holds: not booked twice.
        already_known_lines: u64,
    },
    /// This exact file was imported before: nothing changed.
    AlreadyImported {
        imported_at: DateTime<Utc>,
        imported_by: String,
    },
}

/// A stored bank line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredBankLine {
    pub id: i64,
    pub bank_account: String,
    pub file_name: String,
    pub line: BankLine,
}

/// A stored bank statement without its lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredBankStatement {
    pub id: i64,
    pub bank_account: String,
    pub file_name: String,
    pub format: String,
    pub statement_ref: Option<String>,
    pub currency: Currency,
    pub opening: Option<StatedBalance>,
    pub closing: Option<StatedBalance>,
    pub line_count: u64,
    pub line_sum: i64,
    pub imported_at: DateTime<Utc>,
    pub imported_by: String,
}

/// What [`AppDb::save_fund_flows`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SavedFundFlows {
    pub new_flows: u64,
    pub known_flows: u64,
    pub payouts: u64,
}

/// Where the payouts given to [`AppDb::save_fund_flows`] come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PayoutOrigin {
    /// The provider states them (a payouts listing, Alipay/WeChat 提现 rows): they replace
    /// what is stored (a payout can be paid, then failed).
    Stated,
    /// Inferred from the movements (a Stripe itemized report's `automatic_payout_id`): stored
    /// only when the payout is not known yet, so that they never hide the provider's amount.
    Inferred,
}

/// A stored payout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredPayout {
    pub id: i64,
    pub payout: Payout,
}

/// Where a link stands.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::Display,
    strum::EnumString,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum LinkState {
    /// Booked by a run (confidence at or above the threshold).
    Booked,
    /// Waiting for a reviewer.
    Suggested,
    Accepted,
    Rejected,
}

impl LinkState {
    pub fn as_str(&self) -> &'static str {
        self.into()
    }
}

/// A link a run is about to save.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLink {
    pub rule: LinkRule,
    pub confidence: u8,
    /// Booked or Suggested.
    pub state: LinkState,
    pub currency: Currency,
    pub payout_total: i64,
    pub bank_total: i64,
    pub evidence: Vec<String>,
    /// `payouts.id` values.
    pub payout_ids: Vec<i64>,
    /// `bank_lines.id` values.
    pub bank_line_ids: Vec<i64>,
}

/// A stored link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredLink {
    pub id: i64,
    pub bank_account: String,
    pub link_key: String,
    pub rule: LinkRule,
    pub confidence: u8,
    pub state: LinkState,
    pub currency: Currency,
    pub payout_total: i64,
    pub bank_total: i64,
    pub evidence: Vec<String>,
    pub payout_ids: Vec<i64>,
    pub bank_line_ids: Vec<i64>,
    pub run_id: i64,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub note: Option<String>,
}

/// A finding a run is about to save.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFinding {
    pub class: SettleClass,
    pub day: NaiveDate,
    pub currency: Currency,
    pub expected: Option<i64>,
    pub actual: Option<i64>,
    pub detail: String,
    pub payout_ids: Vec<i64>,
    pub bank_line_ids: Vec<i64>,
}

/// A stored finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredFinding {
    pub id: i64,
    pub run_id: i64,
    pub bank_account: String,
    pub class: SettleClass,
    pub day: NaiveDate,
    pub currency: Currency,
    pub expected: Option<i64>,
    pub actual: Option<i64>,
    pub detail: String,
    pub payout_ids: Vec<i64>,
    pub bank_line_ids: Vec<i64>,
    /// What the finding is about, stable over re-runs ([`finding_key`]).
    pub finding_key: String,
    /// A reviewer's verdict: `None` (open), or the review that stands over re-runs.
    pub review: Option<FindingReview>,
}

/// A reviewer's verdict on a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingReview {
    /// "open" (a note only) or "resolved".
    pub state: String,
    pub note: Option<String>,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
}

/// The key of a finding: its class, day and currency and the payouts and bank lines it names
/// (sorted), or its detail when it names none (a balance break).
pub fn finding_key(f: &NewFinding) -> String {
    let mut p = f.payout_ids.clone();
    p.sort_unstable();
    let mut b = f.bank_line_ids.clone();
    b.sort_unstable();
    let about = if p.is_empty() && b.is_empty() {
        let mut h = Sha256::new();
        h.update(f.detail.as_bytes());
        hex::encode(&h.finalize()[..12])
    } else {
        link_key(&p, &b)
    };
    format!("{}|{}|{}|{about}", f.class, f.day, f.currency.code())
}

/// A settlement run about to be saved.
#[derive(Debug, Clone)]
pub struct NewSettlementRun<'a> {
    pub bank_account: &'a str,
    pub as_of: NaiveDate,
    pub actor: &'a str,
    pub started_at: DateTime<Utc>,
    pub summary: serde_json::Value,
    pub links: &'a [NewLink],
    pub findings: &'a [NewFinding],
}

/// A stored settlement run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettlementRunRecord {
    pub id: i64,
    pub bank_account: String,
    pub as_of: NaiveDate,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub actor: String,
    pub summary: serde_json::Value,
}

/// The key of a link: its items, sorted ("p3,p9|b12"). Two runs that find the same link
/// give it the same key, so a reviewer's decision stands.
pub fn link_key(payout_ids: &[i64], bank_line_ids: &[i64]) -> String {
    let join = |prefix: char, ids: &[i64]| {
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        ids.iter()
            .map(|i| format!("{prefix}{i}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    format!("{}|{}", join('p', payout_ids), join('b', bank_line_ids))
}

/// The content key of a bank line: what it says, and how many identical lines came before
/// it in its file (two equal transfers on one day are two lines).
fn bank_line_key(line: &BankLine, occurrence: u32) -> String {
    let mut h = Sha256::new();
    for part in [
        line.booking_date.to_string(),
        line.value_date.map(|d| d.to_string()).unwrap_or_default(),
        line.amount.to_string(),
        line.currency.code().to_string(),
        line.counterparty.clone().unwrap_or_default(),
        line.references.join("\u{1f}"),
        line.text.clone(),
        occurrence.to_string(),
    ] {
        h.update(part.as_bytes());
        h.update([0x1e]);
    }
    hex::encode(h.finalize())
}

/// `items` in the order of `ids` (missing ids are skipped, a repeated id gives its item once).
fn in_given_order<T>(ids: &[i64], items: Vec<T>, id_of: impl Fn(&T) -> i64) -> Vec<T> {
    let mut by_id: HashMap<i64, T> = items.into_iter().map(|t| (id_of(&t), t)).collect();
    ids.iter().filter_map(|id| by_id.remove(id)).collect()
}

fn ids_text(ids: &[i64]) -> String {
    ids.iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

fn ids_of(text: &str, r: &RowReader<'_>, column: &'static str) -> Result<Vec<i64>> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<i64>().map_err(|_| StoreError::Corrupt {
                table: r.table,
                key: r.key.clone(),
                column,
                reason: format!("{s:?} is not an id"),
            })
        })
        .collect()
}

fn date_of(r: &RowReader<'_>, column: &'static str) -> Result<NaiveDate> {
    let t = r.text(column)?;
    NaiveDate::parse_from_str(&t, "%Y-%m-%d").map_err(|_| StoreError::Corrupt {
        table: r.table,
        key: r.key.clone(),
        column,
        reason: format!("{t:?} is not a date"),
    })
}

fn opt_date_of(r: &RowReader<'_>, column: &'static str) -> Result<Option<NaiveDate>> {
    match r.opt_text(column)? {
        None => Ok(None),
        Some(_) => date_of(r, column).map(Some),
    }
}

fn parsed_of<T: FromStr>(r: &RowReader<'_>, column: &'static str) -> Result<T> {
    let t = r.text(column)?;
    T::from_str(&t).map_err(|_| StoreError::Corrupt {
        table: r.table,
        key: r.key.clone(),
        column,
        reason: format!("{t:?} is not a known value"),
    })
}

fn time_of_ms(v: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(v).single().unwrap_or_default()
}

fn json_list(r: &RowReader<'_>, column: &'static str) -> Result<Vec<String>> {
    let t = r.text(column)?;
    serde_json::from_str(&t).map_err(|e| StoreError::Corrupt {
        table: r.table,
        key: r.key.clone(),
        column,
        reason: e.to_string(),
    })
}

const BANK_LINE_COLS: &str = "l.id, l.bank_account, s.file_name, l.booking_date, l.value_date, \
     l.amount, l.currency, l.counterparty, l.refs, l.text, l.line_no";

fn read_bank_line(row: &AnyRow) -> Result<StoredBankLine> {
    let id: i64 = row.try_get("id").ctx("read", "bank line")?;
    let r = RowReader::new(row, "bank_lines", format!("id {id}"));
    Ok(StoredBankLine {
        id,
        bank_account: r.text("bank_account")?,
        file_name: r.text("file_name")?,
        line: BankLine {
            booking_date: date_of(&r, "booking_date")?,
            value_date: opt_date_of(&r, "value_date")?,
            amount: r.i64("amount")?,
            currency: r.currency("currency")?,
            counterparty: r.opt_text("counterparty")?,
            references: json_list(&r, "refs")?,
            text: r.text("text")?,
            line: r.u64("line_no")?,
        },
    })
}

const STATEMENT_COLS: &str = "id, bank_account, file_name, format, statement_ref, currency, \
     opening_date, opening_amount, closing_date, closing_amount, line_count, line_sum, \
     imported_at, imported_by";

fn read_statement(row: &AnyRow) -> Result<StoredBankStatement> {
    let id: i64 = row.try_get("id").ctx("read", "bank statement")?;
    let r = RowReader::new(row, "bank_statements", format!("id {id}"));
    let balance = |d: &'static str, a: &'static str| -> Result<Option<StatedBalance>> {
        Ok(match (opt_date_of(&r, d)?, r.opt_i64(a)?) {
            (Some(date), Some(amount)) => Some(StatedBalance { date, amount }),
            _ => None,
        })
    };
    Ok(StoredBankStatement {
        id,
        bank_account: r.text("bank_account")?,
        file_name: r.text("file_name")?,
        format: r.text("format")?,
        statement_ref: r.opt_text("statement_ref")?,
        currency: r.currency("currency")?,
        opening: balance("opening_date", "opening_amount")?,
        closing: balance("closing_date", "closing_amount")?,
        line_count: r.u64("line_count")?,
        line_sum: r.i64("line_sum")?,
        imported_at: r.time("imported_at")?,
        imported_by: r.text("imported_by")?,
    })
}

const FLOW_COLS: &str = "provider, account, flow_id, source_id, order_no, payout_id, kind, \
     booked_at, currency, gross, fee, net, balance_after, description, line_no";

fn read_flow(row: &AnyRow) -> Result<FundFlow> {
    let flow_id: String = row.try_get("flow_id").ctx("read", "fund flow")?;
    let r = RowReader::new(row, "fund_flows", flow_id.clone());
    Ok(FundFlow {
        provider: r.parsed::<Provider>("provider")?,
        account: r.text("account")?,
        flow_id,
        source_id: r.opt_text("source_id")?,
        order_no: r.opt_text("order_no")?,
        payout_id: r.opt_text("payout_id")?,
        kind: parsed_of::<FlowKind>(&r, "kind")?,
        booked_at: time_of_ms(r.i64("booked_at")?),
        currency: r.currency("currency")?,
        gross: r.i64("gross")?,
        fee: r.i64("fee")?,
        net: r.i64("net")?,
        balance_after: r.opt_i64("balance_after")?,
        description: r.text("description")?,
        line: r.u64("line_no")?,
    })
}

const PAYOUT_COLS: &str = "id, provider, account, payout_id, amount, currency, created_at, \
     arrival_date, trace_id, automatic, status";

fn read_payout(row: &AnyRow) -> Result<StoredPayout> {
    let id: i64 = row.try_get("id").ctx("read", "payout")?;
    let r = RowReader::new(row, "payouts", format!("id {id}"));
    Ok(StoredPayout {
        id,
        payout: Payout {
            provider: r.parsed::<Provider>("provider")?,
            account: r.text("account")?,
            payout_id: r.text("payout_id")?,
            amount: r.i64("amount")?,
            currency: r.currency("currency")?,
            created_at: time_of_ms(r.i64("created_at")?),
            arrival_date: date_of(&r, "arrival_date")?,
            trace_id: r.opt_text("trace_id")?,
            automatic: r.bool("automatic")?,
            status: parsed_of::<PayoutStatus>(&r, "status")?,
        },
    })
}

const LINK_COLS: &str = "id, bank_account, link_key, rule, confidence, state, currency, \
     payout_total, bank_total, evidence, run_id, decided_by, decided_at, note";

fn read_link(row: &AnyRow, items: &HashMap<i64, (Vec<i64>, Vec<i64>)>) -> Result<StoredLink> {
    let id: i64 = row.try_get("id").ctx("read", "settlement link")?;
    let r = RowReader::new(row, "settlement_links", format!("id {id}"));
    let (payout_ids, bank_line_ids) = items.get(&id).cloned().unwrap_or_default();
    Ok(StoredLink {
        id,
        bank_account: r.text("bank_account")?,
        link_key: r.text("link_key")?,
        rule: parsed_of::<LinkRule>(&r, "rule")?,
        confidence: u8::try_from(r.i64("confidence")?.clamp(0, 100)).unwrap_or(0),
        state: parsed_of::<LinkState>(&r, "state")?,
        currency: r.currency("currency")?,
        payout_total: r.i64("payout_total")?,
        bank_total: r.i64("bank_total")?,
        evidence: json_list(&r, "evidence")?,
        payout_ids,
        bank_line_ids,
        run_id: r.i64("run_id")?,
        decided_by: r.opt_text("decided_by")?,
        decided_at: r.opt_i64("decided_at")?.map(time_of_ms),
        note: r.opt_text("note")?,
    })
}

const FINDING_COLS: &str = "f.id, f.run_id, f.bank_account, f.class, f.day, f.currency, \
     f.expected, f.actual, f.detail, f.payout_ids, f.bank_line_ids, f.finding_key, \
     r.state AS review_state, r.note AS review_note, r.updated_by AS review_by, \
     r.updated_at AS review_at";

fn read_finding(row: &AnyRow) -> Result<StoredFinding> {
    let id: i64 = row.try_get("id").ctx("read", "settlement finding")?;
    let r = RowReader::new(row, "settlement_findings", format!("id {id}"));
    Ok(StoredFinding {
        id,
        run_id: r.i64("run_id")?,
        bank_account: r.text("bank_account")?,
        class: parsed_of::<SettleClass>(&r, "class")?,
        day: date_of(&r, "day")?,
        currency: r.currency("currency")?,
        expected: r.opt_i64("expected")?,
        actual: r.opt_i64("actual")?,
        detail: r.text("detail")?,
        payout_ids: ids_of(&r.text("payout_ids")?, &r, "payout_ids")?,
        bank_line_ids: ids_of(&r.text("bank_line_ids")?, &r, "bank_line_ids")?,
        finding_key: r.text("finding_key")?,
        review: match r.opt_text("review_state")? {
            None => None,
            Some(state) => Some(FindingReview {
                state,
                note: r.opt_text("review_note")?,
                updated_by: r.text("review_by")?,
                updated_at: time_of_ms(r.i64("review_at")?),
            }),
        },
    })
}

impl AppDb {
    /// Imports a parsed bank file in one transaction. The same file twice is
    /// [`BankImportOutcome::AlreadyImported`] and changes nothing; lines an earlier
    /// overlapping file holds are counted, not booked again.
    pub async fn import_bank_file(&self, imp: &NewBankImport<'_>) -> Result<BankImportOutcome> {
        let op = "import a bank statement into";
        let mut tx = self.begin_write(op, "bank_statements").await?;
        let known = sqlx::query(
            "SELECT imported_at, imported_by FROM bank_statements \
             WHERE bank_account = $1 AND content_sha256 = $2 ORDER BY id LIMIT 1",
        )
        .bind(imp.bank_account)
        .bind(imp.content_sha256)
        .fetch_optional(&mut *tx)
        .await
        .ctx(op, "bank_statements")?;
        if let Some(row) = known {
            let r = RowReader::new(&row, "bank_statements", imp.content_sha256);
            return Ok(BankImportOutcome::AlreadyImported {
                imported_at: r.time("imported_at")?,
                imported_by: r.text("imported_by")?,
            });
        }
        let now = now_ms();
        let (mut lines, mut already) = (0u64, 0u64);
        for (position, stmt) in imp.statements.iter().enumerate() {
            let wide: i128 = stmt.lines.iter().map(|l| i128::from(l.amount)).sum();
            let line_sum =
                i64::try_from(wide).unwrap_or(if wide < 0 { i64::MIN } else { i64::MAX });
            let row = sqlx::query(
                "INSERT INTO bank_statements (bank_account, file_name, content_sha256, position, \
                 format, statement_ref, account_ref, currency, opening_date, opening_amount, \
                 closing_date, closing_amount, line_count, line_sum, imported_at, imported_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
                 RETURNING id",
            )
            .bind(imp.bank_account)
            .bind(imp.file_name)
            .bind(imp.content_sha256)
            .bind(i64::try_from(position).unwrap_or(i64::MAX))
            .bind(imp.format)
            .bind(stmt.statement_id.clone())
            .bind(stmt.account_id.clone())
            .bind(stmt.currency.code().to_string())
            .bind(stmt.opening.map(|b| b.date.to_string()))
            .bind(stmt.opening.map(|b| b.amount))
            .bind(stmt.closing.map(|b| b.date.to_string()))
            .bind(stmt.closing.map(|b| b.amount))
            .bind(i64::try_from(stmt.lines.len()).unwrap_or(i64::MAX))
            .bind(line_sum)
            .bind(now)
            .bind(imp.actor)
            .fetch_one(&mut *tx)
            .await
            .ctx(op, "bank_statements")?;
            let statement_id: i64 = row.try_get("id").ctx(op, "bank_statements")?;

            let mut seen: HashMap<String, u32> = HashMap::new();
            let keyed: Vec<(String, &BankLine)> = stmt
                .lines
                .iter()
                .map(|l| {
                    let plain = bank_line_key(l, 0);
                    let n = seen.entry(plain).or_insert(0);
                    let key = bank_line_key(l, *n);
                    *n += 1;
                    (key, l)
                })
                .collect();
            let cols = [
                "statement_id",
                "bank_account",
                "line_key",
                "booking_date",
                "value_date",
                "amount",
                "currency",
                "counterparty",
                "refs",
                "text",
                "line_no",
            ];
            for chunk in keyed.chunks(chunk_rows(cols.len())) {
                let sql = insert_sql(
                    self.backend,
                    "bank_lines",
                    &cols,
                    chunk.len(),
                    "ON CONFLICT (bank_account, line_key) DO NOTHING",
                );
                let mut q = sqlx::query(&sql);
                for (key, l) in chunk {
                    q = q
                        .bind(statement_id)
                        .bind(imp.bank_account)
                        .bind(key.clone())
                        .bind(l.booking_date.to_string())
                        .bind(l.value_date.map(|d| d.to_string()))
                        .bind(l.amount)
                        .bind(l.currency.code().to_string())
                        .bind(l.counterparty.clone())
                        .bind(serde_json::to_string(&l.references).unwrap_or_default())
                        .bind(l.text.clone())
                        .bind(i64::try_from(l.line).unwrap_or(i64::MAX));
                }
                let done = q.execute(&mut *tx).await.ctx(op, "bank_lines")?;
                let n = done.rows_affected();
                lines += n;
                already += chunk.len() as u64 - n.min(chunk.len() as u64);
            }
        }
        tx.commit().await.ctx(op, "bank_statements")?;
        Ok(BankImportOutcome::Imported {
            statements: imp.statements.len() as u64,
            lines,
            already_known_lines: already,
        })
    }

    /// The bank account's statements, oldest closing first.
    pub async fn bank_statements(&self, bank_account: &str) -> Result<Vec<StoredBankStatement>> {
        let rows = sqlx::query(&format!(
            "SELECT {STATEMENT_COLS} FROM bank_statements WHERE bank_account = $1 \
             ORDER BY closing_date, opening_date, id"
        ))
        .bind(bank_account)
        .fetch_all(&self.pool)
        .await
        .ctx("read", "bank_statements")?;
        rows.iter().map(read_statement).collect()
    }

    /// The bank account's lines booked in `[from, until]`, by date then id.
    pub async fn bank_lines_between(
        &self,
        bank_account: &str,
        from: NaiveDate,
        until: NaiveDate,
    ) -> Result<Vec<StoredBankLine>> {
        let rows = sqlx::query(&format!(
            "SELECT {BANK_LINE_COLS} FROM bank_lines l \
             JOIN bank_statements s ON s.id = l.statement_id \
             WHERE l.bank_account = $1 AND l.booking_date >= $2 AND l.booking_date <= $3 \
             ORDER BY l.booking_date, l.id"
        ))
        .bind(bank_account)
        .bind(from.to_string())
        .bind(until.to_string())
        .fetch_all(&self.pool)
        .await
        .ctx("read", "bank_lines")?;
        rows.iter().map(read_bank_line).collect()
    }

    /// Bank lines by id (for a link or a finding).
    pub async fn bank_lines_by_ids(&self, ids: &[i64]) -> Result<Vec<StoredBankLine>> {
        let select = format!(
            "SELECT {BANK_LINE_COLS} FROM bank_lines l \
             JOIN bank_statements s ON s.id = l.statement_id WHERE l.id IN"
        );
        let lines = self.rows_by_ids(&select, ids, "bank_lines").await?;
        let lines: Vec<StoredBankLine> = lines.iter().map(read_bank_line).collect::<Result<_>>()?;
        Ok(in_given_order(ids, lines, |l| l.id))
    }

    /// The rows `select` (ending in `… WHERE x.id IN`) finds for `ids`, a few hundred ids per
    /// query.
    async fn rows_by_ids(&self, select: &str, ids: &[i64], table: &str) -> Result<Vec<AnyRow>> {
        let mut rows = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!("{select} ({})", marks.join(","));
            let mut q = sqlx::query(&sql);
            for id in chunk {
                q = q.bind(*id);
            }
            rows.extend(q.fetch_all(&self.pool).await.ctx("read", table)?);
        }
        Ok(rows)
    }

    /// Saves downloaded or imported fund flows and payouts in one transaction. A flow already
    /// stored (same account and flow id) is kept as it is; a payout already stored takes what
    /// a [`PayoutOrigin::Stated`] listing says of it and is left alone by an inferred one.
    pub async fn save_fund_flows(
        &self,
        file_name: &str,
        flows: &[FundFlow],
        payouts: &[Payout],
        origin: PayoutOrigin,
    ) -> Result<SavedFundFlows> {
        let op = "save fund flows into";
        let mut tx = self.begin_write(op, "fund_flows").await?;
        let mut saved = SavedFundFlows::default();
        let cols = [
            "provider",
            "account",
            "flow_id",
            "source_id",
            "order_no",
            "payout_id",
            "kind",
            "booked_at",
            "currency",
            "gross",
            "fee",
            "net",
            "balance_after",
            "description",
            "file_name",
            "line_no",
        ];
        for chunk in flows.chunks(chunk_rows(cols.len())) {
            let sql = insert_sql(
                self.backend,
                "fund_flows",
                &cols,
                chunk.len(),
                "ON CONFLICT (account, flow_id) DO NOTHING",
            );
            let mut q = sqlx::query(&sql);
            for f in chunk {
                q = q
                    .bind(f.provider.as_str())
                    .bind(f.account.clone())
                    .bind(f.flow_id.clone())
                    .bind(f.source_id.clone())
                    .bind(f.order_no.clone())
                    .bind(f.payout_id.clone())
                    .bind(f.kind.as_str())
                    .bind(ms(f.booked_at))
                    .bind(f.currency.code().to_string())
                    .bind(f.gross)
                    .bind(f.fee)
                    .bind(f.net)
                    .bind(f.balance_after)
                    .bind(f.description.clone())
                    .bind(file_name)
                    .bind(i64::try_from(f.line).unwrap_or(i64::MAX));
            }
            let n = q
                .execute(&mut *tx)
                .await
                .ctx(op, "fund_flows")?
                .rows_affected();
            saved.new_flows += n;
            saved.known_flows += (chunk.len() as u64).saturating_sub(n);
        }
        let now = now_ms();
        let on_conflict = match origin {
            PayoutOrigin::Stated => {
                "ON CONFLICT (account, payout_id) DO UPDATE SET amount = excluded.amount, \
                 currency = excluded.currency, created_at = excluded.created_at, \
                 status = excluded.status, arrival_date = excluded.arrival_date, \
                 trace_id = excluded.trace_id, automatic = excluded.automatic, \
                 updated_at = excluded.updated_at"
            }
            PayoutOrigin::Inferred => "ON CONFLICT (account, payout_id) DO NOTHING",
        };
        for p in payouts {
            sqlx::query(&format!(
                "INSERT INTO payouts (provider, account, payout_id, amount, currency, created_at, \
                 arrival_date, trace_id, automatic, status, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) {on_conflict}"
            ))
            .bind(p.provider.as_str())
            .bind(p.account.clone())
            .bind(p.payout_id.clone())
            .bind(p.amount)
            .bind(p.currency.code().to_string())
            .bind(ms(p.created_at))
            .bind(p.arrival_date.to_string())
            .bind(p.trace_id.clone())
            .bind(i64::from(p.automatic))
            .bind(p.status.to_string())
            .bind(now)
            .execute(&mut *tx)
            .await
            .ctx(op, "payouts")?;
            saved.payouts += 1;
        }
        tx.commit().await.ctx(op, "fund_flows")?;
        Ok(saved)
    }

    /// Payouts of `accounts` expected in the bank on or before `until`.
    pub async fn payouts_until(
        &self,
        accounts: &[String],
        until: NaiveDate,
    ) -> Result<Vec<StoredPayout>> {
        let mut out = Vec::new();
        for account in accounts {
            let rows = sqlx::query(&format!(
                "SELECT {PAYOUT_COLS} FROM payouts WHERE account = $1 AND arrival_date <= $2 \
                 ORDER BY arrival_date, id"
            ))
            .bind(account.clone())
            .bind(until.to_string())
            .fetch_all(&self.pool)
            .await
            .ctx("read", "payouts")?;
            for row in &rows {
                out.push(read_payout(row)?);
            }
        }
        out.sort_by_key(|p| (p.payout.arrival_date, p.id));
        Ok(out)
    }

    /// Payouts by id.
    pub async fn payouts_by_ids(&self, ids: &[i64]) -> Result<Vec<StoredPayout>> {
        let select = format!("SELECT {PAYOUT_COLS} FROM payouts WHERE id IN");
        let rows = self.rows_by_ids(&select, ids, "payouts").await?;
        let payouts: Vec<StoredPayout> = rows.iter().map(read_payout).collect::<Result<_>>()?;
        Ok(in_given_order(ids, payouts, |p| p.id))
    }

    /// The movements a payout settles (Stripe `automatic_payout_id`), in booking order.
    pub async fn fund_flows_of_payout(
        &self,
        account: &str,
        payout_id: &str,
    ) -> Result<Vec<FundFlow>> {
        let rows = sqlx::query(&format!(
            "SELECT {FLOW_COLS} FROM fund_flows WHERE account = $1 AND payout_id = $2 \
             ORDER BY booked_at, id"
        ))
        .bind(account)
        .bind(payout_id)
        .fetch_all(&self.pool)
        .await
        .ctx("read", "fund_flows")?;
        rows.iter().map(read_flow).collect()
    }

    /// The movements of every account's payouts, grouped by (account, payout id): one query
    /// for a whole run instead of one per payout.
    pub async fn fund_flows_with_payouts(
        &self,
        accounts: &[String],
    ) -> Result<HashMap<(String, String), Vec<FundFlow>>> {
        let mut out: HashMap<(String, String), Vec<FundFlow>> = HashMap::new();
        for account in accounts {
            let rows = sqlx::query(&format!(
                "SELECT {FLOW_COLS} FROM fund_flows WHERE account = $1 AND payout_id IS NOT NULL \
                 ORDER BY booked_at, id"
            ))
            .bind(account.clone())
            .fetch_all(&self.pool)
            .await
            .ctx("read", "fund_flows")?;
            for row in &rows {
                let f = read_flow(row)?;
                if let Some(p) = f.payout_id.clone() {
                    out.entry((f.account.clone(), p)).or_default().push(f);
                }
            }
        }
        Ok(out)
    }

    /// An account's movements booked in `[from, until)`, in file order (booking time, id).
    pub async fn fund_flows_between(
        &self,
        account: &str,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<FundFlow>> {
        let rows = sqlx::query(&format!(
            "SELECT {FLOW_COLS} FROM fund_flows WHERE account = $1 AND booked_at >= $2 \
             AND booked_at < $3 ORDER BY booked_at, id"
        ))
        .bind(account)
        .bind(ms(from))
        .bind(ms(until))
        .fetch_all(&self.pool)
        .await
        .ctx("read", "fund_flows")?;
        rows.iter().map(read_flow).collect()
    }

    /// The fee movements of `account` that name a business object (`source_id`), grouped by
    /// it: a payout's own fees (Alipay's 提现 服务费, Stripe instant-payout fees), read once
    /// for a whole run.
    pub async fn fee_flows_by_source(
        &self,
        account: &str,
    ) -> Result<HashMap<String, Vec<FundFlow>>> {
        let rows = sqlx::query(&format!(
            "SELECT {FLOW_COLS} FROM fund_flows WHERE account = $1 AND kind = 'fee' \
             AND source_id IS NOT NULL ORDER BY booked_at, id"
        ))
        .bind(account)
        .fetch_all(&self.pool)
        .await
        .ctx("read", "fund_flows")?;
        let mut out: HashMap<String, Vec<FundFlow>> = HashMap::new();
        for row in &rows {
            let f = read_flow(row)?;
            if let Some(src) = f.source_id.clone() {
                out.entry(src).or_default().push(f);
            }
        }
        Ok(out)
    }

    /// Movements naming a merchant order number (follow an order to its payout).
    pub async fn fund_flows_of_order(&self, order_no: &str) -> Result<Vec<FundFlow>> {
        let rows = sqlx::query(&format!(
            "SELECT {FLOW_COLS} FROM fund_flows WHERE order_no = $1 ORDER BY booked_at, id"
        ))
        .bind(order_no)
        .fetch_all(&self.pool)
        .await
        .ctx("read", "fund_flows")?;
        rows.iter().map(read_flow).collect()
    }

    /// Movements by flow id or source id (a Stripe charge `ch_…`, an Alipay 业务流水号).
    pub async fn fund_flows_of_source(&self, source_id: &str) -> Result<Vec<FundFlow>> {
        let rows = sqlx::query(&format!(
            "SELECT {FLOW_COLS} FROM fund_flows WHERE source_id = $1 OR flow_id = $1 \
             ORDER BY booked_at, id"
        ))
        .bind(source_id)
        .fetch_all(&self.pool)
        .await
        .ctx("read", "fund_flows")?;
        rows.iter().map(read_flow).collect()
    }

    async fn link_items(&self, link_ids: &[i64]) -> Result<HashMap<i64, (Vec<i64>, Vec<i64>)>> {
        let mut out: HashMap<i64, (Vec<i64>, Vec<i64>)> = HashMap::new();
        for chunk in link_ids.chunks(500) {
            if chunk.is_empty() {
                continue;
            }
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT link_id, payout_id, bank_line_id FROM settlement_link_items \
                 WHERE link_id IN ({}) ORDER BY link_id, payout_id, bank_line_id",
                marks.join(",")
            );
            let mut q = sqlx::query(&sql);
            for id in chunk {
                q = q.bind(*id);
            }
            for row in q
                .fetch_all(&self.pool)
                .await
                .ctx("read", "settlement_link_items")?
            {
                let link: i64 = row
                    .try_get("link_id")
                    .ctx("read", "settlement_link_items")?;
                let p: Option<i64> = row
                    .try_get("payout_id")
                    .ctx("read", "settlement_link_items")?;
                let b: Option<i64> = row
                    .try_get("bank_line_id")
                    .ctx("read", "settlement_link_items")?;
                let e = out.entry(link).or_default();
                if let Some(p) = p {
                    e.0.push(p);
                }
                if let Some(b) = b {
                    e.1.push(b);
                }
            }
        }
        Ok(out)
    }

    /// The bank account's links in `states` (all states when empty), newest run first.
    pub async fn settlement_links(
        &self,
        bank_account: &str,
        states: &[LinkState],
    ) -> Result<Vec<StoredLink>> {
        let rows = sqlx::query(&format!(
            "SELECT {LINK_COLS} FROM settlement_links WHERE bank_account = $1 ORDER BY id"
        ))
        .bind(bank_account)
        .fetch_all(&self.pool)
        .await
        .ctx("read", "settlement_links")?;
        let ids: Vec<i64> = rows
            .iter()
            .filter_map(|r| r.try_get::<i64, _>("id").ok())
            .collect();
        let items = self.link_items(&ids).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let link = read_link(row, &items)?;
            if states.is_empty() || states.contains(&link.state) {
                out.push(link);
            }
        }
        Ok(out)
    }

    /// One link.
    pub async fn settlement_link(&self, id: i64) -> Result<Option<StoredLink>> {
        let row = sqlx::query(&format!(
            "SELECT {LINK_COLS} FROM settlement_links WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .ctx("read", "settlement_links")?;
        match row {
            None => Ok(None),
            Some(row) => {
                let items = self.link_items(&[id]).await?;
                read_link(&row, &items).map(Some)
            }
        }
    }

    /// Accepts or rejects a suggestion. Only a suggestion can be decided; accepting one whose
    /// payouts or bank lines another booked or accepted link already explains is refused
    /// (money is never explained twice).
    pub async fn decide_settlement_link(
        &self,
        id: i64,
        accept: bool,
        actor: &str,
        note: Option<&str>,
    ) -> Result<StoredLink> {
        let op = "decide a settlement suggestion in";
        let link = self
            .settlement_link(id)
            .await?
            .ok_or(StoreError::NotFound {
                what: "settlement suggestion",
                id: id.to_string(),
            })?;
        if link.state != LinkState::Suggested {
            return Err(StoreError::Invalid {
                what: format!("settlement link {id}"),
                reason: format!(
                    "it is {}, only a suggestion can be accepted or rejected",
                    link.state
                ),
            });
        }
        let mut tx = self.begin_write(op, "settlement_links").await?;
        if self.backend == crate::db::Backend::Postgres {
            // Two reviewers accepting overlapping suggestions at once: the second waits and
            // then sees the first's link (SQLite's write lock does the same).
            sqlx::query("LOCK TABLE settlement_links IN SHARE ROW EXCLUSIVE MODE")
                .execute(&mut *tx)
                .await
                .ctx(op, "settlement_links")?;
        }
        if accept {
            let taken = sqlx::query(
                "SELECT l.id, l.state FROM settlement_links l \
                 JOIN settlement_link_items i ON i.link_id = l.id \
                 WHERE l.bank_account = $1 AND l.state IN ('booked', 'accepted') AND ( \
                   i.payout_id IN (SELECT payout_id FROM settlement_link_items \
                                   WHERE link_id = $2 AND payout_id IS NOT NULL) \
                   OR i.bank_line_id IN (SELECT bank_line_id FROM settlement_link_items \
                                         WHERE link_id = $2 AND bank_line_id IS NOT NULL)) \
                 ORDER BY l.id LIMIT 1",
            )
            .bind(link.bank_account.clone())
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .ctx(op, "settlement_links")?;
            if let Some(row) = taken {
                let other: i64 = row.try_get("id").ctx(op, "settlement_links")?;
                let state: String = row.try_get("state").ctx(op, "settlement_links")?;
                return Err(StoreError::Invalid {
                    what: format!("settlement suggestion {id}"),
                    reason: format!(
                        "link {other} ({state}) already explains some of its payouts or bank lines"
                    ),
                });
            }
        }
        let state = if accept {
            LinkState::Accepted
        } else {
            LinkState::Rejected
        };
        let done = sqlx::query(
            "UPDATE settlement_links SET state = $1, decided_by = $2, decided_at = $3, note = $4 \
             WHERE id = $5 AND state = $6",
        )
        .bind(state.as_str())
        .bind(actor)
        .bind(now_ms())
        .bind(note.map(str::to_string))
        .bind(id)
        .bind(LinkState::Suggested.as_str())
        .execute(&mut *tx)
        .await
        .ctx(op, "settlement_links")?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Invalid {
                what: format!("settlement suggestion {id}"),
                reason: "someone else decided it meanwhile".into(),
            });
        }
        tx.commit().await.ctx(op, "settlement_links")?;
        self.settlement_link(id).await?.ok_or(StoreError::NotFound {
            what: "settlement suggestion",
            id: id.to_string(),
        })
    }

    /// Saves a run: its booked links and suggestions replace the bank account's earlier ones,
    /// its findings replace the earlier findings; accepted and rejected links stand.
    pub async fn save_settlement_run(&self, run: &NewSettlementRun<'_>) -> Result<i64> {
        let op = "save a settlement run into";
        let mut tx = self.begin_write(op, "settlement_runs").await?;
        let row = sqlx::query(
            "INSERT INTO settlement_runs (bank_account, as_of, started_at, finished_at, actor, \
             summary) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(run.bank_account)
        .bind(run.as_of.to_string())
        .bind(ms(run.started_at))
        .bind(now_ms())
        .bind(run.actor)
        .bind(run.summary.to_string())
        .fetch_one(&mut *tx)
        .await
        .ctx(op, "settlement_runs")?;
        let run_id: i64 = row.try_get("id").ctx(op, "settlement_runs")?;

        for sql in [
            "DELETE FROM settlement_link_items WHERE link_id IN (SELECT id FROM settlement_links \
             WHERE bank_account = $1 AND state IN ('booked', 'suggested'))",
            "DELETE FROM settlement_links WHERE bank_account = $1 \
             AND state IN ('booked', 'suggested')",
            "DELETE FROM settlement_findings WHERE bank_account = $1",
        ] {
            sqlx::query(sql)
                .bind(run.bank_account)
                .execute(&mut *tx)
                .await
                .ctx(op, "settlement_links")?;
        }
        let now = now_ms();
        for link in run.links {
            let key = link_key(&link.payout_ids, &link.bank_line_ids);
            let row = sqlx::query(
                "INSERT INTO settlement_links (bank_account, link_key, rule, confidence, state, \
                 currency, payout_total, bank_total, evidence, run_id, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
                 ON CONFLICT (bank_account, link_key) DO NOTHING RETURNING id",
            )
            .bind(run.bank_account)
            .bind(key)
            .bind(link.rule.to_string())
            .bind(i64::from(link.confidence))
            .bind(link.state.as_str())
            .bind(link.currency.code().to_string())
            .bind(link.payout_total)
            .bind(link.bank_total)
            .bind(serde_json::to_string(&link.evidence).unwrap_or_default())
            .bind(run_id)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await
            .ctx(op, "settlement_links")?;
            // An accepted or rejected link with the same items stands as it is.
            let Some(row) = row else { continue };
            let link_id: i64 = row.try_get("id").ctx(op, "settlement_links")?;
            let items = link
                .payout_ids
                .iter()
                .map(|p| (Some(*p), None))
                .chain(link.bank_line_ids.iter().map(|b| (None, Some(*b))));
            for (p, b) in items {
                sqlx::query(
                    "INSERT INTO settlement_link_items (link_id, payout_id, bank_line_id) \
                     VALUES ($1, $2, $3)",
                )
                .bind(link_id)
                .bind(p)
                .bind(b)
                .execute(&mut *tx)
                .await
                .ctx(op, "settlement_link_items")?;
            }
        }
        let cols = [
            "run_id",
            "bank_account",
            "class",
            "day",
            "currency",
            "expected",
            "actual",
            "detail",
            "payout_ids",
            "bank_line_ids",
            "finding_key",
        ];
        for chunk in run.findings.chunks(chunk_rows(cols.len())) {
            let sql = insert_sql(self.backend, "settlement_findings", &cols, chunk.len(), "");
            let mut q = sqlx::query(&sql);
            for f in chunk {
                q = q
                    .bind(run_id)
                    .bind(run.bank_account)
                    .bind(f.class.to_string())
                    .bind(f.day.to_string())
                    .bind(f.currency.code().to_string())
                    .bind(f.expected)
                    .bind(f.actual)
                    .bind(f.detail.clone())
                    .bind(ids_text(&f.payout_ids))
                    .bind(ids_text(&f.bank_line_ids))
                    .bind(finding_key(f));
            }
            q.execute(&mut *tx).await.ctx(op, "settlement_findings")?;
        }
        tx.commit().await.ctx(op, "settlement_runs")?;
        Ok(run_id)
    }

    /// The bank account's current findings (of its latest run).
    /// Every finding review of the bank account, by finding key: what a run's findings are
    /// shown with, stored or not.
    pub async fn settlement_finding_reviews(
        &self,
        bank_account: &str,
    ) -> Result<HashMap<String, FindingReview>> {
        let rows = sqlx::query(
            "SELECT finding_key, state, note, updated_by, updated_at \
             FROM settlement_finding_reviews WHERE bank_account = $1",
        )
        .bind(bank_account)
        .fetch_all(&self.pool)
        .await
        .ctx("read", "settlement_finding_reviews")?;
        let mut out = HashMap::with_capacity(rows.len());
        for row in &rows {
            let r = RowReader::new(row, "settlement_finding_reviews", bank_account.to_string());
            out.insert(
                r.text("finding_key")?,
                FindingReview {
                    state: r.text("state")?,
                    note: r.opt_text("note")?,
                    updated_by: r.text("updated_by")?,
                    updated_at: time_of_ms(r.i64("updated_at")?),
                },
            );
        }
        Ok(out)
    }

    pub async fn settlement_findings(&self, bank_account: &str) -> Result<Vec<StoredFinding>> {
        let rows = sqlx::query(&format!(
            "SELECT {FINDING_COLS} FROM settlement_findings f \
             LEFT JOIN settlement_finding_reviews r \
               ON r.bank_account = f.bank_account AND r.finding_key = f.finding_key \
             WHERE f.bank_account = $1 ORDER BY f.day, f.class, f.id"
        ))
        .bind(bank_account)
        .fetch_all(&self.pool)
        .await
        .ctx("read", "settlement_findings")?;
        rows.iter().map(read_finding).collect()
    }

    /// One finding of a bank account's latest run.
    pub async fn settlement_finding(&self, id: i64) -> Result<Option<StoredFinding>> {
        let row = sqlx::query(&format!(
            "SELECT {FINDING_COLS} FROM settlement_findings f \
             LEFT JOIN settlement_finding_reviews r \
               ON r.bank_account = f.bank_account AND r.finding_key = f.finding_key \
             WHERE f.id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .ctx("read", "settlement_findings")?;
        row.as_ref().map(read_finding).transpose()
    }

    /// Resolves (or reopens) a finding, with an optional note. The review is kept by the
    /// finding's key, so it stands when a re-run finds the same thing again.
    pub async fn review_settlement_finding(
        &self,
        id: i64,
        resolved: bool,
        note: Option<&str>,
        actor: &str,
    ) -> Result<StoredFinding> {
        let op = "review a settlement finding in";
        let finding = self
            .settlement_finding(id)
            .await?
            .ok_or(StoreError::NotFound {
                what: "settlement finding",
                id: id.to_string(),
            })?;
        let mut tx = self.begin_write(op, "settlement_finding_reviews").await?;
        sqlx::query(
            "INSERT INTO settlement_finding_reviews \
             (bank_account, finding_key, state, note, updated_by, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (bank_account, finding_key) DO UPDATE SET state = excluded.state, \
             note = COALESCE(excluded.note, settlement_finding_reviews.note), \
             updated_by = excluded.updated_by, updated_at = excluded.updated_at",
        )
        .bind(finding.bank_account.clone())
        .bind(finding.finding_key.clone())
        .bind(if resolved { "resolved" } else { "open" })
        .bind(note.map(str::to_string))
        .bind(actor)
        .bind(now_ms())
        .execute(&mut *tx)
        .await
        .ctx(op, "settlement_finding_reviews")?;
        tx.commit().await.ctx(op, "settlement_finding_reviews")?;
        self.settlement_finding(id)
            .await?
            .ok_or(StoreError::NotFound {
                what: "settlement finding",
                id: id.to_string(),
            })
    }

    /// The bank account's latest run.
    pub async fn latest_settlement_run(
        &self,
        bank_account: &str,
    ) -> Result<Option<SettlementRunRecord>> {
        let row = sqlx::query(
            "SELECT id, bank_account, as_of, started_at, finished_at, actor, summary \
             FROM settlement_runs WHERE bank_account = $1 ORDER BY id DESC LIMIT 1",
        )
        .bind(bank_account)
        .fetch_optional(&self.pool)
        .await
        .ctx("read", "settlement_runs")?;
        let Some(row) = row else { return Ok(None) };
        let id: i64 = row.try_get("id").ctx("read", "settlement_runs")?;
        let r = RowReader::new(&row, "settlement_runs", format!("id {id}"));
        let summary_text = r.text("summary")?;
        Ok(Some(SettlementRunRecord {
            id,
            bank_account: r.text("bank_account")?,
            as_of: date_of(&r, "as_of")?,
            started_at: r.time("started_at")?,
            finished_at: r.time("finished_at")?,
            actor: r.text("actor")?,
            summary: serde_json::from_str(&summary_text).unwrap_or(serde_json::Value::Null),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_keys_ignore_item_order() {
        assert_eq!(link_key(&[9, 3], &[12]), "p3,p9|b12");
        assert_eq!(link_key(&[3, 9], &[12]), link_key(&[9, 3, 3], &[12]));
        assert_ne!(link_key(&[3], &[12]), link_key(&[12], &[3]));
    }
}

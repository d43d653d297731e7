//! The daily job: one account, one day. Get the statement, parse it, read the order mirror,
//! match, and save the outcomes, under a per-(account, day) lock so that two consoles on one
//! database cannot interleave runs.

pub mod batch;
pub mod download;
pub mod identity;
mod partition;
mod spill;

use crate::context::config::{Account, Config};
use crate::context::progress::{Progress, Stage};
use crate::ServiceError;
use chrono::Utc;
use partition::{LineSpill, OrderSpill, SpilledDay};
use paydesk_core::{
    BillDate, Currency, DiscrepancyDraft, MatchResult, Money, Order, OutcomeClass, Provider,
    StatementLine,
};
use paydesk_providers::statement::{self, ParseContext, StatementFormat};
use paydesk_store::{
    AppDb, CarryOverCloses, NewDiscrepancy, NewRun, NewStatement, OrderMirror, OutcomeRow, RunLock,
};
use serde::Serialize;
use spill::{PartReader, PartWriter, SpillDir, SpilledOutcome};
use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

/// Whether a run saves what it finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DryRun {
    /// Match and report, write nothing.
    Yes,
    No,
}

/// Where the statement comes from.
#[derive(Debug, Clone)]
pub enum StatementInput {
    /// A file given by the user (`--statement FILE`).
    File(std::path::PathBuf),
    /// Bytes fetched from the provider (or the sandbox) by an adapter.
    Downloaded {
        file_name: String,
        bytes: Vec<u8>,
        source: String,
    },
    /// The provider answered that it has no statement for the day because nothing happened
    /// (WeChat `NO_STATEMENT_EXIST`, Alipay `bill_not_exist`, a Stripe day without balance
    /// transactions). The day is reconciled against an empty statement: no lines, and any
    /// order we think paid that day is still 短款.
    NoActivity { source: String },
}

/// The name a no-activity day's (empty) statement is stored under.
pub fn no_activity_file_name(date: BillDate) -> String {
    format!("no-activity-{date}")
}

/// An empty statement in the provider's own format: what a day without activity is
/// reconciled against. Its content hash is that of its name, so re-running the day finds it
/// unchanged.
fn no_activity_statement(provider: Provider, file_name: &str) -> statement::ParsedStatement {
    statement::ParsedStatement {
        format: match provider {
            Provider::Alipay => StatementFormat::AlipayTradeBill,
            Provider::Wechat => StatementFormat::WechatTradeBill,
            Provider::Stripe => StatementFormat::StripeBalanceReport,
            Provider::Manual => StatementFormat::Normalized,
        },
        lines: Vec::new(),
        content_sha256: statement::sha256_hex(file_name.as_bytes()),
        summary: None,
        identity: Default::default(),
    }
}

#[derive(Debug, Clone)]
pub struct ReconcileRequest {
    pub account: String,
    pub date: BillDate,
    pub statement: StatementInput,
    pub dry_run: DryRun,
    pub actor: paydesk_core::Actor,
    /// How long to wait for another run of the same account and day to finish.
    pub lock_wait: Duration,
}

/// What a run found, as the CLI prints it (`--json`) and the UI shows it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RunReport {
    pub run_id: Option<i64>,
    pub dry_run: bool,
    pub account: String,
    pub provider: Provider,
    pub date: String,
    pub statement: StatementInfo,
    /// Count per outcome class, every class listed (zeros included).
    pub counts: BTreeMap<String, u64>,
    pub totals: Totals,
    pub discrepancies: Vec<DiscrepancyOut>,
    /// Timing differences from the previous day that this run settled.
    pub carry_overs_closed: Vec<String>,
    /// Lines that matched on something other than the plain amount by the merchant's own
    /// number: a fee base other than the gross (WeChat 应结订单金额), a presentment currency,
    /// or a fallback identifier. Each says what was compared and by which rule.
    pub matched_notes: Vec<MatchNote>,
    /// Milliseconds spent per step (parse, save_statement, read_mirror, match, save_run).
    pub timings_ms: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StatementInfo {
    pub file: String,
    pub format: String,
    pub sha256: String,
    pub lines: u64,
    pub statement_id: Option<i64>,
    /// The provider said nothing happened that day (no statement exists): the statement is
    /// empty by the provider's word, not by a failed download.
    pub no_activity: bool,
    /// The same file had been imported before: nothing new was stored.
    pub unchanged: bool,
    /// The statement this one replaced (different content for the same account and day).
    pub superseded: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Totals {
    /// Per currency: sums over the statement, minor units.
    pub statement_gross: BTreeMap<String, i64>,
    pub statement_fees: BTreeMap<String, i64>,
    pub statement_net: BTreeMap<String, i64>,
    /// Per currency: sum of |difference| over discrepancies, minor units.
    pub discrepancy_abs: BTreeMap<String, i64>,
    pub matched: u64,
    pub discrepancies: u64,
}

/// What a matched line was compared on (see [`RunReport::matched_notes`]).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MatchNote {
    /// The statement's line number.
    pub line_no: Option<u64>,
    pub order_no: Option<String>,
    pub refund_no: Option<String>,
    pub rule: paydesk_core::MatchRule,
    /// "matched on 订单金额 100.00; fee 0.54 on 应结订单金额 90.00 at 0.60%".
    pub text: String,
    /// The same in Chinese.
    pub text_zh: String,
}

/// Whether a matched line's comparison is worth a note: anything but the gross by the
/// merchant's own number.
fn is_notable(rule: paydesk_core::MatchRule, line: &StatementLine) -> bool {
    use paydesk_core::MatchRule as R;
    !matches!(
        rule,
        R::MerchantOrderNo | R::MerchantRefundNo | R::BalanceMovement
    ) || line.fee_base.is_some_and(|b| b != line.gross)
        || line.presentment.is_some()
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DiscrepancyOut {
    pub key: String,
    pub class: OutcomeClass,
    pub rule: paydesk_core::MatchRule,
    pub order_no: Option<String>,
    pub provider_txn_id: Option<String>,
    pub refund_no: Option<String>,
    pub currency: String,
    pub provider_amount: Option<i64>,
    pub local_amount: Option<i64>,
    /// provider − local; 0 and `comparable: false` when the sides' currencies differ.
    pub difference: i64,
    /// `provider_amount`'s and `local_amount`'s currencies, when known.
    pub provider_currency: Option<String>,
    pub local_currency: Option<String>,
    pub comparable: bool,
    pub explanation: String,
    pub explanation_zh: String,
    pub evidence: Option<String>,
}

impl From<&DiscrepancyDraft> for DiscrepancyOut {
    fn from(d: &DiscrepancyDraft) -> Self {
        DiscrepancyOut {
            key: d.key.clone(),
            class: d.class,
            rule: d.rule,
            order_no: d.order_no.clone(),
            provider_txn_id: d.provider_txn_id.clone(),
            refund_no: d.refund_no.clone(),
            currency: d.currency.code().to_string(),
            provider_amount: d.provider_amount,
            local_amount: d.local_amount,
            difference: d.difference,
            provider_currency: d.provider_currency.map(|c| c.code().to_string()),
            local_currency: d.local_currency.map(|c| c.code().to_string()),
            comparable: d.is_comparable(),
            explanation: d.explanation.clone(),
            explanation_zh: d.explanation_zh.clone(),
            evidence: d
                .evidence
                .as_ref()
                .map(|e| format!("{}:{}", e.file, e.line)),
        }
    }
}

/// The account's parse options: a Stripe account's `order_metadata_key` names the report's
/// order column (`payment_metadata[<key>]`), for files and downloads alike.
/// `limits` are the workspace's `[limits]`.
pub fn parse_options(
    account: &Account,
    limits: &statement::InputLimits,
) -> statement::ParseOptions {
    let mut opts = statement::ParseOptions {
        limits: *limits,
        ..statement::ParseOptions::default()
    };
    if let Some(key) = account
        .credential("order_metadata_key")
        .map(str::trim)
        .filter(|k| !k.is_empty())
    {
        opts.stripe_order_column = format!("payment_metadata[{key}]");
    }
    opts
}

/// Parses a statement for an account, checking the file really is that account's kind of
/// statement and that its lines belong to the day.
pub fn parse_for_account(
    account: &Account,
    limits: &statement::InputLimits,
    date: BillDate,
    file_name: &str,
    bytes: &[u8],
) -> Result<statement::ParsedStatement, ServiceError> {
    let format = format_for_account(account, file_name, bytes)?;
    let ctx = context_for(account, file_name);
    let parsed =
        statement::parse_statement_with(bytes, &format, &ctx, &parse_options(account, limits))
            .map_err(|e| ServiceError::BadInput(e.to_string()))?;
    check_parsed(account, date, file_name, &format, &parsed)?;
    Ok(parsed)
}

/// How much of a statement file is read to recognise it.
const HEAD_BYTES: u64 = 256 * 1024;

/// [`parse_for_account`] for a statement file, streamed, handing each checked line to `each`
/// instead of keeping it (the statement returned has no lines): a plain or gzip statement is
/// parsed as it is read; a ZIP (Alipay) or spreadsheet, which needs random access, is read
/// whole. A file past `limits.max_statement_bytes` is refused before it is read. An error
/// from `each` ends the parse with it.
fn parse_file_each(
    account: &Account,
    limits: &statement::InputLimits,
    date: BillDate,
    path: &std::path::Path,
    file_name: &str,
    each: &mut dyn FnMut(StatementLine) -> Result<(), ServiceError>,
) -> Result<statement::ParsedStatement, ServiceError> {
    use std::io::Read;
    let cannot = |e: std::io::Error| {
        ServiceError::BadInput(format!("cannot read statement {}: {e}", path.display()))
    };
    let mut file = std::fs::File::open(path).map_err(cannot)?;
    check_statement_size(path, file.metadata().map_err(cannot)?.len(), limits)?;
    let mut head = Vec::new();
    (&mut file)
        .take(HEAD_BYTES)
        .read_to_end(&mut head)
        .map_err(cannot)?;
    let random_access =
        head.starts_with(b"PK\x03\x04") || head.starts_with(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1");
    if random_access || (head.len() as u64) < HEAD_BYTES {
        file.read_to_end(&mut head).map_err(cannot)?;
        let mut parsed = parse_for_account(account, limits, date, file_name, &head)?;
        drop(head);
        for line in std::mem::take(&mut parsed.lines) {
            each(line)?;
        }
        return Ok(parsed);
    }
    let format = format_for_account(account, file_name, &head)?;
    let ctx = context_for(account, file_name);
    let stream = std::io::Cursor::new(head).chain(std::io::BufReader::new(file));
    let mut checks = LineChecks::new(account, date, file_name, &format);
    // A line that fails a check is reported after the file's identity is checked (another
    // merchant's file is named as such first), so the parse goes on, handing nothing more.
    let (mut bad_line, mut failed) = (None, None);
    let parsed = statement::parse_statement_read_each(
        stream,
        &format,
        &ctx,
        &parse_options(account, limits),
        |line| {
            if bad_line.is_some() {
                return std::ops::ControlFlow::Continue(());
            }
            if let Err(e) = checks.observe(&line) {
                bad_line = Some(e);
                return std::ops::ControlFlow::Continue(());
            }
            match each(line) {
                Ok(()) => std::ops::ControlFlow::Continue(()),
                Err(e) => {
                    failed = Some(e);
                    std::ops::ControlFlow::Break(())
                }
            }
        },
    )
    .map_err(|e| ServiceError::BadInput(e.to_string()))?;
    if let Some(e) = failed {
        return Err(e);
    }
    identity::check_identity(account, file_name, &parsed)?;
    if let Some(e) = bad_line {
        return Err(e);
    }
    checks.finish()?;
    Ok(parsed)
}

/// A statement file past `limits.max_statement_bytes` is refused before it is read.
fn check_statement_size(
    path: &std::path::Path,
    size: u64,
    limits: &statement::InputLimits,
) -> Result<(), ServiceError> {
    if size > limits.max_statement_bytes {
        return Err(ServiceError::BadInput(format!(
            "{}: the file is larger than {} MiB, the limit `[limits] max_statement_mb` of paydesk.toml; raise the limit if the file is genuine",
            path.display(),
            limits.max_statement_bytes / (1024 * 1024)
        )));
    }
    Ok(())
}

/// The statement's format, from its content (or its first bytes), if it is one `account`
/// may reconcile.
fn format_for_account(
    account: &Account,
    file_name: &str,
    bytes: &[u8],
) -> Result<StatementFormat, ServiceError> {
    let format = statement::detect_format_checked(bytes, file_name)
        .map_err(|e| ServiceError::BadInput(e.to_string()))?
        .ok_or_else(|| {
        ServiceError::BadInput(format!(
            "{file_name}: not a statement Paydesk recognises (expected an Alipay bill zip/CSV, a WeChat Pay trade bill, a Stripe balance report CSV or Paydesk's normalized CSV)"
        ))
    })?;
    let file_provider = match &format {
        StatementFormat::AlipayTradeBill => Some(Provider::Alipay),
        StatementFormat::WechatTradeBill => Some(Provider::Wechat),
        StatementFormat::StripeBalanceReport => Some(Provider::Stripe),
        _ => None,
    };
    if let Some(p) = file_provider {
        if p != account.provider {
            return Err(ServiceError::BadInput(format!(
                "{file_name} is a {p} statement but account {} is a {} account",
                account.name, account.provider
            )));
        }
    }
    Ok(format)
}

fn context_for(account: &Account, file_name: &str) -> ParseContext {
    ParseContext {
        account: account.name.as_str().into(),
        provider: account.provider,
        file_name: file_name.into(),
        currency: account.currency,
        timezone: account.timezone,
    }
}

/// The checks on a parsed statement: whose it is, and that its lines are of the day.
fn check_parsed(
    account: &Account,
    date: BillDate,
    file_name: &str,
    format: &StatementFormat,
    parsed: &statement::ParsedStatement,
) -> Result<(), ServiceError> {
    // Another merchant's statement is named as such first.
    identity::check_identity(account, file_name, parsed)?;
    let mut checks = LineChecks::new(account, date, file_name, format);
    for l in &parsed.lines {
        checks.observe(l)?;
    }
    checks.finish()
}

/// [`check_parsed`] line by line, for a statement that is streamed.
struct LineChecks<'a> {
    account: &'a Account,
    date: BillDate,
    file_name: &'a str,
    /// Lines must be booked within a day of the statement day: [start, end).
    near: (chrono::DateTime<Utc>, chrono::DateTime<Utc>),
    any_provider: bool,
    day: identity::DayCheck,
}

impl<'a> LineChecks<'a> {
    fn new(
        account: &'a Account,
        date: BillDate,
        file_name: &'a str,
        format: &StatementFormat,
    ) -> Self {
        let (start, end) = date.utc_bounds(account.timezone);
        let slack = chrono::Duration::days(1);
        Self {
            account,
            date,
            file_name,
            near: (start - slack, end + slack),
            any_provider: matches!(
                format,
                StatementFormat::Normalized | StatementFormat::Manual(_)
            ),
            day: identity::DayCheck::new(account, date),
        }
    }

    fn observe(&mut self, l: &StatementLine) -> Result<(), ServiceError> {
        // Lines booked more than a day away from the statement's date mean the wrong file or
        // the wrong --date; refuse rather than report every order as 短款.
        if l.provider_time < self.near.0 || l.provider_time >= self.near.1 {
            return Err(ServiceError::BadInput(format!(
                "{} line {}: booked on {} ({}), which is not the statement day {}; wrong file or wrong --date?",
                self.file_name,
                l.source.line,
                BillDate::of(l.provider_time, self.account.timezone),
                self.account.timezone,
                self.date
            )));
        }
        if l.provider != self.account.provider && !self.any_provider {
            return Err(ServiceError::BadInput(format!(
                "{} line {}: a {} line in a {} account's statement",
                self.file_name, l.source.line, l.provider, self.account.provider
            )));
        }
        self.day.observe(l.provider_time);
        Ok(())
    }

    /// The day check, once every line was seen (the identity is checked by the caller).
    fn finish(self) -> Result<(), ServiceError> {
        // Lines near the day pass the check above; a file with none on the day is another
        // day's.
        self.day.finish(self.file_name)
    }
}

/// Runs one reconciliation.
pub async fn reconcile(
    config: &Config,
    db: &AppDb,
    mirror: &OrderMirror,
    req: &ReconcileRequest,
    progress: &dyn Progress,
) -> Result<RunReport, ServiceError> {
    let account = config
        .account(&req.account)
        .map_err(ServiceError::BadInput)?;

    let (file_name, source) = match &req.statement {
        StatementInput::File(path) => {
            progress.update(Stage::Download, 0, None);
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| path.display().to_string());
            (name, "file".to_string())
        }
        StatementInput::Downloaded {
            file_name, source, ..
        } => (file_name.clone(), source.clone()),
        StatementInput::NoActivity { source } => (no_activity_file_name(req.date), source.clone()),
    };
    // The statement is in hand (downloaded and verified, or given as a file).
    progress.update(Stage::Verify, 1, Some(1));
    progress.check_cancelled()?;

    // The day is matched partition by partition from temporary files (see `partition`), so
    // memory does not grow with the day; about 150 bytes of statement make a line.
    let size = match &req.statement {
        StatementInput::File(path) => {
            let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
            // Refused before the day's orders are read, not after.
            check_statement_size(path, size, &config.limits)?;
            size
        }
        StatementInput::Downloaded { bytes, .. } => bytes.len() as u64,
        StatementInput::NoActivity { .. } => 0,
    };
    let parts = partition::partitions_for(size / 150);
    let spill_dir = SpillDir::new()?;

    // The day's orders and refunds do not depend on the statement: they are read from the
    // mirror on another worker while this one parses (the two longest steps side by side).
    let window_read = WindowRead::start(
        config,
        mirror,
        account,
        req.date,
        OrderSpill::create(&spill_dir, parts)?,
    );

    progress.update(Stage::Parse, 0, None);
    let parse_started = std::time::Instant::now();
    let mut spill = LineSpill::create(&spill_dir, parts)?;
    let mut sums = LineSums::default();
    let mut keep = |line: StatementLine| {
        sums.add(&line);
        spill.push(line)
    };
    // A file is streamed (never held whole, nor its lines); a download is parsed in place.
    let parsed = match &req.statement {
        StatementInput::File(path) => parse_file_each(
            account,
            &config.limits,
            req.date,
            path,
            &file_name,
            &mut keep,
        )?,
        StatementInput::Downloaded { bytes, .. } => {
            let mut parsed =
                parse_for_account(account, &config.limits, req.date, &file_name, bytes)?;
            for line in std::mem::take(&mut parsed.lines) {
                keep(line)?;
            }
            parsed
        }
        StatementInput::NoActivity { .. } => no_activity_statement(account.provider, &file_name),
    };
    let line_count = spill.len();
    let (files, key_hashes) = spill.finish()?;
    let day_lines = DayLines {
        spill_dir,
        parts,
        files,
        key_hashes,
        count: line_count,
        sums,
    };
    let parse_ms = parse_started.elapsed().as_millis() as u64;
    tracing::debug!(step = "parse", resident_mb = ?resident_mb(), "reconcile step done");
    progress.update(Stage::Parse, line_count, Some(line_count));
    progress.check_cancelled()?;

    let lock = match req.dry_run {
        DryRun::Yes => None,
        DryRun::No => Some(acquire_lock(db, account, req, progress).await?),
    };
    // While the run lasts its lock's heartbeat tells waiters on other hosts it is alive;
    // stopped (dropped) before the lock is released.
    let heartbeat = lock.as_ref().map(|l| Heartbeat::start(db, l));
    let result = run_locked(
        config,
        db,
        mirror,
        account,
        req,
        &file_name,
        &source,
        parsed,
        day_lines,
        window_read,
        lock.as_ref(),
        progress,
    )
    .await
    .map(|mut report| {
        report.timings_ms.insert("parse".into(), parse_ms);
        report
    });
    drop(heartbeat);
    if let Some(lock) = lock {
        // Release even when the run failed; a failed release only delays the next run until
        // the lock expires, so it must not hide the run's own result.
        if let Err(e) = db.unlock_run(lock).await {
            tracing::warn!("could not release the run lock: {e}");
        }
    }
    result
}

async fn acquire_lock(
    db: &AppDb,
    account: &Account,
    req: &ReconcileRequest,
    progress: &dyn Progress,
) -> Result<RunLock, ServiceError> {
    let holder = format!("{}@pid{}", req.actor.username, std::process::id());
    let deadline = std::time::Instant::now() + req.lock_wait;
    loop {
        match db
            .try_lock_run(
                &account.name,
                req.date,
                &holder,
                Duration::from_secs(15 * 60),
            )
            .await
        {
            Ok(lock) => return Ok(lock),
            // Another run holds the lock, or (SQLite) is writing longer than the busy
            // timeout, which also means it holds the lock: wait for it either way.
            Err(e) if e.is_busy() || matches!(e, paydesk_store::StoreError::RunLocked { .. }) => {
                if std::time::Instant::now() >= deadline {
                    return Err(ServiceError::Busy(format!(
                        "another run of {} for {} is still in progress ({e}); try again when it has finished",
                        account.name, req.date
                    )));
                }
                progress.check_cancelled()?;
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// How often a run refreshes its lock's heartbeat: well within
/// [`paydesk_store::RUN_LOCK_STALE_AFTER`], after which a waiter on another host takes the
/// lock over.
pub const RUN_LOCK_HEARTBEAT_EVERY: Duration = Duration::from_secs(5);

/// The task refreshing a held run lock's heartbeat; stopped when dropped.
struct Heartbeat(tokio::task::JoinHandle<()>);

impl Heartbeat {
    fn start(db: &AppDb, lock: &RunLock) -> Self {
        let db = db.clone();
        let lock = lock.clone();
        Self(tokio::spawn(async move {
            loop {
                tokio::time::sleep(RUN_LOCK_HEARTBEAT_EVERY).await;
                match db.heartbeat_run_lock(&lock).await {
                    Ok(()) => {}
                    Err(e @ paydesk_store::StoreError::LockNotHeld { .. }) => {
                        tracing::warn!("run lock heartbeat stopped: {e}");
                        return;
                    }
                    Err(e) => tracing::warn!("could not refresh the run lock heartbeat: {e}"),
                }
            }
        }))
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[allow(clippy::too_many_arguments)]
/// The statement's lines as parsed: spilled (see `partition`), counted and summed.
struct DayLines {
    spill_dir: SpillDir,
    parts: usize,
    files: Vec<std::path::PathBuf>,
    key_hashes: partition::KeyHashes,
    count: u64,
    sums: LineSums,
}

#[allow(clippy::too_many_arguments)]
async fn run_locked(
    config: &Config,
    db: &AppDb,
    mirror: &OrderMirror,
    account: &Account,
    req: &ReconcileRequest,
    file_name: &str,
    source: &str,
    parsed: statement::ParsedStatement,
    day_lines: DayLines,
    window_read: WindowRead,
    lock: Option<&RunLock>,
    progress: &dyn Progress,
) -> Result<RunReport, ServiceError> {
    let started_at = Utc::now();
    let format_name = format_name(&parsed.format);
    let mut info = StatementInfo {
        file: file_name.to_string(),
        format: format_name.to_string(),
        sha256: parsed.content_sha256.clone(),
        lines: day_lines.count,
        statement_id: None,
        no_activity: matches!(req.statement, StatementInput::NoActivity { .. }),
        unchanged: false,
        superseded: None,
    };

    let mut timings_ms = BTreeMap::new();
    let mut clock = std::time::Instant::now();
    let mut lap = |name: &str, timings: &mut BTreeMap<String, u64>| {
        timings.insert(name.to_string(), clock.elapsed().as_millis() as u64);
        tracing::debug!(step = name, resident_mb = ?resident_mb(), "reconcile step done");
        clock = std::time::Instant::now();
    };
    // The statement is saved with the run, in the run's transaction (below): an import
    // becomes the day's current statement only together with a successful run.
    let new_statement = NewStatement {
        account: account.name.clone(),
        provider: account.provider,
        bill_date: req.date,
        file_name: file_name.to_string(),
        format: format_name.to_string(),
        content_sha256: parsed.content_sha256.clone(),
        source: source.to_string(),
        imported_by: req.actor.username.clone(),
    };
    progress.check_cancelled()?;

    progress.update(Stage::Match, 0, Some(day_lines.count));
    let (carried_orders, carried_refunds) =
        db.open_carry_overs(&account.name, req.date.pred()).await?;
    let settings = account.match_settings(&config.tolerances);
    let window = window_read.finish().await?;
    lap("read_mirror", &mut timings_ms);
    let day = SpilledDay {
        parts: day_lines.parts,
        line_files: day_lines.files,
        order_files: window.order_files,
        lines: day_lines.count,
        key_hashes: day_lines.key_hashes,
    };
    let side = partition::DaySide {
        mirror,
        db,
        scope: &window.scope,
        paydesk_account: crate::context::workspace::refund_scope(config, account),
        window: req.date.utc_bounds(account.timezone),
        slack: settings.timing_window,
        refunds: window.refunds,
        carried_orders,
        carried_refunds,
        // Midnight crossings: what the previous day's statement already settled is never
        // expected again today.
        account: &account.name,
        previous_day: req.date.pred(),
    };
    // Outcome rows are only for saving: a dry run does not write a million of them.
    let persist = lock.is_some();
    let mut found = Findings::new(persist, &day_lines.spill_dir)?;
    let mut matched_lines = 0u64;
    partition::match_spilled(&day, side, &settings, |m| {
        found.add(&m, &settings)?;
        matched_lines += m.input.lines.len() as u64;
        progress.update(Stage::Match, matched_lines, Some(day.lines));
        progress.check_cancelled()
    })
    .await?;
    let outcomes = match found.outcome_writer.take() {
        Some(writer) => writer.finish()?.into_iter().next(),
        None => None,
    };
    let Findings {
        pending,
        notes,
        closes_matched,
        closes_missing,
        class_counts,
        ..
    } = found;

    // Every discrepancy has its own key: a line whose key another line of the file shares
    // gets its ordinal (`#2`, ...), and a key already taken a `#n` suffix, in the order the
    // matcher reports them (lines by time, then orders, then refunds).
    let ordinal_of: Vec<(u32, &StatementLine)> = pending
        .iter()
        .filter_map(|p| p.line.as_ref().map(|(at, l)| (*at, l)))
        .collect();
    let ordinals_started = std::time::Instant::now();
    let ordinals = partition::key_ordinals(&day, &ordinal_of)?;
    tracing::debug!(
        ms = ordinals_started.elapsed().as_millis() as u64,
        "discrepancy keys numbered"
    );
    drop(ordinal_of);
    let mut by_report_order: Vec<usize> = (0..pending.len()).collect();
    by_report_order.sort_by(|&a, &b| pending[a].sort.cmp(&pending[b].sort).then(a.cmp(&b)));
    let mut used_keys: HashSet<String> = HashSet::new();
    let mut final_keys = vec![String::new(); pending.len()];
    let mut drafts = Vec::with_capacity(pending.len());
    let mut pending: Vec<Option<PendingDraft>> = pending.into_iter().map(Some).collect();
    for i in by_report_order {
        let Some(p) = pending[i].take() else { continue };
        let mut d = p.draft;
        if let Some(n) = p.line.as_ref().and_then(|(at, _)| ordinals.get(at)) {
            d.key = paydesk_core::with_ordinal(d.key, *n);
        }
        let base = d.key.clone();
        let mut n = 1;
        while !used_keys.insert(d.key.clone()) {
            n += 1;
            d.key = format!("{base}#{n}");
        }
        final_keys[i] = d.key.clone();
        drafts.push(d);
    }
    drop(pending);
    let by_sort = |mut v: Vec<(OutcomeSort, String)>| {
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v.into_iter().map(|(_, k)| k).collect::<Vec<_>>()
    };
    let closes = CarryOverCloses {
        prev_date: Some(req.date.pred()),
        matched: by_sort(closes_matched),
        still_missing: by_sort(closes_missing),
    };
    let mut notes = notes;
    notes.sort_by(|a, b| a.0.cmp(&b.0));
    let matched_notes: Vec<MatchNote> = notes.into_iter().map(|(_, n)| n).collect();

    let mut totals = day_lines
        .sums
        .totals(&drafts)
        .map_err(ServiceError::BadInput)?;
    // Every class is named in the report, those with no outcome as 0.
    let counts: BTreeMap<String, u64> = OutcomeClass::ALL
        .iter()
        .map(|c| {
            let n = class_counts.get(c).copied().unwrap_or(0);
            (c.as_str().to_string(), n)
        })
        .collect();
    totals.matched = class_counts
        .get(&OutcomeClass::Matched)
        .copied()
        .unwrap_or(0);
    lap("match", &mut timings_ms);

    let now = Utc::now();
    let mut run_id = None;
    if let (Some(lock), Some((outcome_file, outcome_count))) = (lock, outcomes) {
        progress.update(Stage::Save, 0, Some(outcome_count));
        // The drafts move into the save (not copied: a 10M day has 200k of them); the
        // report is made from them after.
        let new_discrepancies: Vec<NewDiscrepancy> = std::mem::take(&mut drafts)
            .into_iter()
            .map(|d| NewDiscrepancy {
                due_at: config.due_at(now, d.amount_at_stake()),
                draft: d,
                account: account.name.clone(),
                provider: account.provider,
                bill_date: req.date,
            })
            .collect();
        let mut lines = SpilledLines {
            lines: day.lines_in_order(SAVE_CHUNK)?,
            total: day.lines,
        };
        let mut outcome_rows = SpilledOutcomes {
            reader: PartReader::open(&outcome_file)?,
            total: outcome_count,
            keys: &final_keys,
        };
        let (saved, record) = db
            .save_statement_and_run_streamed(
                lock,
                &new_statement,
                &mut lines,
                &NewRun {
                    account: account.name.clone(),
                    provider: account.provider,
                    bill_date: req.date,
                    // Replaced by the id of the statement saved in the same transaction.
                    statement_id: 0,
                    statement_sha256: info.sha256.clone(),
                    started_by: req.actor.username.clone(),
                    started_at,
                    finished_at: Utc::now(),
                    counts: class_counts,
                    totals_json: serde_json::to_value(&totals).unwrap_or_default(),
                },
                &mut outcome_rows,
                &new_discrepancies,
                &closes,
            )
            .await?;
        info.statement_id = Some(saved.id);
        info.unchanged = saved.unchanged;
        info.superseded = saved.superseded;
        run_id = Some(record.id);
        drafts = new_discrepancies.into_iter().map(|d| d.draft).collect();
        lap("save_run", &mut timings_ms);
        progress.update(Stage::Save, outcome_count, Some(outcome_count));
    }

    Ok(RunReport {
        run_id,
        dry_run: lock.is_none(),
        account: account.name.clone(),
        provider: account.provider,
        date: req.date.to_string(),
        statement: info,
        counts,
        totals,
        // Each draft is dropped once it is converted: never both whole lists at once.
        discrepancies: drafts
            .into_iter()
            .map(|d| DiscrepancyOut::from(&d))
            .collect(),
        carry_overs_closed: closes.matched.clone(),
        matched_notes,
        timings_ms,
    })
}

/// Lines and outcomes go to the database this many at a time.
const SAVE_CHUNK: usize = 20_000;

/// Where an outcome stands in the matcher's report order: lines by time and place in the
/// file, then unmatched orders by number, then unmatched refunds by number.
type OutcomeSort = (u8, i64, u32, u64, String);

fn outcome_sort(
    line: Option<&StatementLine>,
    order: Option<&Order>,
    refund: Option<&paydesk_core::LocalRefund>,
) -> OutcomeSort {
    match (line, order, refund) {
        (Some(l), _, _) => (
            0,
            l.provider_time.timestamp(),
            l.provider_time.timestamp_subsec_nanos(),
            l.source.line,
            String::new(),
        ),
        (None, Some(o), _) => (1, 0, 0, 0, o.order_no.to_string()),
        (None, None, Some(r)) => (2, 0, 0, 0, r.refund_no.to_string()),
        (None, None, None) => (3, 0, 0, 0, String::new()),
    }
}

/// A discrepancy found in a group, before its key is final (that needs the whole day).
struct PendingDraft {
    sort: OutcomeSort,
    /// Its line's place in the file, and the line.
    line: Option<(u32, StatementLine)>,
    draft: DiscrepancyDraft,
}

/// What the groups' matches add up to.
struct Findings {
    /// Persisting: the outcome rows' file.
    outcome_writer: Option<PartWriter>,
    pending: Vec<PendingDraft>,
    notes: Vec<(OutcomeSort, MatchNote)>,
    closes_matched: Vec<(OutcomeSort, String)>,
    closes_missing: Vec<(OutcomeSort, String)>,
    class_counts: BTreeMap<OutcomeClass, u64>,
    seq: u64,
}

impl Findings {
    fn new(persist: bool, dir: &SpillDir) -> Result<Self, ServiceError> {
        Ok(Self {
            outcome_writer: persist
                .then(|| PartWriter::create(dir, "outcomes", 1))
                .transpose()?,
            pending: Vec::new(),
            notes: Vec::new(),
            closes_matched: Vec::new(),
            closes_missing: Vec::new(),
            class_counts: BTreeMap::new(),
            seq: 0,
        })
    }

    fn add(
        &mut self,
        m: &partition::Matched<'_>,
        settings: &paydesk_core::matcher::MatchSettings,
    ) -> Result<(), ServiceError> {
        let input = m.input;
        for outcome in &m.result.outcomes {
            let line = outcome.line.map(|i| &input.lines[i as usize]);
            let at = outcome
                .line
                .and_then(|i| m.line_at.get(i as usize).copied());
            let order = outcome.order.map(|i| &input.orders[i as usize]);
            let refund = outcome.refund.map(|i| &input.refunds[i as usize]);
            *self.class_counts.entry(outcome.class).or_insert(0) += 1;
            let notable = outcome.class == OutcomeClass::Matched
                && line.is_some_and(|l| is_notable(outcome.rule, l));
            let sort = (outcome.class.is_discrepancy() || outcome.closes_carry_over || notable)
                .then(|| outcome_sort(line, order, refund));
            let draft = match (&sort, outcome.class.is_discrepancy()) {
                (Some(sort), true) => {
                    self.pending.push(PendingDraft {
                        sort: sort.clone(),
                        line: at.zip(line.cloned()),
                        draft: MatchResult::discrepancy(outcome, input, settings),
                    });
                    Some(self.pending.len() as u32 - 1)
                }
                _ => None,
            };
            if let (Some(sort), true) = (&sort, outcome.closes_carry_over) {
                if let Some(key) = paydesk_core::local_key(order, refund) {
                    if matches!(
                        outcome.class,
                        OutcomeClass::OrderOnly | OutcomeClass::RefundOnlyLocal
                    ) {
                        self.closes_missing.push((sort.clone(), key));
                    } else {
                        self.closes_matched.push((sort.clone(), key));
                    }
                }
            }
            let order_no = || {
                order
                    .map(|o| o.order_no.as_str())
                    .or_else(|| refund.map(|r| r.order_no.as_str()))
                    .or_else(|| line.and_then(|l| l.merchant_order_no.as_deref()))
                    .map(str::to_string)
            };
            let refund_no = || {
                refund
                    .map(|r| r.refund_no.as_str())
                    .or_else(|| line.and_then(|l| l.merchant_refund_no.as_deref()))
                    .map(str::to_string)
            };
            if let Some(writer) = &mut self.outcome_writer {
                writer.write(
                    0,
                    &SpilledOutcome {
                        row: OutcomeRow {
                            seq: self.seq,
                            class: outcome.class,
                            rule: outcome.rule,
                            line_no: line.map(|l| l.source.line),
                            provider_txn_id: line.map(|l| l.provider_txn_id.to_string()),
                            order_no: order_no(),
                            refund_no: refund_no(),
                            discrepancy_key: None,
                        },
                        draft,
                    },
                )?;
            }
            self.seq += 1;
            if let (Some(sort), true) = (&sort, notable) {
                if let Some(c) = MatchResult::comparison(outcome, input, settings) {
                    self.notes.push((
                        sort.clone(),
                        MatchNote {
                            line_no: line.map(|l| l.source.line),
                            order_no: order_no(),
                            refund_no: refund_no(),
                            rule: outcome.rule,
                            text: c.describe(),
                            text_zh: c.describe_zh(),
                        },
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The spilled lines in file order, a chunk at a time, for the save.
struct SpilledLines {
    lines: partition::InOrder,
    total: u64,
}

impl paydesk_store::RowSource<StatementLine> for SpilledLines {
    fn total(&self) -> u64 {
        self.total
    }
    fn next_chunk(&mut self) -> Result<std::borrow::Cow<'_, [StatementLine]>, String> {
        self.lines
            .next_chunk()
            .map(std::borrow::Cow::Owned)
            .map_err(|e| e.to_string())
    }
}

/// The spilled outcome rows with their discrepancies' final keys, for the save.
struct SpilledOutcomes<'a> {
    reader: PartReader,
    total: u64,
    keys: &'a [String],
}

impl paydesk_store::RowSource<OutcomeRow> for SpilledOutcomes<'_> {
    fn total(&self) -> u64 {
        self.total
    }
    fn next_chunk(&mut self) -> Result<std::borrow::Cow<'_, [OutcomeRow]>, String> {
        let mut out = Vec::with_capacity(SAVE_CHUNK);
        while out.len() < SAVE_CHUNK {
            let Some(SpilledOutcome { mut row, draft }) = self
                .reader
                .next::<SpilledOutcome>()
                .map_err(|e| e.to_string())?
            else {
                break;
            };
            row.discrepancy_key = draft.and_then(|i| self.keys.get(i as usize).cloned());
            out.push(row);
        }
        Ok(std::borrow::Cow::Owned(out))
    }
}

/// The process's resident memory in MB (Linux), for the step log that says where memory
/// goes (`PAYDESK_LOG=paydesk_service=debug`).
fn resident_mb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024)
}

/// The mirror's orders paid and refunds made in an account's day (with the boundary slack),
/// read on a task of their own: they do not depend on the statement, so they are read while
/// the statement is parsed. Dropped unfinished (the parse failed), the read is cancelled.
struct WindowRead(tokio::task::JoinHandle<Result<DayWindow, ServiceError>>);

/// What [`WindowRead`] reads: the mirror scope of the account, its orders (spilled by
/// partition) and refunds.
struct DayWindow {
    scope: paydesk_store::MirrorScope,
    order_files: Vec<std::path::PathBuf>,
    refunds: Vec<paydesk_core::LocalRefund>,
}

impl WindowRead {
    fn start(
        config: &Config,
        mirror: &OrderMirror,
        account: &Account,
        date: BillDate,
        mut spill: OrderSpill,
    ) -> Self {
        let (config, mirror, account) = (config.clone(), mirror.clone(), account.clone());
        Self(tokio::spawn(async move {
            let scope =
                crate::context::workspace::account_scope(&config, &mirror, &account).await?;
            let window = date.utc_bounds(account.timezone);
            // Boundary slack: orders and refunds of the first minutes of the next day are
            // candidates for this day's lines (the provider booked before midnight, the
            // shop's time is after). The matcher expects only what falls inside the window.
            let slack = account.match_settings(&config.tolerances).timing_window;
            let mut spill_error = None;
            let read = mirror
                .orders_paid_between_each(&scope, window.0, window.1 + slack, |o| {
                    spill.push(&o).map_err(|e| {
                        let reason = e.to_string();
                        spill_error = Some(e);
                        paydesk_store::StoreError::Invalid {
                            what: "the day's orders".into(),
                            reason,
                        }
                    })
                })
                .await;
            if let Some(e) = spill_error {
                return Err(e);
            }
            read?;
            let order_files = spill.finish()?;
            let refunds = mirror
                .refunds_between(&scope, window.0, window.1 + slack)
                .await?;
            Ok(DayWindow {
                scope,
                order_files,
                refunds,
            })
        }))
    }

    async fn finish(mut self) -> Result<DayWindow, ServiceError> {
        match (&mut self.0).await {
            Ok(read) => read,
            // A panic in the read is the run's panic, as if it had been read inline.
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(_) => Err(ServiceError::Cancelled),
        }
    }
}

impl Drop for WindowRead {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The statement's sums per currency (gross, fees, net), added up exactly as lines are
/// parsed (i128: no count of i64 amounts Paydesk can hold overflows it).
#[derive(Default)]
struct LineSums(BTreeMap<Currency, [i128; 3]>);

impl LineSums {
    fn add(&mut self, l: &StatementLine) {
        let s = self.0.entry(l.currency).or_default();
        s[0] += i128::from(l.gross);
        s[1] += i128::from(l.fee_minor());
        s[2] += i128::from(l.net);
    }

    /// The run's totals per currency; a total beyond what Paydesk stores (an `i64` of minor
    /// units) is an error naming the total and the currency, never a wrapped number.
    fn totals(&self, drafts: &[DiscrepancyDraft]) -> Result<Totals, String> {
        // Per currency: gross, fees, net (statement lines), |difference| (discrepancies).
        let mut sums: BTreeMap<Currency, [Option<i128>; 4]> = BTreeMap::new();
        for (c, s) in &self.0 {
            let slot = sums.entry(*c).or_default();
            for i in 0..3 {
                slot[i] = Some(s[i]);
            }
        }
        for d in drafts {
            let slot = &mut sums.entry(d.currency).or_default()[3];
            *slot = Some(slot.unwrap_or(0) + i128::from(d.amount_at_stake()));
        }
        totals_of(sums, drafts.len() as u64)
    }
}

/// Totals from sums per currency (gross, fees, net, |difference|).
fn totals_of(
    sums: BTreeMap<Currency, [Option<i128>; 4]>,
    discrepancies: u64,
) -> Result<Totals, String> {
    let mut t = Totals::default();
    for (c, s) in sums {
        let names = [
            "gross amounts of the statement's lines",
            "fees of the statement's lines",
            "net amounts of the statement's lines",
            "amounts at stake of the run's discrepancies",
        ];
        let maps = [
            &mut t.statement_gross,
            &mut t.statement_fees,
            &mut t.statement_net,
            &mut t.discrepancy_abs,
        ];
        for ((sum, name), map) in s.into_iter().zip(names).zip(maps) {
            let Some(sum) = sum else { continue };
            let v = i64::try_from(sum).map_err(|_| {
                format!(
                    "the {name} in {c} add up to {} {c}, beyond the largest amount Paydesk \
                     stores (±{}); check the statement's amounts",
                    paydesk_core::money::format_scaled_wide(sum, u32::from(c.exponent())),
                    Money::new(i64::MAX, c),
                )
            })?;
            map.insert(c.code().to_string(), v);
        }
    }
    t.discrepancies = discrepancies;
    Ok(t)
}

pub fn format_name(format: &StatementFormat) -> &'static str {
    match format {
        StatementFormat::AlipayTradeBill => "alipay_trade_bill",
        StatementFormat::WechatTradeBill => "wechat_trade_bill",
        StatementFormat::StripeBalanceReport => "stripe_balance_report",
        StatementFormat::Normalized => "normalized",
        StatementFormat::Manual(_) => "manual",
    }
}

/// Reconciles an account for a day from a file, or by downloading the statement from the
/// account's endpoint (the provider, or the built-in sandbox).
pub async fn reconcile_account(
    w: &crate::context::workspace::Workspace,
    account: &str,
    date: BillDate,
    statement_file: Option<std::path::PathBuf>,
    dry_run: DryRun,
    actor: &paydesk_core::Actor,
    progress: &dyn Progress,
) -> Result<RunReport, ServiceError> {
    crate::context::auth::require(
        &w.db,
        actor,
        paydesk_core::Permission::ReconcileRun,
        &format!("{account} {date}"),
    )
    .await?;
    let acct = w.config.account(account).map_err(ServiceError::BadInput)?;
    let statement = match statement_file {
        Some(path) => StatementInput::File(path),
        None => {
            progress.update(Stage::Download, 0, None);
            let downloaded =
                crate::reconcile::download::download_statement(w, acct, date, actor).await?;
            progress.update(Stage::Download, 1, Some(1));
            downloaded
        }
    };
    reconcile(
        &w.config,
        &w.db,
        &w.mirror,
        &ReconcileRequest {
            account: account.to_string(),
            date,
            statement,
            dry_run,
            actor: actor.clone(),
            lock_wait: Duration::from_secs(120),
        },
        progress,
    )
    .await
}

/// Run history, newest first.
pub async fn runs(
    w: &crate::context::workspace::Workspace,
    actor: &paydesk_core::Actor,
    account: Option<&str>,
) -> Result<Vec<paydesk_store::RunRecord>, ServiceError> {
    crate::context::auth::require(
        &w.db,
        actor,
        paydesk_core::Permission::DiscrepancyView,
        "runs",
    )
    .await?;
    Ok(w.db.runs(account, None, 500).await?)
}

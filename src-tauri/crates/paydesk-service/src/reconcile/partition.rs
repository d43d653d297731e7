//! The day matched partition by partition, so that memory does not grow with the day
//! (issues 15 and 16): the statement's lines and the day's orders are spilled to temporary
//! files by order number, and each partition is matched on its own by the unchanged
//! [`match_day`]. Only a few partitions are held at a time (one per worker thread and the one
//! being reported).
//!
//! Why the result is the one `match_day` gives for the whole day at once: a payment line
//! finds its order by order number, and an order number lives in exactly one partition. What
//! crosses partitions is set apart before matching:
//! - payment lines that no order number finds (none given, or one the mirror does not have)
//!   look for their order by transaction id, PaymentIntent id or customer reference, in any
//!   partition. They are matched together in one *stray* group, with every order such an id
//!   names and every line of those orders;
//! - refund lines never look at orders, only at refunds: all of them are matched in one
//!   *refund* group with the day's refunds (a few percent of a day).
//!
//! Those two groups are held whole: a day whose payment lines mostly carry no order number
//! the mirror knows (a Stripe account without order metadata, matched by charge or
//! PaymentIntent id) is matched as before, in memory.
//!
//! Items the previous day's statement settled (midnight crossings) are not expected again;
//! instead of holding every item the previous day settled, the few unmatched ones are looked
//! up after each group's match ([`drop_settled`]).

use super::spill::{order_no_of, LineHead, PartReader, PartWriter, Placed, RawFile, SpillDir};
use crate::ServiceError;
use chrono::{DateTime, Utc};
use paydesk_core::matcher::{line_key, FastMap, FastSet, MatchSettings};
use paydesk_core::{
    match_day, LineKind, LocalRefund, MatchInput, MatchResult, Order, StatementLine,
};
use paydesk_store::{AppDb, MirrorScope, OrderMirror};
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use strum::VariantArray;

/// Lines per partition: a partition's lines and orders decoded take about 6 MB, so that a
/// worker's order-number lookups mostly hit the processor's caches (12,500 matched a 1M
/// day about a fifth faster than 50,000).
const LINES_PER_PARTITION: u64 = 12_500;

/// At most this many partitions unless forced: each has two files open while the day is
/// spilled (lines and orders), which must stay well under the usual limit of 1,024 open
/// files; a longer day has longer partitions.
const MAX_PARTITIONS: u64 = 400;

/// How many partitions for about `lines` statement lines. `PAYDESK_MATCH_PARTITIONS`
/// overrides it (tests use it to split small days).
pub(crate) fn partitions_for(lines: u64) -> usize {
    let forced = std::env::var("PAYDESK_MATCH_PARTITIONS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|n| *n >= 1);
    forced
        .unwrap_or_else(|| default_partitions(lines))
        .clamp(1, 4096)
}

fn default_partitions(lines: u64) -> usize {
    (lines / LINES_PER_PARTITION).min(MAX_PARTITIONS - 1) as usize + 1
}

/// The partition of an order number (FNV-1a: stable across runs and builds).
fn partition_of(order_no: &str, parts: usize) -> usize {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in order_no.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h % parts as u64) as usize
}

fn line_order_no(line: &StatementLine) -> Option<&str> {
    line.merchant_order_no.as_deref().filter(|n| !n.is_empty())
}

/// Spills statement lines as they are parsed: partitions `0..parts` by order number, then
/// one file of refund lines and one of payment lines without an order number.
pub(crate) struct LineSpill {
    writer: PartWriter,
    parts: usize,
    count: u32,
    keys: KeyHashes,
}

/// A hash of every line's discrepancy key ([`line_key`]), in file order: 8 bytes a line,
/// so that numbering the discrepancies' keys (`#2` for the second line of a key) needs no
/// second pass over the spilled lines unless two lines may share a key.
pub(crate) struct KeyHashes {
    hasher: foldhash::fast::FixedState,
    hashes: Vec<u64>,
}

impl KeyHashes {
    fn new() -> Self {
        Self {
            hasher: foldhash::fast::FixedState::with_seed(0x7061_7964_6573_6b31),
            hashes: Vec::new(),
        }
    }

    fn of(&self, kind: LineKind, id: &str) -> u64 {
        use std::hash::BuildHasher;
        self.hasher.hash_one((kind as u8, id))
    }
}

impl LineSpill {
    pub(crate) fn create(dir: &SpillDir, parts: usize) -> Result<Self, ServiceError> {
        Ok(Self {
            writer: PartWriter::create(dir, "lines", parts + 2)?,
            parts,
            count: 0,
            keys: KeyHashes::new(),
        })
    }

    pub(crate) fn push(&mut self, line: StatementLine) -> Result<(), ServiceError> {
        let (kind, id) = line_key(&line);
        let hash = self.keys.of(kind, id);
        self.keys.hashes.push(hash);
        let part = match (line.kind, line_order_no(&line)) {
            (LineKind::Refund, _) => self.parts,
            (_, Some(no)) => partition_of(no, self.parts),
            (LineKind::Payment, None) => self.parts + 1,
            // A fee, payout or adjustment without an order matches nothing: anywhere.
            (_, None) => self.count as usize % self.parts,
        };
        let at = self.count;
        self.count = self.count.checked_add(1).ok_or_else(|| {
            ServiceError::BadInput("the statement has more than 4,294,967,295 lines".into())
        })?;
        self.writer.write(part, &Placed(at, line))
    }

    pub(crate) fn len(&self) -> u64 {
        u64::from(self.count)
    }

    /// The files (partitions, refund lines, lines without an order number) and the lines'
    /// key hashes.
    pub(crate) fn finish(self) -> Result<(Vec<PathBuf>, KeyHashes), ServiceError> {
        let files = self.writer.finish()?.into_iter().map(|f| f.0).collect();
        Ok((files, self.keys))
    }
}

/// Spills the day's orders by order number, as the mirror streams them.
pub(crate) struct OrderSpill {
    writer: PartWriter,
    parts: usize,
}

impl OrderSpill {
    pub(crate) fn create(dir: &SpillDir, parts: usize) -> Result<Self, ServiceError> {
        Ok(Self {
            writer: PartWriter::create(dir, "orders", parts)?,
            parts,
        })
    }

    pub(crate) fn push(&mut self, order: &Order) -> Result<(), ServiceError> {
        self.writer
            .write(partition_of(&order.order_no, self.parts), order)
    }

    pub(crate) fn finish(self) -> Result<Vec<PathBuf>, ServiceError> {
        Ok(self.writer.finish()?.into_iter().map(|f| f.0).collect())
    }
}

/// The spilled day: `parts` partitions of lines and orders, the refund lines, and the
/// payment lines without an order number.
pub(crate) struct SpilledDay {
    pub(crate) parts: usize,
    pub(crate) line_files: Vec<PathBuf>,
    pub(crate) order_files: Vec<PathBuf>,
    pub(crate) lines: u64,
    pub(crate) key_hashes: KeyHashes,
}

impl SpilledDay {
    fn lines_of(&self, file: usize) -> Result<(Vec<u32>, Vec<StatementLine>), ServiceError> {
        read_lines(self.line_files.get(file))
    }

    /// Every line, in file order, in chunks of at most `chunk` (a merge of the files, each
    /// of which is in file order).
    pub(crate) fn lines_in_order(&self, chunk: usize) -> Result<InOrder, ServiceError> {
        let mut readers = Vec::new();
        let mut heads = std::collections::BinaryHeap::new();
        for path in &self.line_files {
            let mut r = PartReader::open(path)?;
            if let Some(Placed(at, line)) = r.next()? {
                heads.push(std::cmp::Reverse(Head(at, readers.len(), line)));
            }
            readers.push(r);
        }
        Ok(InOrder {
            readers,
            heads,
            chunk: chunk.max(1),
        })
    }
}

struct Head(u32, usize, StatementLine);
impl PartialEq for Head {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}
impl Eq for Head {}
impl PartialOrd for Head {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Head {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.cmp(&other.0)
    }
}

/// See [`SpilledDay::lines_in_order`].
pub(crate) struct InOrder {
    readers: Vec<PartReader>,
    heads: std::collections::BinaryHeap<std::cmp::Reverse<Head>>,
    chunk: usize,
}

impl InOrder {
    /// The next chunk of lines (empty at the end).
    pub(crate) fn next_chunk(&mut self) -> Result<Vec<StatementLine>, ServiceError> {
        let mut out = Vec::with_capacity(self.chunk.min(1 << 16));
        while out.len() < self.chunk {
            let Some(std::cmp::Reverse(Head(_, from, line))) = self.heads.pop() else {
                break;
            };
            if let Some(r) = self.readers.get_mut(from) {
                if let Some(Placed(at, next)) = r.next()? {
                    self.heads.push(std::cmp::Reverse(Head(at, from, next)));
                }
            }
            out.push(line);
        }
        Ok(out)
    }
}

/// One matched group: its input, the lines' places in the file, and the result.
pub(crate) struct Matched<'a> {
    pub(crate) input: &'a MatchInput,
    /// `line_at[i]`: the place in the file of `input.lines[i]`.
    pub(crate) line_at: &'a [u32],
    pub(crate) result: &'a MatchResult,
}

/// What the day is matched with besides the spilled lines and orders.
pub(crate) struct DaySide<'a> {
    pub(crate) mirror: &'a OrderMirror,
    pub(crate) db: &'a AppDb,
    pub(crate) scope: &'a MirrorScope,
    pub(crate) paydesk_account: Option<&'a str>,
    pub(crate) window: (DateTime<Utc>, DateTime<Utc>),
    pub(crate) slack: chrono::Duration,
    /// The mirror's refunds made in the window (with the slack).
    pub(crate) refunds: Vec<LocalRefund>,
    pub(crate) carried_orders: HashSet<String>,
    pub(crate) carried_refunds: HashSet<String>,
    /// The account and the previous day, whose statement may have settled items of today.
    pub(crate) account: &'a str,
    pub(crate) previous_day: paydesk_core::BillDate,
}

/// Matches the spilled day group by group, handing each result to `each` while its input is
/// still held.
pub(crate) async fn match_spilled(
    day: &SpilledDay,
    mut side: DaySide<'_>,
    settings: &MatchSettings,
    mut each: impl FnMut(Matched<'_>) -> Result<(), ServiceError>,
) -> Result<(), ServiceError> {
    let parts = day.parts;
    let provider = side.scope.provider;
    let started = std::time::Instant::now();

    // 1. Place every partition's lines: orders outside the window that lines (or yesterday's
    // carry-overs) name by number are fetched; payment lines that no number places look
    // further by their ids (collected in `fallback_ids`).
    let mut extras: Vec<Vec<Order>> = Vec::with_capacity(parts);
    let mut stray_lines: FastSet<u32> = FastSet::default();
    let mut fallback_ids: FastSet<String> = FastSet::default();
    let mut carried_by_part: Vec<Vec<&str>> = vec![Vec::new(); parts];
    for no in side.carried_orders.iter().filter(|n| !n.is_empty()) {
        carried_by_part[partition_of(no, parts)].push(no.as_str());
    }
    // Each partition's files are scanned on the worker threads (the scans are independent
    // and a million order numbers are hashed); the mirror is then asked, partition by
    // partition, for the numbers a scan did not find among the day's orders.
    let scans = scan_partitions(day, &carried_by_part, match_workers(parts))?;
    for scan in scans {
        let mut found: Vec<Order> = Vec::new();
        if !scan.wanted.is_empty() {
            let mut seen: FastSet<String> = FastSet::default();
            for o in side
                .mirror
                .orders_by_numbers(side.scope, &scan.wanted)
                .await?
            {
                // Only the numbers asked for (none of which the partition's orders have).
                let asked = scan
                    .wanted
                    .binary_search_by(|w| w.as_str().cmp(&o.order_no))
                    .is_ok();
                if asked && seen.insert(o.order_no.to_string()) {
                    found.push(o);
                }
            }
        }
        let found_nos: FastSet<&str> = found.iter().map(|o| o.order_no.as_str()).collect();
        for (order_no, Placed(at, line)) in &scan.unplaced {
            let placed = order_no.as_deref().is_some_and(|no| found_nos.contains(no));
            if !placed {
                stray_lines.insert(*at);
                fallback_ids.extend(ids_of(line).map(str::to_string));
            }
        }
        drop(found_nos);
        extras.push(found);
    }
    let (no_number_at, no_number_lines) = day.lines_of(parts + 1)?;
    for line in &no_number_lines {
        fallback_ids.extend(ids_of(line).map(str::to_string));
    }
    // Orders outside the window that those ids name (the mirror's transaction ids).
    let mut by_txn: Vec<Vec<Order>> = vec![Vec::new(); parts];
    if !fallback_ids.is_empty() {
        let mut ids: Vec<String> = fallback_ids.iter().cloned().collect();
        ids.sort_unstable();
        for o in side.mirror.orders_by_txn_ids(side.scope, &ids).await? {
            by_txn[partition_of(&o.order_no, parts)].push(o);
        }
    }

    tracing::debug!(
        ms = started.elapsed().as_millis() as u64,
        "partitions placed"
    );
    drop(carried_by_part);

    // 2. Match every partition on worker threads (decoding and matching are most of the
    // work), setting apart the orders a fallback id names (and their lines) for the stray
    // group. Results are taken in partition order, so a run's output does not depend on
    // which worker was faster.
    let job = Arc::new(PartJob {
        line_files: day.line_files.clone(),
        order_files: day.order_files.clone(),
        fallback_ids,
        stray_lines,
        settings: settings.clone(),
        carried_orders: side.carried_orders.clone(),
        carried_refunds: side.carried_refunds.clone(),
        window: side.window,
    });
    let workers = match_workers(parts);
    let (sender, mut receiver) =
        tokio::sync::mpsc::channel::<(usize, Result<PartDone, ServiceError>)>(1);
    let mut tasks: Vec<Vec<PartTask>> = vec![Vec::new(); workers];
    for (part, (extra, txn)) in extras.into_iter().zip(by_txn).enumerate() {
        tasks[part % workers].push((part, extra, txn));
    }
    for mine in tasks {
        let (job, sender) = (job.clone(), sender.clone());
        std::thread::spawn(move || {
            for (part, extra, txn) in mine {
                if sender
                    .blocking_send((part, job.run(part, extra, txn)))
                    .is_err()
                {
                    return;
                }
            }
        });
    }
    drop(sender);
    let mut stray = (no_number_at, no_number_lines, Vec::<Order>::new());
    let mut waiting: std::collections::BTreeMap<usize, PartDone> = Default::default();
    for part in 0..parts {
        let done = loop {
            if let Some(done) = waiting.remove(&part) {
                break done;
            }
            match receiver.recv().await {
                Some((p, done)) => {
                    waiting.insert(p, done?);
                }
                None => {
                    return Err(ServiceError::Io(format!(
                        "partition {part} of the day was not matched (a matching worker stopped)"
                    )))
                }
            }
        };
        let PartDone {
            input,
            line_at,
            mut result,
            stray_at,
            stray_lines,
            stray_orders,
        } = done;
        stray.0.extend(stray_at);
        stray.1.extend(stray_lines);
        stray.2.extend(stray_orders);
        drop_settled(&side, &input, &mut result).await?;
        each(Matched {
            input: &input,
            line_at: &line_at,
            result: &result,
        })?;
    }

    tracing::debug!(
        ms = started.elapsed().as_millis() as u64,
        "partitions matched"
    );
    // 3. The stray group: lines found by their ids, with every order such an id names.
    let (at, lines, orders) = stray;
    let mut input = job.input();
    input.lines = lines;
    input.orders = orders;
    match_whole(&side, settings, input, &at, &mut each).await?;

    // 4. The refund group: every refund line, and every refund of the day or named by a
    // refund line or carried over (the mirror's, then Paydesk's own).
    let (at, lines) = day.lines_of(parts)?;
    let mut refunds = std::mem::take(&mut side.refunds);
    let mut known: HashSet<String> = refunds.iter().map(|r| r.refund_no.to_string()).collect();
    let mut wanted: Vec<String> = lines
        .iter()
        .filter_map(|l| l.merchant_refund_no.as_ref().map(|n| n.to_string()))
        .chain(side.carried_refunds.iter().cloned())
        .filter(|no| !no.is_empty() && !known.contains(no))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    wanted.sort();
    for r in side.mirror.refunds_by_numbers(side.scope, &wanted).await? {
        if known.insert(r.refund_no.to_string()) {
            refunds.push(r);
        }
    }
    // Refunds Paydesk executed itself (origin Paydesk); the mirror's record of the same
    // refund number wins.
    for r in side
        .db
        .account_refunds_between(
            provider,
            side.paydesk_account,
            side.window.0,
            side.window.1 + side.slack,
        )
        .await?
    {
        if known.insert(r.refund_no.to_string()) {
            refunds.push(r);
        }
    }
    wanted.retain(|no| !known.contains(no));
    for r in side
        .db
        .account_refunds_by_numbers(provider, side.paydesk_account, &wanted)
        .await?
    {
        if known.insert(r.refund_no.to_string()) {
            refunds.push(r);
        }
    }
    let mut input = job.input();
    input.lines = lines;
    input.refunds = refunds;
    match_whole(&side, settings, input, &at, &mut each).await?;
    tracing::debug!(
        ms = started.elapsed().as_millis() as u64,
        "stray and refunds matched"
    );
    Ok(())
}

/// Matches a group held whole (the stray or the refund group) and hands it to `each`.
async fn match_whole(
    side: &DaySide<'_>,
    settings: &MatchSettings,
    input: MatchInput,
    line_at: &[u32],
    each: &mut impl FnMut(Matched<'_>) -> Result<(), ServiceError>,
) -> Result<(), ServiceError> {
    let mut result = match_day(&input, settings);
    drop_settled(side, &input, &mut result).await?;
    each(Matched {
        input: &input,
        line_at,
        result: &result,
    })
}

/// Midnight crossings: an unmatched order or refund that the previous day's statement
/// already settled is not expected again today (what [`match_day`] does with
/// `settled_orders`, asked of the database for the few unmatched items instead of holding
/// every item the previous day settled).
async fn drop_settled(
    side: &DaySide<'_>,
    input: &MatchInput,
    result: &mut MatchResult,
) -> Result<(), ServiceError> {
    let unmatched = |o: &paydesk_core::matcher::Outcome| o.line.is_none() && !o.closes_carry_over;
    let mut orders: Vec<String> = Vec::new();
    let mut refunds: Vec<String> = Vec::new();
    for o in result.outcomes.iter().filter(|o| unmatched(o)) {
        if let Some(i) = o.order {
            orders.push(input.orders[i as usize].order_no.to_string());
        } else if let Some(i) = o.refund {
            refunds.push(input.refunds[i as usize].refund_no.to_string());
        }
    }
    if orders.is_empty() && refunds.is_empty() {
        return Ok(());
    }
    orders.sort_unstable();
    orders.dedup();
    refunds.sort_unstable();
    refunds.dedup();
    let (settled_orders, settled_refunds) = side
        .db
        .settled_among(side.account, side.previous_day, &orders, &refunds)
        .await?;
    result.outcomes.retain(|o| {
        !unmatched(o)
            || match (o.order, o.refund) {
                (Some(i), _) => {
                    !settled_orders.contains(input.orders[i as usize].order_no.as_str())
                }
                (None, Some(i)) => {
                    !settled_refunds.contains(input.refunds[i as usize].refund_no.as_str())
                }
                (None, None) => true,
            }
    });
    Ok(())
}

/// A partition to match: its number, the orders fetched by number for its lines, and those
/// its fallback ids named outside the window.
type PartTask = (usize, Vec<Order>, Vec<Order>);

/// What the partition workers share.
struct PartJob {
    line_files: Vec<PathBuf>,
    order_files: Vec<PathBuf>,
    fallback_ids: FastSet<String>,
    stray_lines: FastSet<u32>,
    settings: MatchSettings,
    carried_orders: HashSet<String>,
    carried_refunds: HashSet<String>,
    window: (DateTime<Utc>, DateTime<Utc>),
}

/// One partition matched, and what it set apart for the stray group.
struct PartDone {
    input: MatchInput,
    line_at: Vec<u32>,
    result: MatchResult,
    stray_at: Vec<u32>,
    stray_lines: Vec<StatementLine>,
    stray_orders: Vec<Order>,
}

impl PartJob {
    /// A match input with the day's carry-overs (settled items are dropped afterwards, see
    /// [`drop_settled`]).
    fn input(&self) -> MatchInput {
        MatchInput {
            carried_orders: self.carried_orders.clone(),
            carried_refunds: self.carried_refunds.clone(),
            window: Some(self.window),
            ..Default::default()
        }
    }

    fn run(
        &self,
        part: usize,
        extra: Vec<Order>,
        by_txn: Vec<Order>,
    ) -> Result<PartDone, ServiceError> {
        let (at, lines) = read_lines(self.line_files.get(part))?;
        let mut orders: Vec<Order> = match self.order_files.get(part) {
            Some(path) => PartReader::read_all(path)?,
            None => Vec::new(),
        };
        orders.extend(extra);
        let named = |o: &Order| {
            o.provider_txn_id
                .as_deref()
                .into_iter()
                .chain(o.customer_ref.as_deref())
                .any(|id| self.fallback_ids.contains(id))
        };
        let moved: FastSet<String> = orders
            .iter()
            .filter(|o| named(o))
            .map(|o| o.order_no.to_string())
            .collect();
        let mut stray_orders = Vec::new();
        if !by_txn.is_empty() {
            let mut here: FastSet<String> = orders.iter().map(|o| o.order_no.to_string()).collect();
            for o in by_txn {
                if here.insert(o.order_no.to_string()) {
                    stray_orders.push(o);
                }
            }
        }
        let mut input = self.input();
        if moved.is_empty() {
            input.orders = orders;
        } else {
            let (stay, go): (Vec<Order>, Vec<Order>) = orders
                .into_iter()
                .partition(|o| !moved.contains(o.order_no.as_str()));
            input.orders = stay;
            stray_orders.extend(go);
        }
        let (mut line_at, mut stray_at, mut stray_lines) =
            (Vec::with_capacity(at.len()), Vec::new(), Vec::new());
        input.lines.reserve(at.len());
        for (line, at) in lines.into_iter().zip(at) {
            let leaves = self.stray_lines.contains(&at)
                || line_order_no(&line).is_some_and(|no| moved.contains(no));
            if leaves {
                stray_at.push(at);
                stray_lines.push(line);
            } else {
                line_at.push(at);
                input.lines.push(line);
            }
        }
        let result = match_day(&input, &self.settings);
        Ok(PartDone {
            input,
            line_at,
            result,
            stray_at,
            stray_lines,
            stray_orders,
        })
    }
}

fn read_lines(path: Option<&PathBuf>) -> Result<(Vec<u32>, Vec<StatementLine>), ServiceError> {
    let Some(path) = path else {
        return Ok(Default::default());
    };
    Ok(PartReader::read_all::<Placed>(path)?
        .into_iter()
        .map(|Placed(at, l)| (at, l))
        .unzip())
}

/// The ids a payment line without a placed order number looks for its order by.
/// Worker threads for `parts` partitions: one a core, at most 4.
fn match_workers(parts: usize) -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 4)
        .min(parts)
        .max(1)
}

/// What a partition's files say before any matching: the order numbers its lines (or
/// yesterday's carry-overs) name that are not among its orders, and its payment lines that
/// those orders do not place (no number, or one the day's orders lack), decoded, with their
/// number.
struct PartScan {
    wanted: Vec<String>,
    unplaced: Vec<(Option<String>, Placed)>,
}

/// [`PartScan`] of every partition, in partition order, on `workers` threads.
fn scan_partitions(
    day: &SpilledDay,
    carried_by_part: &[Vec<&str>],
    workers: usize,
) -> Result<Vec<PartScan>, ServiceError> {
    let parts = carried_by_part.len();
    let scan = |part: usize| -> Result<PartScan, ServiceError> {
        // Only order numbers are needed here: read in place, not decoded.
        let (Some(line_path), Some(order_path)) =
            (day.line_files.get(part), day.order_files.get(part))
        else {
            return Err(ServiceError::Io(format!(
                "partition {part} of the day has no files"
            )));
        };
        let line_file = RawFile::read(line_path)?;
        let order_file = RawFile::read(order_path)?;
        let mut loaded: FastSet<&str> = FastSet::default();
        for record in order_file.records() {
            loaded.insert(order_no_of(record?).ok_or_else(|| order_file.damaged())?);
        }
        let mut wanted: Vec<String> = Vec::new();
        let mut unplaced = Vec::new();
        for record in line_file.records() {
            let record = record?;
            let head = LineHead::of(record).ok_or_else(|| line_file.damaged())?;
            let number = head.merchant_order_no.filter(|n| !n.is_empty());
            let known = number.is_some_and(|no| loaded.contains(no));
            if let (Some(no), false) = (number, known) {
                wanted.push(no.to_string());
            }
            if head.kind == LineKind::Payment && !known {
                let line = LineHead::decode(record).ok_or_else(|| line_file.damaged())?;
                unplaced.push((number.map(str::to_string), line));
            }
        }
        let carried = carried_by_part.get(part).map(Vec::as_slice).unwrap_or(&[]);
        wanted.extend(
            carried
                .iter()
                .filter(|no| !loaded.contains(**no))
                .map(|no| no.to_string()),
        );
        wanted.sort_unstable();
        wanted.dedup();
        Ok(PartScan { wanted, unplaced })
    };
    let workers = workers.clamp(1, parts.max(1));
    let mut scans: Vec<Option<Result<PartScan, ServiceError>>> = Vec::new();
    scans.resize_with(parts, || None);
    std::thread::scope(|threads| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                let scan = &scan;
                threads.spawn(move || {
                    (w..parts)
                        .step_by(workers)
                        .map(|part| (part, scan(part)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for handle in handles {
            let done = handle.join().map_err(|_| {
                ServiceError::Io("a worker scanning the day's partitions stopped".into())
            })?;
            for (part, result) in done {
                scans[part] = Some(result);
            }
        }
        Ok::<(), ServiceError>(())
    })?;
    scans
        .into_iter()
        .enumerate()
        .map(|(part, scan)| {
            scan.unwrap_or_else(|| {
                Err(ServiceError::Io(format!(
                    "partition {part} of the day was not scanned"
                )))
            })
        })
        .collect()
}

fn ids_of(line: &StatementLine) -> impl Iterator<Item = &str> {
    std::iter::once(line.provider_txn_id.as_str())
        .chain(line.payment_intent_id.as_deref())
        .filter(|id| !id.is_empty())
}

/// For the lines at `wanted` (their places in the file and their lines), each one's place
/// (1-based, in file order) among all the day's lines with the same key (see
/// [`paydesk_core::matcher::line_key_ordinals_of`]).
pub(crate) fn key_ordinals(
    day: &SpilledDay,
    wanted: &[(u32, &StatementLine)],
) -> Result<FastMap<u32, u32>, ServiceError> {
    let mut out = FastMap::default();
    if wanted.is_empty() {
        return Ok(out);
    }
    // How many lines have each wanted key's hash: a key no other line's hash matches is
    // its line's alone (ordinal 1). Only keys that may be shared are counted exactly, from
    // the spilled lines.
    let keys = &day.key_hashes;
    let mut counts: FastMap<u64, u32> = FastMap::default();
    for (_, l) in wanted {
        let (kind, id) = line_key(l);
        counts.insert(keys.of(kind, id), 0);
    }
    for h in &keys.hashes {
        if let Some(n) = counts.get_mut(h) {
            *n += 1;
        }
    }
    // id → (kind, places of the lines with that key)
    let mut places: FastMap<String, Vec<(LineKind, u32)>> = FastMap::default();
    for (at, l) in wanted {
        let (kind, id) = line_key(l);
        if counts.get(&keys.of(kind, id)).is_some_and(|n| *n > 1) {
            places.entry(id.to_string()).or_default();
        } else {
            out.insert(*at, 1);
        }
    }
    if places.is_empty() {
        return Ok(out);
    }
    for path in &day.line_files {
        let file = RawFile::read(path)?;
        for record in file.records() {
            let h = LineHead::of(record?).ok_or_else(|| file.damaged())?;
            let id = match h.kind {
                LineKind::Refund => h
                    .merchant_refund_no
                    .or(h.provider_refund_id)
                    .unwrap_or(h.provider_txn_id),
                _ => h.provider_txn_id,
            };
            if let Some(v) = places.get_mut(id) {
                v.push((h.kind, h.at));
            }
        }
    }
    // Sorted, each line's ordinal is a binary search (a key many lines share stays cheap).
    let kind_no = |k: LineKind| LineKind::VARIANTS.iter().position(|v| *v == k);
    for v in places.values_mut() {
        v.sort_unstable_by_key(|(k, at)| (kind_no(*k), *at));
    }
    for (at, l) in wanted {
        let (kind, id) = line_key(l);
        let Some(v) = places.get(id) else {
            continue; // numbered 1 above
        };
        let key = (kind_no(kind), *at);
        let upto = v.partition_point(|(k, a)| (kind_no(*k), *a) <= key);
        let before = v.partition_point(|(k, _)| kind_no(*k) < key.0);
        let n = upto - before;
        out.insert(*at, n.max(1) as u32);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_grow_with_the_day_up_to_the_open_file_budget() {
        assert_eq!(default_partitions(0), 1);
        assert_eq!(default_partitions(12_499), 1);
        assert_eq!(default_partitions(1_016_382), 82);
        assert_eq!(default_partitions(4_987_500), 400);
        assert_eq!(default_partitions(10_000_000), 400);
        assert_eq!(default_partitions(u64::MAX), 400);
    }

    #[test]
    fn an_order_number_has_one_partition() {
        for parts in [1, 2, 7, 64] {
            for no in ["WX1", "WX2", "订单-9", ""] {
                let p = partition_of(no, parts);
                assert!(p < parts);
                assert_eq!(p, partition_of(no, parts));
            }
        }
        // Spread: 1,000 numbers over 8 partitions, none empty or holding half.
        let mut counts = [0; 8];
        for i in 0..1000 {
            counts[partition_of(&format!("WX2026112200{i:06}"), 8)] += 1;
        }
        assert!(counts.iter().all(|&c| c > 60 && c < 200), "{counts:?}");
    }
}

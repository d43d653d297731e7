//! The day matched partition by partition, so that memory does not grow with the day
//! (issues 15 and 16): the statement's lines and the day's orders are spilled to temporary
//! files by order number, and each partition is matched on its own by the unchanged
//! [`match_day`]. Only one partition's lines and orders are held at a time.
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

use super::spill::{PartReader, PartWriter, Placed, SpillDir};
use crate::ServiceError;
use chrono::{DateTime, Utc};
use paydesk_core::matcher::{FastMap, FastSet, MatchSettings};
use paydesk_core::{
    match_day, LineKind, LocalRefund, MatchInput, MatchResult, Order, StatementLine,
};
use paydesk_store::{AppDb, MirrorScope, OrderMirror};
use std::collections::HashSet;
use std::path::PathBuf;

/// Lines per partition: a partition's lines and orders decoded take about 50 MB.
const LINES_PER_PARTITION: u64 = 100_000;

/// How many partitions for about `lines` statement lines. `PAYDESK_MATCH_PARTITIONS`
/// overrides it (tests use it to split small days).
pub(crate) fn partitions_for(lines: u64) -> usize {
    let forced = std::env::var("PAYDESK_MATCH_PARTITIONS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|n| *n >= 1);
    forced
        .unwrap_or((lines / LINES_PER_PARTITION) as usize + 1)
        .clamp(1, 4096)
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

fn order_no_of(line: &StatementLine) -> Option<&str> {
    line.merchant_order_no.as_deref().filter(|n| !n.is_empty())
}

/// Spills statement lines as they are parsed: partitions `0..parts` by order number, then
/// one file of refund lines and one of payment lines without an order number.
pub(crate) struct LineSpill {
    writer: PartWriter,
    parts: usize,
    count: u32,
}

impl LineSpill {
    pub(crate) fn create(dir: &SpillDir, parts: usize) -> Result<Self, ServiceError> {
        Ok(Self {
            writer: PartWriter::create(dir, "lines", parts + 2)?,
            parts,
            count: 0,
        })
    }

    pub(crate) fn push(&mut self, line: StatementLine) -> Result<(), ServiceError> {
        let part = match (line.kind, order_no_of(&line)) {
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

    pub(crate) fn finish(self) -> Result<Vec<PathBuf>, ServiceError> {
        Ok(self.writer.finish()?.into_iter().map(|f| f.0).collect())
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
}

impl SpilledDay {
    fn lines_of(&self, file: usize) -> Result<(Vec<u32>, Vec<StatementLine>), ServiceError> {
        let Some(path) = self.line_files.get(file) else {
            return Ok(Default::default());
        };
        Ok(PartReader::read_all::<Placed>(path)?
            .into_iter()
            .map(|Placed(at, l)| (at, l))
            .unzip())
    }

    fn orders_of(&self, part: usize) -> Result<Vec<Order>, ServiceError> {
        match self.order_files.get(part) {
            Some(path) => PartReader::read_all(path),
            None => Ok(Vec::new()),
        }
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
    pub(crate) settled_orders: HashSet<String>,
    pub(crate) settled_refunds: HashSet<String>,
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
    for (part, carried) in carried_by_part.iter().enumerate() {
        let (at, lines) = day.lines_of(part)?;
        let orders = day.orders_of(part)?;
        let loaded: FastSet<&str> = orders.iter().map(|o| o.order_no.as_str()).collect();
        let mut wanted: Vec<String> = lines
            .iter()
            .filter_map(order_no_of)
            .chain(carried.iter().copied())
            .filter(|no| !loaded.contains(no))
            .map(str::to_string)
            .collect();
        wanted.sort_unstable();
        wanted.dedup();
        let mut found: Vec<Order> = Vec::new();
        if !wanted.is_empty() {
            let mut seen: FastSet<String> = FastSet::default();
            for o in side.mirror.orders_by_numbers(side.scope, &wanted).await? {
                if !loaded.contains(o.order_no.as_str()) && seen.insert(o.order_no.to_string()) {
                    found.push(o);
                }
            }
        }
        let found_nos: FastSet<&str> = found.iter().map(|o| o.order_no.as_str()).collect();
        for (line, at) in lines.iter().zip(&at) {
            let placed =
                order_no_of(line).is_some_and(|no| loaded.contains(no) || found_nos.contains(no));
            if line.kind == LineKind::Payment && !placed {
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

    let take_sets = |side: &mut DaySide<'_>| MatchInput {
        carried_orders: std::mem::take(&mut side.carried_orders),
        carried_refunds: std::mem::take(&mut side.carried_refunds),
        settled_orders: std::mem::take(&mut side.settled_orders),
        settled_refunds: std::mem::take(&mut side.settled_refunds),
        window: Some(side.window),
        ..Default::default()
    };
    let give_back = |side: &mut DaySide<'_>, input: MatchInput| {
        side.carried_orders = input.carried_orders;
        side.carried_refunds = input.carried_refunds;
        side.settled_orders = input.settled_orders;
        side.settled_refunds = input.settled_refunds;
    };

    // 2. Match every partition, setting apart the orders a fallback id names (and their
    // lines) for the stray group.
    let mut stray = (no_number_at, no_number_lines, Vec::<Order>::new());
    let mut stray_order_nos: FastSet<String> = FastSet::default();
    for part in 0..parts {
        let (at, lines) = day.lines_of(part)?;
        let mut orders = day.orders_of(part)?;
        orders.append(&mut extras[part]);
        let named = |o: &Order| {
            o.provider_txn_id
                .as_deref()
                .into_iter()
                .chain(o.customer_ref.as_deref())
                .any(|id| fallback_ids.contains(id))
        };
        let moved: FastSet<String> = orders
            .iter()
            .filter(|o| named(o))
            .map(|o| o.order_no.to_string())
            .collect();
        let here: FastSet<String> = orders.iter().map(|o| o.order_no.to_string()).collect();
        for o in std::mem::take(&mut by_txn[part]) {
            if !here.contains(o.order_no.as_str()) && stray_order_nos.insert(o.order_no.to_string())
            {
                stray.2.push(o);
            }
        }
        drop(here);
        let (stay, go): (Vec<Order>, Vec<Order>) = orders
            .into_iter()
            .partition(|o| !moved.contains(o.order_no.as_str()));
        for o in go {
            stray_order_nos.insert(o.order_no.to_string());
            stray.2.push(o);
        }
        let mut input = take_sets(&mut side);
        input.orders = stay;
        let mut line_at = Vec::with_capacity(at.len());
        for (line, at) in lines.into_iter().zip(at) {
            let leaves = stray_lines.contains(&at)
                || order_no_of(&line).is_some_and(|no| moved.contains(no));
            if leaves {
                stray.0.push(at);
                stray.1.push(line);
            } else {
                line_at.push(at);
                input.lines.push(line);
            }
        }
        let result = match_day(&input, settings);
        each(Matched {
            input: &input,
            line_at: &line_at,
            result: &result,
        })?;
        give_back(&mut side, input);
    }

    // 3. The stray group: lines found by their ids, with every order such an id names.
    let (at, lines, orders) = stray;
    let mut input = take_sets(&mut side);
    input.lines = lines;
    input.orders = orders;
    let result = match_day(&input, settings);
    each(Matched {
        input: &input,
        line_at: &at,
        result: &result,
    })?;
    give_back(&mut side, input);

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
    let mut input = take_sets(&mut side);
    input.lines = lines;
    input.refunds = refunds;
    let result = match_day(&input, settings);
    each(Matched {
        input: &input,
        line_at: &at,
        result: &result,
    })?;
    Ok(())
}

/// The ids a payment line without a placed order number looks for its order by.
fn ids_of(line: &StatementLine) -> impl Iterator<Item = &str> {
    std::iter::once(line.provider_txn_id.as_str())
        .chain(line.payment_intent_id.as_deref())
        .filter(|id| !id.is_empty())
}

/// The key a discrepancy of a line is named by ([`paydesk_core::discrepancy_key`]), without
/// its formatting: lines that share it are numbered in file order.
fn line_key(l: &StatementLine) -> (LineKind, &str) {
    let id = match l.kind {
        LineKind::Refund => l
            .merchant_refund_no
            .as_deref()
            .or(l.provider_refund_id.as_deref())
            .unwrap_or(&l.provider_txn_id),
        _ => &l.provider_txn_id,
    };
    (l.kind, id)
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
    // id → (kind, places of the lines with that key)
    let mut places: FastMap<String, Vec<(LineKind, u32)>> = FastMap::default();
    for (_, l) in wanted {
        places.entry(line_key(l).1.to_string()).or_default();
    }
    for file in 0..day.line_files.len() {
        let mut r = PartReader::open(&day.line_files[file])?;
        while let Some(Placed(at, l)) = r.next()? {
            let (kind, id) = line_key(&l);
            if let Some(v) = places.get_mut(id) {
                v.push((kind, at));
            }
        }
    }
    for (at, l) in wanted {
        let (kind, id) = line_key(l);
        let n = places.get(id).map_or(0, |v| {
            v.iter().filter(|(k, a)| *k == kind && a <= at).count()
        });
        out.insert(*at, n.max(1) as u32);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

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

//! Reading one block of the review table (issue 15) without walking the rows before it.
//!
//! - By cursor (scrolling): the block after (or before) a row the table already holds is read
//!   by keyset from that row's (sort key, id).
//! - By position near either end: the (key, id) of the block's first row is found by walking
//!   only the sort's covering index (migration 0008) from the nearer end, then read by keyset.
//! - By position deep inside (the scrollbar dragged to the middle): from the nearest
//!   *position anchor*, the (key, id) of every [`ANCHOR_EVERY`]-th row of the (filter, sort
//!   key), found by one index walk on first need and cached until the discrepancies change
//!   (the counter of migration 0010). A jump then walks fewer than [`ANCHOR_EVERY`] entries.
//!
//! Every path returns the same rows in the same order as `ORDER BY key, id LIMIT .. OFFSET ..`
//! (tests/review_paging.rs).

use crate::codec::{bind_params, i64_of, Param};
use crate::db::{AppDb, Backend};
use crate::error::{DbContext, Result, StoreError};
use crate::review::{
    filter_sql, record_from_row, DiscrepancySort, FilterSql, SortPlan, RECORD_COLS,
};
use paydesk_core::{DiscrepancyFilter, DiscrepancyRecord};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// One anchor every this many rows. A deep jump walks at most half of it in the index (a few
/// milliseconds); building the anchors walks the whole list once either way.
pub const ANCHOR_EVERY: u64 = 5_000;

/// At most this many (filter, sort key) anchor sets are kept.
const ANCHOR_SETS: usize = 32;

/// A row's value of the list's sort key: TEXT (date, class) or BIGINT (amount, state rank,
/// due time in unix ms).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum SortKey {
    Int(i64),
    Text(String),
}

/// Where a row stands in a sorted list: its sort key and id (ties are broken by id).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PageCursor {
    pub key: SortKey,
    pub id: i64,
}

/// Which block of a list to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageAt {
    /// The rows from this position (0: the first row).
    Offset(u64),
    /// The rows right after this one (the next block when scrolling down).
    After(PageCursor),
    /// The rows right before this one (the previous block when scrolling up).
    Before(PageCursor),
}

/// A block of a list, with the cursors of its first and last rows (for the blocks before and
/// after it).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DiscrepancyBlock {
    pub rows: Vec<DiscrepancyRecord>,
    pub first: Option<PageCursor>,
    pub last: Option<PageCursor>,
}

impl DiscrepancyBlock {
    fn of(rows: Vec<(PageCursor, DiscrepancyRecord)>) -> Self {
        let first = rows.first().map(|(c, _)| c.clone());
        let last = rows.last().map(|(c, _)| c.clone());
        DiscrepancyBlock {
            rows: rows.into_iter().map(|(_, r)| r).collect(),
            first,
            last,
        }
    }
}

/// The (key, id) of every [`ANCHOR_EVERY`]-th row of a (filter, sort key), in ascending
/// (key, id) order: `points[i]` is the row at ascending position `i * ANCHOR_EVERY`.
#[derive(Debug)]
struct Anchors {
    /// `discrepancy_changes.version` they were built at.
    version: i64,
    total: u64,
    points: Vec<PageCursor>,
}

type AnchorSlot = Arc<tokio::sync::Mutex<Option<Arc<Anchors>>>>;

/// The anchor sets of one app database, shared by its clones. One lock per (filter, sort
/// key): requests arriving together for the same view wait for one build.
#[derive(Debug)]
pub(crate) struct AnchorCache {
    /// Rows between anchors; a block at most this far from either end is found by walking
    /// from that end instead.
    every: u64,
    slots: Mutex<HashMap<String, AnchorSlot>>,
    /// One building ahead at a time (AppDb::prepare_review_jumps): quick changes of filter
    /// do not start a walk each.
    ahead: tokio::sync::Semaphore,
}

impl Default for AnchorCache {
    fn default() -> Self {
        AnchorCache {
            every: ANCHOR_EVERY,
            slots: Mutex::default(),
            ahead: tokio::sync::Semaphore::new(1),
        }
    }
}

impl AnchorCache {
    fn slot(&self, key: String) -> AnchorSlot {
        // A poisoned lock only means another request panicked mid-insert: the map is intact.
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        if slots.len() >= ANCHOR_SETS && !slots.contains_key(&key) {
            // Forget the sets nobody is using right now.
            slots.retain(|_, s| Arc::strong_count(s) > 1);
        }
        slots.entry(key).or_default().clone()
    }
}

/// What walking `skip` rows from a cursor found.
enum Seek {
    Found(PageCursor),
    /// The list ends first: it has this many rows from the cursor on (cursor included).
    Short(u64),
}

fn cursor_of(row: &AnyRow, plan: &SortPlan) -> Result<PageCursor> {
    let key = if plan.text_key {
        SortKey::Text(row.try_get("k").ctx("list", "discrepancies")?)
    } else {
        SortKey::Int(row.try_get("k").ctx("list", "discrepancies")?)
    };
    Ok(PageCursor {
        key,
        id: row.try_get("id").ctx("list", "discrepancies")?,
    })
}

fn key_param(key: &SortKey) -> Param {
    match key {
        SortKey::Int(v) => Param::I64(*v),
        SortKey::Text(s) => Param::Text(s.clone()),
    }
}

/// `where_` (possibly empty) with `cond` added.
fn and(where_: &str, cond: &str) -> String {
    if where_.is_empty() {
        format!("WHERE {cond}")
    } else {
        format!("{where_} AND {cond}")
    }
}

/// Comparisons keeping the rows at or after a value (`ge`) and strictly after it (`gt`) in a
/// direction.
fn ops(desc: bool) -> (&'static str, &'static str) {
    if desc {
        ("<=", "<")
    } else {
        (">=", ">")
    }
}

fn dir(desc: bool) -> &'static str {
    if desc {
        "DESC"
    } else {
        "ASC"
    }
}

impl AppDb {
    /// This database with review-table anchors every `every` rows instead of
    /// [`ANCHOR_EVERY`] (tests exercise them on a few thousand rows).
    pub fn with_review_anchors(mut self, every: u64) -> AppDb {
        self.anchor_cache = Arc::new(AnchorCache {
            every: every.max(1),
            ..AnchorCache::default()
        });
        self
    }

    /// A filtered, sorted page of discrepancies: the `limit` rows from position `offset`.
    /// Same rows, same order as `ORDER BY key, id LIMIT .. OFFSET ..`.
    pub async fn list_discrepancies(
        &self,
        f: &DiscrepancyFilter,
        sort: DiscrepancySort,
        limit: u32,
        offset: u64,
    ) -> Result<Vec<DiscrepancyRecord>> {
        Ok(self
            .list_discrepancy_block(f, sort, limit, &PageAt::Offset(offset))
            .await?
            .rows)
    }

    /// A block of a filtered, sorted list: at a position, or right after or before a row
    /// (a cursor from an earlier block of the same filter and sort). See the module docs.
    pub async fn list_discrepancy_block(
        &self,
        f: &DiscrepancyFilter,
        sort: DiscrepancySort,
        limit: u32,
        at: &PageAt,
    ) -> Result<DiscrepancyBlock> {
        let fs = filter_sql(f, self.backend, Some(sort));
        let plan = sort.plan();
        let take = u64::from(limit);
        let rows = match at {
            PageAt::Offset(offset) => self.block_at(f, &fs, &plan, take, *offset).await?,
            PageAt::After(c) => {
                check_cursor(c, &plan, sort)?;
                self.read_from(&fs, &plan, c, false, plan.desc, take)
                    .await?
            }
            PageAt::Before(c) => {
                check_cursor(c, &plan, sort)?;
                let mut rows = self
                    .read_from(&fs, &plan, c, false, !plan.desc, take)
                    .await?;
                rows.reverse();
                rows
            }
        };
        Ok(DiscrepancyBlock::of(rows))
    }

    /// Builds the position anchors of a view ahead of its first deep jump, if its jumps
    /// would use them (a list of `total` rows, more than two anchor spacings, not narrowed
    /// by another index) and nothing else is being built ahead. Returns whether it did (or
    /// found them current).
    pub async fn prepare_review_jumps(
        &self,
        f: &DiscrepancyFilter,
        sort: DiscrepancySort,
        total: u64,
    ) -> Result<bool> {
        let fs = filter_sql(f, self.backend, Some(sort));
        if fs.narrow || total <= 2 * self.anchor_cache.every {
            return Ok(false);
        }
        let Ok(_one) = self.anchor_cache.ahead.try_acquire() else {
            return Ok(false);
        };
        self.anchors(&fs, &sort.plan()).await?;
        Ok(true)
    }

    /// The block at a position: see the module docs for the three ways.
    async fn block_at(
        &self,
        f: &DiscrepancyFilter,
        fs: &FilterSql,
        plan: &SortPlan,
        limit: u64,
        offset: u64,
    ) -> Result<Vec<(PageCursor, DiscrepancyRecord)>> {
        if offset == 0 || fs.narrow {
            return self.list_by_offset(fs, plan, limit, offset).await;
        }
        // The total is cheap only for a filter discrepancy_counts answers; the anchors know
        // it for the others.
        let total = if fs.countable {
            Some(self.count_discrepancies(f).await?)
        } else {
            None
        };
        // (from the end?, rows to walk there, rows to read) when the block is near an end.
        let near = match total {
            Some(total) if offset >= total => return Ok(Vec::new()),
            Some(total) => {
                let end = offset.saturating_add(limit).min(total);
                let (take, after) = (end - offset, total - end);
                if after < offset && after <= self.anchor_cache.every {
                    Some((true, after, take))
                } else if offset <= self.anchor_cache.every {
                    Some((false, offset, take))
                } else {
                    None
                }
            }
            None => (offset <= self.anchor_cache.every).then_some((false, offset, limit)),
        };
        if let Some((from_end, skip, take)) = near {
            // Walk from the nearer end to the block's first (or, from the end, last) row.
            let desc = plan.desc != from_end;
            let Some(start) = self.seek_by_offset(fs, plan, desc, skip).await? else {
                // Fewer rows than the total said (changed meanwhile): as asked, by offset.
                return self.list_by_offset(fs, plan, limit, offset).await;
            };
            let mut rows = self.read_from(fs, plan, &start, true, desc, take).await?;
            if from_end {
                rows.reverse();
            }
            return Ok(rows);
        }
        let anchors = self.anchors(fs, plan).await?;
        if offset >= anchors.total {
            return Ok(Vec::new());
        }
        let take = limit.min(anchors.total - offset);
        // The block's first row, as a position in ascending (key, id) order.
        let asc = if plan.desc {
            anchors.total - 1 - offset
        } else {
            offset
        };
        match self.seek_anchored(fs, plan, &anchors, asc).await? {
            Some(start) => {
                self.read_from(fs, plan, &start, true, plan.desc, take)
                    .await
            }
            // The rows changed after the anchors were checked: as asked, by offset.
            None => self.list_by_offset(fs, plan, limit, offset).await,
        }
    }

    /// The row at ascending position `asc`, walked from the nearest anchor (forwards from
    /// the one before it or backwards from the one after it).
    async fn seek_anchored(
        &self,
        fs: &FilterSql,
        plan: &SortPlan,
        anchors: &Anchors,
        asc: u64,
    ) -> Result<Option<PageCursor>> {
        let every = self.anchor_cache.every;
        let i = asc / every;
        let past = asc % every;
        let point = |i: u64| usize::try_from(i).ok().and_then(|i| anchors.points.get(i));
        let (from, desc, skip) = match (point(i + 1), point(i)) {
            (Some(next), _) if past > every / 2 => (next, true, every - past),
            (_, Some(prev)) => (prev, false, past),
            (_, None) => return Ok(None),
        };
        Ok(match self.seek_from(fs, plan, from, desc, skip).await? {
            Seek::Found(c) => Some(c),
            Seek::Short(_) => None,
        })
    }

    /// The anchors of a (filter, sort key), built on first need and again after any change to
    /// the discrepancies.
    async fn anchors(&self, fs: &FilterSql, plan: &SortPlan) -> Result<Arc<Anchors>> {
        let key = format!("{}\u{1f}{}\u{1f}{:?}", plan.index, fs.where_, fs.params);
        let slot = self.anchor_cache.slot(key);
        let mut held = slot.lock().await;
        let version = self.review_version().await?;
        if let Some(a) = held.as_ref().filter(|a| a.version == version) {
            return Ok(a.clone());
        }
        let (total, points) = self.build_anchors(fs, plan).await?;
        let anchors = Arc::new(Anchors {
            version,
            total,
            points,
        });
        // Kept only if nothing changed while walking (else they may mix two states).
        *held = (self.review_version().await? == version).then(|| anchors.clone());
        Ok(anchors)
    }

    /// How often the discrepancies changed (migration 0010; only grows): anchors built at
    /// another value are stale.
    pub async fn review_version(&self) -> Result<i64> {
        let row = sqlx::query(
            "SELECT CAST(COALESCE(SUM(version), 0) AS BIGINT) AS v FROM discrepancy_changes",
        )
        .fetch_one(&self.pool)
        .await
        .ctx("read", "discrepancy_changes")?;
        row.try_get("v").ctx("read", "discrepancy_changes")
    }

    /// One walk of the list in ascending (key, id) order, [`ANCHOR_EVERY`] index entries a
    /// step: the anchors and the total.
    async fn build_anchors(
        &self,
        fs: &FilterSql,
        plan: &SortPlan,
    ) -> Result<(u64, Vec<PageCursor>)> {
        let Some(first) = self.seek_by_offset(fs, plan, false, 0).await? else {
            return Ok((0, Vec::new()));
        };
        let every = self.anchor_cache.every;
        let mut points = vec![first.clone()];
        let mut from = first;
        loop {
            match self.seek_from(fs, plan, &from, false, every).await? {
                Seek::Found(c) => {
                    points.push(c.clone());
                    from = c;
                }
                Seek::Short(n) => {
                    let full = (points.len() as u64 - 1) * every;
                    return Ok((full + n, points));
                }
            }
        }
    }

    /// The (key, id) of the row `skip` positions from the start of the list ordered by key
    /// and id ascending or descending (`desc`); index only.
    async fn seek_by_offset(
        &self,
        fs: &FilterSql,
        plan: &SortPlan,
        desc: bool,
        skip: u64,
    ) -> Result<Option<PageCursor>> {
        let hint = self.index_hint(fs, Some(plan));
        let mut params = fs.params.clone();
        params.push(Param::I64(i64_of(skip)));
        let d = dir(desc);
        let sql = format!(
            "SELECT {}, id FROM discrepancies{hint} {} ORDER BY {} {d}, id {d} LIMIT 1 OFFSET ${}",
            plan.key_select(),
            fs.where_,
            plan.key,
            params.len()
        );
        let row = bind_params(sqlx::query(&sql), &params)
            .fetch_optional(&self.pool)
            .await
            .ctx("list", "discrepancies")?;
        row.as_ref().map(|r| cursor_of(r, plan)).transpose()
    }

    /// Walks `skip` rows from `from` (included) in direction `desc`, index only: first among
    /// the rows of `from`'s key, then past it. Two index ranges rather than one row-value
    /// comparison, which SQLite's planner narrows by the key alone: with few distinct keys
    /// (a day, a class, a state) that walked from the key's first row.
    async fn seek_from(
        &self,
        fs: &FilterSql,
        plan: &SortPlan,
        from: &PageCursor,
        desc: bool,
        skip: u64,
    ) -> Result<Seek> {
        let hint = self.index_hint(fs, Some(plan));
        let (ge, gt) = ops(desc);
        let d = dir(desc);
        let key = plan.key;
        let mut seen = 0u64;
        for part in 0..2 {
            let left = skip - seen;
            let mut params = fs.params.clone();
            params.push(key_param(&from.key));
            let k = params.len();
            let (range, order) = if part == 0 {
                params.push(Param::I64(from.id));
                (
                    format!("{key} = ${k} AND id {ge} ${}", k + 1),
                    format!("id {d}"),
                )
            } else {
                (format!("{key} {gt} ${k}"), format!("{key} {d}, id {d}"))
            };
            let where_ = and(&fs.where_, &range);
            let mut seek_params = params.clone();
            seek_params.push(Param::I64(i64_of(left)));
            let sql = format!(
                "SELECT {}, id FROM discrepancies{hint} {where_} ORDER BY {order} LIMIT 1 OFFSET ${}",
                plan.key_select(),
                seek_params.len()
            );
            let row = bind_params(sqlx::query(&sql), &seek_params)
                .fetch_optional(&self.pool)
                .await
                .ctx("list", "discrepancies")?;
            if let Some(row) = row {
                return Ok(Seek::Found(cursor_of(&row, plan)?));
            }
            // Fewer than `left + 1` rows in this range: how many (bounded, index only).
            params.push(Param::I64(i64_of(left)));
            let sql = format!(
                "SELECT COUNT(*) AS n FROM (SELECT id FROM discrepancies{hint} {where_} LIMIT ${}) t",
                params.len()
            );
            let row = bind_params(sqlx::query(&sql), &params)
                .fetch_one(&self.pool)
                .await
                .ctx("list", "discrepancies")?;
            let n: i64 = row.try_get("n").ctx("list", "discrepancies")?;
            seen += u64::try_from(n).unwrap_or(0).min(left);
        }
        Ok(Seek::Short(seen))
    }

    /// `take` rows from `from` on in direction `desc` (`inclusive`: `from` itself first):
    /// the rows of `from`'s key after its id, then (if the key runs out first) the rows past
    /// that key; index ranges as in [`AppDb::seek_from`].
    async fn read_from(
        &self,
        fs: &FilterSql,
        plan: &SortPlan,
        from: &PageCursor,
        inclusive: bool,
        desc: bool,
        take: u64,
    ) -> Result<Vec<(PageCursor, DiscrepancyRecord)>> {
        let hint = self.index_hint(fs, Some(plan));
        let (ge, gt) = ops(desc);
        let d = dir(desc);
        let key = plan.key;
        let mut out = Vec::new();
        for part in 0..2 {
            let left = take.saturating_sub(out.len() as u64);
            if left == 0 {
                break;
            }
            let mut params = fs.params.clone();
            params.push(key_param(&from.key));
            let k = params.len();
            let (range, order) = if part == 0 {
                params.push(Param::I64(from.id));
                let op = if inclusive { ge } else { gt };
                // Within one key the order is the id's (SQLite would sort the whole key's
                // rows for an ORDER BY on an expression key it knows is constant).
                (
                    format!("{key} = ${k} AND id {op} ${}", k + 1),
                    format!("id {d}"),
                )
            } else {
                (format!("{key} {gt} ${k}"), format!("{key} {d}, id {d}"))
            };
            params.push(Param::I64(i64_of(left)));
            let sql = format!(
                "SELECT {RECORD_COLS}, {} FROM discrepancies{hint} {} ORDER BY {order} LIMIT ${}",
                plan.key_select(),
                and(&fs.where_, &range),
                params.len()
            );
            let rows = bind_params(sqlx::query(&sql), &params)
                .fetch_all(&self.pool)
                .await
                .ctx("list", "discrepancies")?;
            for row in &rows {
                out.push((cursor_of(row, plan)?, record_from_row(row)?));
            }
        }
        Ok(out)
    }

    /// SQLite's planner, without statistics, may prefer the state or class index and sort,
    /// or walk the sort's index testing each row against the text search's few ids: a list
    /// not narrowed by another index is walked in the sort's own index, and one narrowed by
    /// the text index is read by those ids (then sorted).
    pub(crate) fn index_hint(&self, fs: &FilterSql, plan: Option<&SortPlan>) -> String {
        if self.backend != Backend::Sqlite {
            return String::new();
        }
        match plan {
            _ if fs.text_indexed => " NOT INDEXED".into(),
            Some(plan) if !fs.narrow => format!(" INDEXED BY {}", plan.index),
            _ => String::new(),
        }
    }

    async fn list_by_offset(
        &self,
        fs: &FilterSql,
        plan: &SortPlan,
        limit: u64,
        offset: u64,
    ) -> Result<Vec<(PageCursor, DiscrepancyRecord)>> {
        let mut params = fs.params.clone();
        params.push(Param::I64(i64_of(limit)));
        params.push(Param::I64(i64_of(offset)));
        let sql = format!(
            "SELECT {RECORD_COLS}, {} FROM discrepancies{} {} ORDER BY {} LIMIT ${} OFFSET ${}",
            plan.key_select(),
            self.index_hint(fs, Some(plan)),
            fs.where_,
            plan.order_by(false),
            params.len() - 1,
            params.len()
        );
        let rows = bind_params(sqlx::query(&sql), &params)
            .fetch_all(&self.pool)
            .await
            .ctx("list", "discrepancies")?;
        rows.iter()
            .map(|row| Ok((cursor_of(row, plan)?, record_from_row(row)?)))
            .collect()
    }
}

/// A cursor's key must be of the sort's kind (a cursor of another sort is refused rather than
/// compared as something it is not).
fn check_cursor(c: &PageCursor, plan: &SortPlan, sort: DiscrepancySort) -> Result<()> {
    let text = matches!(c.key, SortKey::Text(_));
    if text == plan.text_key {
        Ok(())
    } else {
        Err(StoreError::Invalid {
            what: "page cursor".into(),
            reason: format!(
                "the {sort} sort's key is {}, the cursor's is not",
                if plan.text_key { "text" } else { "a number" }
            ),
        })
    }
}

//! The order mirror: read-only access to the merchant's orders and refunds, in SQLite or
//! PostgreSQL, through a configurable table/column mapping.
//!
//! Every mapped column is read as `CAST(col AS TEXT)` and parsed in Rust, so integer,
//! NUMERIC, REAL, text and timestamp columns all work the same way on both databases. A row
//! that cannot be understood fails the query with an error naming the table, the row's key
//! and the column: rows are never skipped silently. That includes rows a range query's SQL
//! filter would pass over because their time is not a time at all (`paid_at = 'yesterday'`
//! in a SQLite integer column sorts after every number): each range query also reads the
//! rows whose time column holds such a value ([`OrderMirror::time_query`]), through the
//! column's index. Money is checked as it is read: an order's amount is never negative, a
//! refund's always positive, and every row has its order (refund) number.

use crate::codec::{fold_case, folded_column, like_escape, placeholders};
use crate::db::{connect_pool, Backend};
use crate::error::{DbContext, Result, StoreError};
use crate::mirror_reader::{MirrorReader, Param, TextRow};
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use paydesk_core::matcher::FastMap;
use paydesk_core::money::parse_scaled;
use paydesk_core::{Currency, LocalRefund, Order, OrderStatus, Provider, RefundOrigin};
use serde::{Deserialize, Serialize};
use sqlx::AnyPool;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Column names of the orders table or view.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OrderColumns {
    pub order_no: String,
    pub provider: String,
    pub provider_txn_id: Option<String>,
    pub amount: String,
    pub currency: String,
    pub status: String,
    pub created_at: String,
    pub paid_at: String,
    pub customer_ref: Option<String>,
    /// The account an order was paid through (see [`MirrorScope`]). Optional: when the
    /// table has no such column the mirror has no account dimension.
    pub account: Option<String>,
}

impl Default for OrderColumns {
    fn default() -> Self {
        OrderColumns {
            order_no: "order_no".into(),
            provider: "provider".into(),
            provider_txn_id: Some("provider_txn_id".into()),
            amount: "amount".into(),
            currency: "currency".into(),
            status: "status".into(),
            created_at: "created_at".into(),
            paid_at: "paid_at".into(),
            customer_ref: Some("customer_ref".into()),
            account: Some("account".into()),
        }
    }
}

/// Column names of the refunds table or view.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RefundColumns {
    pub refund_no: String,
    pub order_no: String,
    pub provider: String,
    pub amount: String,
    pub currency: String,
    pub refunded_at: String,
    pub provider_refund_id: Option<String>,
}

impl Default for RefundColumns {
    fn default() -> Self {
        RefundColumns {
            refund_no: "refund_no".into(),
            order_no: "order_no".into(),
            provider: "provider".into(),
            amount: "amount".into(),
            currency: "currency".into(),
            refunded_at: "refunded_at".into(),
            provider_refund_id: Some("provider_refund_id".into()),
        }
    }
}

/// How the mirror writes amounts (the one type shared with manual statements).
pub use paydesk_core::AmountUnit;

/// How the mirror writes times. In configuration: `"unix_seconds"`, `"unix_millis"`,
/// `"text"` (= `"%Y-%m-%d %H:%M:%S"`) or a chrono format string such as
/// `"%Y/%m/%d %H:%M"`. Text times are read in the mapping's `timezone` unless they carry
/// an offset (RFC 3339, or a PostgreSQL `timestamptz` cast to text).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum TimeFormat {
    #[default]
    UnixSeconds,
    UnixMillis,
    Text(String),
}

pub const DEFAULT_TEXT_TIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

impl TryFrom<String> for TimeFormat {
    type Error = String;
    fn try_from(s: String) -> std::result::Result<Self, Self::Error> {
        match s.trim() {
            "unix_seconds" | "unix" | "seconds" => Ok(TimeFormat::UnixSeconds),
            "unix_millis" | "millis" => Ok(TimeFormat::UnixMillis),
            "text" => Ok(TimeFormat::Text(DEFAULT_TEXT_TIME_FORMAT.into())),
            f if f.contains('%') => Ok(TimeFormat::Text(f.to_string())),
            other => Err(format!(
                "unknown time format {other:?} (expected unix_seconds, unix_millis, text or a \
                 format like \"%Y-%m-%d %H:%M:%S\")"
            )),
        }
    }
}

impl From<TimeFormat> for String {
    fn from(t: TimeFormat) -> String {
        match t {
            TimeFormat::UnixSeconds => "unix_seconds".into(),
            TimeFormat::UnixMillis => "unix_millis".into(),
            TimeFormat::Text(f) => f,
        }
    }
}

/// Where and how the merchant keeps orders and refunds. `Default` is the documented default
/// schema (tables `orders` and `refunds`, minor units, unix seconds) that
/// [`create_default_mirror`] creates.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MirrorMapping {
    pub orders_table: String,
    pub order_columns: OrderColumns,
    pub refunds_table: String,
    pub refund_columns: RefundColumns,
    pub amount_unit: AmountUnit,
    pub time_format: TimeFormat,
    /// IANA name ("Asia/Shanghai", "UTC") for text times without an offset.
    pub timezone: String,
    /// The merchant's status words → ours (matched exactly, then case-insensitively).
    pub status_values: BTreeMap<String, OrderStatus>,
}

impl Default for MirrorMapping {
    fn default() -> Self {
        let status_values = <OrderStatus as strum::VariantArray>::VARIANTS
            .iter()
            .map(|s| (s.as_str().to_string(), *s))
            .collect();
        MirrorMapping {
            orders_table: "orders".into(),
            order_columns: OrderColumns::default(),
            refunds_table: "refunds".into(),
            refund_columns: RefundColumns::default(),
            amount_unit: AmountUnit::Minor,
            time_format: TimeFormat::UnixSeconds,
            timezone: "UTC".into(),
            status_values,
        }
    }
}

/// Quotes an identifier unless it is a plain lowercase name (so that unquoted names fold
/// the way the merchant's own SQL does). "schema.table" is quoted part by part.
fn ident(name: &str) -> String {
    name.split('.')
        .map(|part| {
            let plain = !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
                && !part.as_bytes()[0].is_ascii_digit();
            if plain {
                part.to_string()
            } else {
                format!("\"{}\"", part.replace('"', "\"\""))
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// The words the mirror's provider column may hold for `p` (lowercase): its name and the
/// aliases `Provider`'s `FromStr` accepts.
fn provider_words(p: Provider) -> Vec<&'static str> {
    p.words().collect()
}

/// How a time column can be range-filtered in SQL.
#[derive(Debug, Clone)]
enum TimeFilter {
    /// `expr >= $a AND expr < $b` with integer bounds.
    Numeric(String),
    /// `expr >= $a AND expr < $b` with text bounds (sortable text formats).
    Text(String),
    /// No SQL filter: scan and filter in Rust.
    None,
}

/// A mapped column: its quoted name and the expression to compare it with a text value.
#[derive(Debug, Clone)]
struct Col {
    /// Mapping field, for error messages ("amount").
    field: &'static str,
    /// Configured name, for error messages.
    name: String,
    quoted: String,
    text_eq: String,
}

#[derive(Debug, Clone)]
struct TableMap {
    name: String,
    quoted: String,
    cols: Vec<Col>,
    /// Field → position in `cols` (and in the select list): a row is decoded with a dozen
    /// lookups, a million rows a day, so not by comparing names one after another.
    slots: FastMap<&'static str, usize>,
    /// A SQLite table with a rowid (not a view): it can be read with a full scan.
    sqlite_rowid: bool,
}

impl TableMap {
    fn new(name: String, quoted: String, cols: Vec<Col>, sqlite_rowid: bool) -> TableMap {
        let slots = cols.iter().enumerate().map(|(i, c)| (c.field, i)).collect();
        TableMap {
            name,
            quoted,
            cols,
            slots,
            sqlite_rowid,
        }
    }

    fn slot(&self, field: &str) -> Option<usize> {
        self.slots.get(field).copied()
    }

    fn col(&self, field: &str) -> Option<&Col> {
        self.slot(field).and_then(|i| self.cols.get(i))
    }

    /// The mapped columns as text (`CAST`), or `raw` as stored: for a reader that turns
    /// stored values into text exactly as the cast does (SQLite's own reader), so that an
    /// integer amount or unix time is taken as the integer it is instead of being written
    /// out as text by the database and parsed back.
    fn select_list(&self, raw: bool) -> String {
        self.cols
            .iter()
            .map(|c| {
                if raw {
                    format!("{} AS m_{}", c.quoted, c.field)
                } else {
                    format!("CAST({} AS TEXT) AS m_{}", c.quoted, c.field)
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Which rows of the mirror belong to one account: the provider's rows, narrowed by column
/// conditions on the orders table. Refunds belong to the account of their order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MirrorScope {
    pub provider: Provider,
    /// `None`: every row of the provider (the provider has one account and the mirror says
    /// nothing more).
    pub account: Option<AccountFilter>,
}

/// Conditions on the orders table's columns, all of which a row of the account meets
/// (compared as text).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountFilter {
    /// (column of the orders table, value).
    pub conditions: Vec<(String, String)>,
    /// Rows whose (single) column is NULL or empty belong to the account too: used when the
    /// provider has only one account.
    pub or_unassigned: bool,
}

impl From<Provider> for MirrorScope {
    fn from(provider: Provider) -> MirrorScope {
        MirrorScope {
            provider,
            account: None,
        }
    }
}

impl From<&MirrorScope> for MirrorScope {
    fn from(s: &MirrorScope) -> MirrorScope {
        s.clone()
    }
}

/// Read-only access to the merchant's orders and refunds.
#[derive(Clone, Debug)]
pub struct OrderMirror {
    /// For probing the schema when the mirror is opened (low volume, any database).
    pool: AnyPool,
    /// For reading rows (the hot path, see `mirror_reader`).
    reader: MirrorReader,
    backend: Backend,
    mapping: MirrorMapping,
    tz: chrono_tz::Tz,
    orders: TableMap,
    refunds: TableMap,
    paid_filter: TimeFilter,
    refunded_filter: TimeFilter,
    /// Rows whose paid_at / refunded_at the range filter cannot place (see [`stray_cond`]).
    paid_stray: Option<String>,
    refunded_stray: Option<String>,
    status_ci: HashMap<String, OrderStatus>,
    /// The mapped account column of the orders table, if the table has it.
    account_col: Option<String>,
}

const IN_CHUNK: usize = 500;

impl OrderMirror {
    /// Opens the mirror (SQLite read-only) and checks that every mapped table and column
    /// exists; the error names the missing one.
    pub async fn open(url: &str, mapping: MirrorMapping) -> Result<OrderMirror> {
        Self::open_with(url, mapping, false).await
    }

    /// [`OrderMirror::open`], reading rows through sqlx's `Any` driver instead of the
    /// database's own (the reader before issue 15; slower): for tests and benchmarks that
    /// check the two read the same.
    #[doc(hidden)]
    pub async fn open_through_any(url: &str, mapping: MirrorMapping) -> Result<OrderMirror> {
        Self::open_with(url, mapping, true).await
    }

    async fn open_with(
        url: &str,
        mapping: MirrorMapping,
        through_any: bool,
    ) -> Result<OrderMirror> {
        let backend = Backend::of_url(url)?;
        let tz: chrono_tz::Tz = mapping.timezone.trim().parse().map_err(|_| {
            StoreError::MirrorSchema(format!(
                "unknown timezone {:?} in the mirror mapping (expected an IANA name like Asia/Shanghai or UTC)",
                mapping.timezone
            ))
        })?;
        if mapping.status_values.is_empty() {
            return Err(StoreError::MirrorSchema(
                "the mirror mapping's status_values is empty".into(),
            ));
        }
        let pool = connect_pool(url, backend, true, 2).await?;
        let oc = &mapping.order_columns;
        let mut order_fields: Vec<(&'static str, &str)> = vec![
            ("order_no", &oc.order_no),
            ("provider", &oc.provider),
            ("amount", &oc.amount),
            ("currency", &oc.currency),
            ("status", &oc.status),
            ("created_at", &oc.created_at),
            ("paid_at", &oc.paid_at),
        ];
        if let Some(c) = &oc.provider_txn_id {
            order_fields.push(("provider_txn_id", c));
        }
        if let Some(c) = &oc.customer_ref {
            order_fields.push(("customer_ref", c));
        }
        let rc = &mapping.refund_columns;
        let mut refund_fields: Vec<(&'static str, &str)> = vec![
            ("refund_no", &rc.refund_no),
            ("order_no", &rc.order_no),
            ("provider", &rc.provider),
            ("amount", &rc.amount),
            ("currency", &rc.currency),
            ("refunded_at", &rc.refunded_at),
        ];
        if let Some(c) = &rc.provider_refund_id {
            refund_fields.push(("provider_refund_id", c));
        }
        let orders = probe_table(
            &pool,
            backend,
            "orders_table",
            &mapping.orders_table,
            &order_fields,
        )
        .await?;
        let refunds = probe_table(
            &pool,
            backend,
            "refunds_table",
            &mapping.refunds_table,
            &refund_fields,
        )
        .await?;
        let account_col = match oc.account.as_deref().map(str::trim) {
            Some(c) if !c.is_empty() && column_exists(&pool, &orders.quoted, c).await => {
                Some(c.to_string())
            }
            _ => None,
        };
        let paid_filter = probe_time_filter(&pool, &orders, "paid_at", &mapping.time_format).await;
        let refunded_filter =
            probe_time_filter(&pool, &refunds, "refunded_at", &mapping.time_format).await;
        let paid_stray = probe_stray(&pool, &orders, &paid_filter).await;
        let refunded_stray = probe_stray(&pool, &refunds, &refunded_filter).await;
        let status_ci = mapping
            .status_values
            .iter()
            .map(|(k, v)| (k.trim().to_lowercase(), *v))
            .collect();
        let reader = if through_any {
            MirrorReader::Any(pool.clone())
        } else {
            MirrorReader::open(url, backend).await?
        };
        Ok(OrderMirror {
            pool,
            reader,
            backend,
            mapping,
            tz,
            orders,
            refunds,
            paid_filter,
            refunded_filter,
            paid_stray,
            refunded_stray,
            status_ci,
            account_col,
        })
    }

    /// The orders table's account column (mapping `order_columns.account`), if the table has
    /// it.
    pub fn account_column(&self) -> Option<&str> {
        self.account_col.as_deref()
    }

    /// Whether the orders table has the column `name` (for checking account filters).
    pub async fn orders_have_column(&self, name: &str) -> bool {
        column_exists(&self.pool, &self.orders.quoted, name.trim()).await
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn mapping(&self) -> &MirrorMapping {
        &self.mapping
    }

    /// Orders of the scope (a provider, or one account of it) paid in [start, end).
    pub async fn orders_paid_between(
        &self,
        scope: impl Into<MirrorScope>,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Vec<Order>> {
        let mut out = Vec::new();
        self.orders_paid_between_each(scope, start, end, |o| {
            out.push(o);
            Ok(())
        })
        .await?;
        Ok(out)
    }

    /// [`Self::orders_paid_between`], handing each order to `each` as it is read instead of
    /// collecting a million of them; an error from `each` ends the read with that error.
    pub async fn orders_paid_between_each(
        &self,
        scope: impl Into<MirrorScope>,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        mut each: impl FnMut(Order) -> Result<()> + Send,
    ) -> Result<()> {
        let scope = scope.into();
        let provider = scope.provider;
        self.time_query::<()>(
            &self.orders,
            (&self.paid_filter, self.paid_stray.as_deref()),
            &scope,
            start,
            end,
            |r| {
                let o = self.order_from_row(r, Some(provider))?;
                if o.paid_at.is_some_and(|t| t >= start && t < end) {
                    each(o)?;
                }
                Ok(None)
            },
        )
        .await?;
        Ok(())
    }

    /// Orders of the scope by order number (missing numbers are simply absent).
    pub async fn orders_by_numbers(
        &self,
        scope: impl Into<MirrorScope>,
        order_nos: &[String],
    ) -> Result<Vec<Order>> {
        let scope = scope.into();
        let provider = scope.provider;
        self.in_query(&self.orders, "order_no", &scope, order_nos, |r| {
            self.order_from_row(r, Some(provider))
        })
        .await
    }

    /// Orders of `provider` by provider transaction id (empty if the mapping has no such
    /// column).
    pub async fn orders_by_txn_ids(
        &self,
        scope: impl Into<MirrorScope>,
        txn_ids: &[String],
    ) -> Result<Vec<Order>> {
        if self.orders.col("provider_txn_id").is_none() {
            return Ok(Vec::new());
        }
        let scope = scope.into();
        let provider = scope.provider;
        self.in_query(&self.orders, "provider_txn_id", &scope, txn_ids, |r| {
            self.order_from_row(r, Some(provider))
        })
        .await
    }

    /// Refunds of the scope made in [start, end) (a refund belongs to its order's account).
    pub async fn refunds_between(
        &self,
        scope: impl Into<MirrorScope>,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Vec<LocalRefund>> {
        let scope = scope.into();
        let provider = scope.provider;
        self.time_query(
            &self.refunds,
            (&self.refunded_filter, self.refunded_stray.as_deref()),
            &scope,
            start,
            end,
            |r| {
                let refund = self.refund_from_row(r, provider)?;
                Ok((refund.refunded_at >= start && refund.refunded_at < end).then_some(refund))
            },
        )
        .await
    }

    pub async fn refunds_by_numbers(
        &self,
        scope: impl Into<MirrorScope>,
        refund_nos: &[String],
    ) -> Result<Vec<LocalRefund>> {
        let scope = scope.into();
        let provider = scope.provider;
        self.in_query(&self.refunds, "refund_no", &scope, refund_nos, |r| {
            self.refund_from_row(r, provider)
        })
        .await
    }

    /// Orders whose order number, transaction id or customer reference is `text` (exact
    /// matches first), then those that contain it (case-insensitive).
    pub async fn search_orders(&self, text: &str, limit: u32) -> Result<Vec<Order>> {
        let text = text.trim();
        if text.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let t = &self.orders;
        let fields: Vec<&Col> = ["order_no", "provider_txn_id", "customer_ref"]
            .iter()
            .filter_map(|f| t.col(f))
            .collect();
        let exact = fields
            .iter()
            .map(|c| format!("{} = $1", c.text_eq))
            .collect::<Vec<_>>()
            .join(" OR ");
        let sql = format!(
            "SELECT {} FROM {} WHERE {exact} LIMIT $2",
            t.select_list(self.reader.reads_raw_values()),
            t.quoted
        );
        let mut out: Vec<Order> = Vec::new();
        self.reader
            .for_each(
                &t.name,
                &sql,
                &[Param::Text(text.to_string()), Param::I64(i64::from(limit))],
                |r| {
                    out.push(self.order_from_row(r, None)?);
                    Ok(())
                },
            )
            .await?;
        if out.len() < limit as usize {
            let folded = fold_case(text);
            let pattern = format!("%{}%", like_escape(&folded));
            let like = fields
                .iter()
                .map(|c| {
                    let col = folded_column(&format!("CAST({} AS TEXT)", c.quoted), &folded);
                    format!("{col} LIKE $1 ESCAPE '\\'")
                })
                .collect::<Vec<_>>()
                .join(" OR ");
            let sql = format!(
                "SELECT {} FROM {} WHERE {like} LIMIT $2",
                t.select_list(self.reader.reads_raw_values()),
                t.quoted
            );
            let mut seen: HashSet<paydesk_core::Id> =
                out.iter().map(|o| o.order_no.clone()).collect();
            self.reader
                .for_each(
                    &t.name,
                    &sql,
                    &[Param::Text(pattern), Param::I64(i64::from(limit) * 2)],
                    |r| {
                        if out.len() < limit as usize {
                            let o = self.order_from_row(r, None)?;
                            if seen.insert(o.order_no.clone()) {
                                out.push(o);
                            }
                        }
                        Ok(())
                    },
                )
                .await?;
        }
        out.truncate(limit as usize);
        Ok(out)
    }

    fn provider_cond(
        &self,
        t: &TableMap,
        first_param: usize,
        provider: Provider,
    ) -> Option<String> {
        let col = t.col("provider")?;
        let words = provider_words(provider);
        let list = placeholders(first_param, words.len());
        Some(match self.backend {
            // The same comparison: SQLite's lower() folds ASCII letters only, as NOCASE
            // does; without making a lowered copy of every row's value (a tenth of a
            // million-row read).
            Backend::Sqlite => format!("CAST({} AS TEXT) COLLATE NOCASE IN ({list})", col.quoted),
            _ => format!("LOWER(CAST({} AS TEXT)) IN ({list})", col.quoted),
        })
    }

    /// The SQL condition (starting with " AND ") putting rows of `t` in the scope's account,
    /// with its parameters numbered from `first_param`. Refund rows belong to the account of
    /// their order.
    fn account_cond(
        &self,
        t: &TableMap,
        scope: &MirrorScope,
        first_param: usize,
    ) -> (String, Vec<String>) {
        let Some(filter) = &scope.account else {
            return (String::new(), Vec::new());
        };
        if filter.conditions.is_empty() {
            return (String::new(), Vec::new());
        }
        let refunds = std::ptr::eq(t, &self.refunds);
        let prefix = if refunds { "pd_o." } else { "" };
        let mut params = Vec::new();
        let mut parts = Vec::new();
        for (i, (col, value)) in filter.conditions.iter().enumerate() {
            let q = format!("{prefix}{}", ident(col.trim()));
            let eq = format!("CAST({q} AS TEXT) = ${}", first_param + i);
            params.push(value.trim().to_string());
            if filter.or_unassigned && filter.conditions.len() == 1 {
                parts.push(format!(
                    "({eq} OR {q} IS NULL OR TRIM(CAST({q} AS TEXT)) = '')"
                ));
            } else {
                parts.push(eq);
            }
        }
        let cond = parts.join(" AND ");
        if !refunds {
            return (format!(" AND ({cond})"), params);
        }
        let (Some(r_no), Some(o_no)) = (self.refunds.col("order_no"), self.orders.col("order_no"))
        else {
            return (String::new(), Vec::new());
        };
        // The order's side as the column itself where the database compares it with text
        // (`text_eq`), so the subquery uses the order number's index instead of scanning the
        // orders table once per refund.
        let order_side = if o_no.text_eq == o_no.quoted {
            format!("pd_o.{}", o_no.quoted)
        } else {
            format!("CAST(pd_o.{} AS TEXT)", o_no.quoted)
        };
        let same_order = format!(
            "{order_side} = CAST({}.{} AS TEXT)",
            self.refunds.quoted, r_no.quoted
        );
        let sub = if filter.or_unassigned {
            // Refunds of orders outside the mirror stay with the provider's only account.
            format!(
                " AND NOT EXISTS (SELECT 1 FROM {} pd_o WHERE {same_order} AND NOT ({cond}))",
                self.orders.quoted
            )
        } else {
            format!(
                " AND EXISTS (SELECT 1 FROM {} pd_o WHERE {same_order} AND {cond})",
                self.orders.quoted
            )
        };
        (sub, params)
    }

    /// The rows of the scope whose time column the filter places in [start, end) (widened:
    /// the caller keeps the exact range after parsing), followed by the rows whose time
    /// column holds something the filter cannot place (`stray`, outside the range filter
    /// and so never returned twice): the caller parses them too, so a row with a time that
    /// is not a time fails the query instead of silently dropping out of it.
    ///
    /// `decode` turns each row into the value kept (`None`: the row is outside the exact
    /// range), as the rows stream in.
    async fn time_query<T>(
        &self,
        t: &TableMap,
        (filter, stray): (&TimeFilter, Option<&str>),
        scope: &MirrorScope,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        mut decode: impl FnMut(&dyn TextRow) -> Result<Option<T>>,
    ) -> Result<Vec<T>> {
        let provider = scope.provider;
        let words = provider_words(provider);
        let prov = self
            .provider_cond(t, 1, provider)
            .unwrap_or_else(|| "1=1".into());
        let n = words.len();
        let (time_cond, bounds, range): (String, Option<(Param, Param)>, String) = match filter {
            TimeFilter::Numeric(expr) => {
                let (a, b) = match self.mapping.time_format {
                    TimeFormat::UnixMillis => {
                        (start.timestamp_millis() - 1, end.timestamp_millis() + 1)
                    }
                    _ => (start.timestamp() - 1, end.timestamp() + 1),
                };
                let range = format!("{expr} >= ${} AND {expr} < ${}", n + 1, n + 2);
                (
                    format!(" AND {range}"),
                    Some((Param::I64(a), Param::I64(b))),
                    range,
                )
            }
            TimeFilter::Text(expr) => {
                let format = match &self.mapping.time_format {
                    TimeFormat::Text(f) => f.clone(),
                    _ => DEFAULT_TEXT_TIME_FORMAT.into(),
                };
                // Widened by a day either way: offsets and the timezone are applied exactly
                // when the rows are parsed.
                let a = (start - chrono::Duration::days(1))
                    .with_timezone(&self.tz)
                    .format(&format)
                    .to_string();
                let b = (end + chrono::Duration::days(1))
                    .with_timezone(&self.tz)
                    .format(&format)
                    .to_string();
                let range = format!("{expr} >= ${} AND {expr} < ${}", n + 1, n + 2);
                (
                    format!(" AND {range}"),
                    Some((Param::Text(a), Param::Text(b))),
                    range,
                )
            }
            TimeFilter::None => (String::new(), None, String::new()),
        };
        let used =
            if t.col("provider").is_some() { n } else { 0 } + if bounds.is_some() { 2 } else { 0 };
        let (acc_cond, acc_params) = self.account_cond(t, scope, used + 1);
        let mut params = Vec::new();
        if t.col("provider").is_some() {
            params.extend(words.iter().map(|w| Param::Text(w.to_string())));
        }
        if let Some((a, b)) = &bounds {
            params.extend([a.clone(), b.clone()]);
        }
        params.extend(acc_params.into_iter().map(Param::Text));
        let scan = bounds.is_some() && self.sqlite_scan_is_cheaper(t, &range, &params).await?;
        let sql = format!(
            "SELECT {} FROM {}{} WHERE {prov}{time_cond}{acc_cond}",
            t.select_list(self.reader.reads_raw_values()),
            t.quoted,
            if scan { " NOT INDEXED" } else { "" }
        );
        let stray_sql = match (stray, &bounds) {
            (Some(cond), Some(_)) => Some(format!(
                "SELECT {} FROM {} WHERE {prov} AND ({cond}) AND NOT ({range}){acc_cond}",
                t.select_list(self.reader.reads_raw_values()),
                t.quoted
            )),
            _ => None,
        };
        let mut out = Vec::new();
        for sql in std::iter::once(&sql).chain(stray_sql.as_ref()) {
            self.reader
                .for_each(&t.name, sql, &params, |row| {
                    if let Some(v) = decode(row)? {
                        out.push(v);
                    }
                    Ok(())
                })
                .await?;
        }
        Ok(out)
    }

    /// Whether reading `t`'s rows in `range` costs less as a full scan of the table than
    /// through the time column's index: SQLite (which has no statistics on a mirror it may
    /// not write) always takes the index, and then looks every row up in the table in time
    /// order — a random page read per row, six times the cost of the whole scan when the
    /// range holds most of the table (a mirror of one busy day, issue 15). Counted through
    /// the index, against the table's largest rowid.
    async fn sqlite_scan_is_cheaper(
        &self,
        t: &TableMap,
        range: &str,
        params: &[Param],
    ) -> Result<bool> {
        if !t.sqlite_rowid || range.is_empty() {
            return Ok(false);
        }
        let scalar = |sql: String| async move {
            let mut v = None;
            self.reader
                .for_each(&t.name, &sql, params, |r| {
                    v = r.text(0).and_then(|s| s.parse::<i64>().ok());
                    Ok(())
                })
                .await
                .map(|_| v)
        };
        let Some(rows) =
            scalar(format!("SELECT CAST(MAX(rowid) AS TEXT) FROM {}", t.quoted)).await?
        else {
            return Ok(false);
        };
        // Counted only as far as the answer needs (a sixth of the table), not the whole range.
        let enough = rows.saturating_add(5) / 6;
        let in_range = scalar(format!(
            "SELECT CAST(COUNT(*) AS TEXT) FROM (SELECT 1 FROM {} WHERE {range} LIMIT {enough})",
            t.quoted
        ))
        .await?;
        Ok(matches!(in_range, Some(n) if n.saturating_mul(6) >= rows))
    }

    /// The rows of the scope whose `field` is one of `values`, each through `decode`.
    async fn in_query<T>(
        &self,
        t: &TableMap,
        field: &str,
        scope: &MirrorScope,
        values: &[String],
        mut decode: impl FnMut(&dyn TextRow) -> Result<T>,
    ) -> Result<Vec<T>> {
        let provider = scope.provider;
        let Some(col) = t.col(field) else {
            return Ok(Vec::new());
        };
        let mut unique: Vec<&str> = values.iter().map(String::as_str).collect();
        unique.sort_unstable();
        unique.dedup();
        let words = provider_words(provider);
        let prov = self
            .provider_cond(t, 1, provider)
            .unwrap_or_else(|| "1=1".into());
        let mut out = Vec::new();
        for chunk in unique.chunks(IN_CHUNK) {
            let (acc_cond, acc_params) = self.account_cond(t, scope, words.len() + chunk.len() + 1);
            let sql = format!(
                "SELECT {} FROM {} WHERE {prov} AND {} IN ({}){acc_cond}",
                t.select_list(self.reader.reads_raw_values()),
                t.quoted,
                col.text_eq,
                placeholders(words.len() + 1, chunk.len())
            );
            let params: Vec<Param> = words
                .iter()
                .map(|w| Param::Text(w.to_string()))
                .chain(chunk.iter().map(|v| Param::Text(v.to_string())))
                .chain(acc_params.into_iter().map(Param::Text))
                .collect();
            self.reader
                .for_each(&t.name, &sql, &params, |row| {
                    out.push(decode(row)?);
                    Ok(())
                })
                .await?;
        }
        Ok(out)
    }

    fn order_from_row(&self, row: &dyn TextRow, provider: Option<Provider>) -> Result<Order> {
        let t = &self.orders;
        let r = MirrorRow::new(
            row,
            t,
            self.col_name(t, "order_no"),
            &["provider_txn_id", "customer_ref", "amount", "paid_at"],
        );
        let order_no = r.key()?;
        let currency = r.currency(self.col_name(t, "currency"))?;
        let provider = match provider {
            Some(p) => p,
            None => r.provider(self.col_name(t, "provider"))?,
        };
        let status_text = r.required("status", self.col_name(t, "status"))?;
        let status = self
            .mapping
            .status_values
            .get(status_text)
            .or_else(|| self.status_ci.get(&status_text.trim().to_lowercase()))
            .copied()
            .ok_or_else(|| {
                r.err(
                    self.col_name(t, "status"),
                    format!(
                        "unknown status {status_text:?} (the mapping's status_values know: {})",
                        self.mapping
                            .status_values
                            .keys()
                            .cloned()
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })?;
        let amount_col = self.col_name(t, "amount");
        let amount = r.amount(amount_col, currency, self.mapping.amount_unit)?;
        if amount < 0 {
            return Err(r.err(
                amount_col,
                format!(
                    "{} is negative; an order's amount is what the customer pays, never below 0",
                    r.optional("amount").unwrap_or_default()
                ),
            ));
        }
        Ok(Order {
            order_no,
            provider,
            provider_txn_id: r.optional("provider_txn_id").map(Into::into),
            amount,
            currency,
            status,
            created_at: r
                .time(self.col_name(t, "created_at"), "created_at", self)?
                .ok_or_else(|| r.err(self.col_name(t, "created_at"), "is empty".into()))?,
            paid_at: r.time(self.col_name(t, "paid_at"), "paid_at", self)?,
            customer_ref: r.optional("customer_ref").map(Into::into),
        })
    }

    fn refund_from_row(&self, row: &dyn TextRow, provider: Provider) -> Result<LocalRefund> {
        let t = &self.refunds;
        let r = MirrorRow::new(
            row,
            t,
            self.col_name(t, "refund_no"),
            &["order_no", "provider_refund_id", "amount", "refunded_at"],
        );
        let refund_no = r.key()?;
        let currency = r.currency(self.col_name(t, "currency"))?;
        let amount_col = self.col_name(t, "amount");
        let amount = r.amount(amount_col, currency, self.mapping.amount_unit)?;
        if amount <= 0 {
            return Err(r.err(
                amount_col,
                format!(
                    "{} is not positive; a refund's amount is what was paid back, above 0",
                    r.optional("amount").unwrap_or_default()
                ),
            ));
        }
        Ok(LocalRefund {
            refund_no,
            order_no: r.required("order_no", self.col_name(t, "order_no"))?.into(),
            provider,
            amount,
            currency,
            refunded_at: r
                .time(self.col_name(t, "refunded_at"), "refunded_at", self)?
                .ok_or_else(|| r.err(self.col_name(t, "refunded_at"), "is empty".into()))?,
            provider_refund_id: r.optional("provider_refund_id").map(Into::into),
            origin: RefundOrigin::Mirror,
        })
    }

    fn col_name<'a>(&self, t: &'a TableMap, field: &'static str) -> ColRef<'a> {
        ColRef {
            field,
            name: t.col(field).map(|c| c.name.as_str()).unwrap_or(field),
        }
    }

    /// An integer time as [`OrderMirror::parse_time`] reads its decimal text, when the
    /// mapping's times are unix times and it is in range; `None` otherwise (the text path
    /// then reads or refuses it).
    fn unix_time(&self, i: i64) -> Option<DateTime<Utc>> {
        match &self.mapping.time_format {
            TimeFormat::UnixSeconds => DateTime::from_timestamp_millis(i.checked_mul(1000)?),
            TimeFormat::UnixMillis => DateTime::from_timestamp_millis(i),
            TimeFormat::Text(_) => None,
        }
    }

    fn parse_time(&self, text: &str) -> std::result::Result<DateTime<Utc>, String> {
        let s = text.trim();
        match &self.mapping.time_format {
            TimeFormat::UnixSeconds => parse_scaled(s, 3)
                .map_err(|e| format!("{s:?} is not a unix time in seconds ({e})"))
                .and_then(|ms| {
                    DateTime::from_timestamp_millis(ms)
                        .ok_or_else(|| format!("{s:?} is out of range"))
                }),
            TimeFormat::UnixMillis => parse_scaled(s, 0)
                .map_err(|e| format!("{s:?} is not a unix time in milliseconds ({e})"))
                .and_then(|ms| {
                    DateTime::from_timestamp_millis(ms)
                        .ok_or_else(|| format!("{s:?} is out of range"))
                }),
            TimeFormat::Text(format) => parse_text_time(s, format, self.tz),
        }
    }
}

/// Parses a text time: RFC 3339 or the format with an offset as given; otherwise the format
/// (or PostgreSQL's `timestamp` text) as local time in `tz`.
pub(crate) fn parse_text_time(
    s: &str,
    format: &str,
    tz: chrono_tz::Tz,
) -> std::result::Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    let with_offset = [
        format.to_string(),
        format!("{format}%#z"),
        format!("{format}%.f%#z"),
        "%Y-%m-%d %H:%M:%S%#z".to_string(),
        "%Y-%m-%d %H:%M:%S%.f%#z".to_string(),
    ];
    for f in &with_offset {
        if let Ok(t) = DateTime::parse_from_str(s, f) {
            return Ok(t.with_timezone(&Utc));
        }
    }
    let local = NaiveDateTime::parse_from_str(s, format)
        .or_else(|_| NaiveDateTime::parse_from_str(s, &format!("{format}%.f")))
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f"))
        .map_err(|_| format!("{s:?} does not match the time format {format:?}"))?;
    match tz.from_local_datetime(&local) {
        chrono::LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
        chrono::LocalResult::Ambiguous(a, _) => Ok(a.with_timezone(&Utc)),
        chrono::LocalResult::None => Err(format!(
            "{s:?} does not exist in {tz} (skipped by a daylight-saving change)"
        )),
    }
}

#[derive(Clone, Copy)]
struct ColRef<'a> {
    field: &'static str,
    name: &'a str,
}

/// One mirror row read as text (borrowed from the row: only what an `Order` keeps is
/// copied), with its key for error messages.
struct MirrorRow<'r> {
    row: &'r dyn TextRow,
    table: &'r TableMap,
    key: Option<&'r str>,
    key_col: ColRef<'r>,
    hints: &'static [&'static str],
}

impl<'r> MirrorRow<'r> {
    /// `key`: the row's number (order_no, refund_no) and its column; `hints`: fields that
    /// name a row without a number in error messages.
    fn new(
        row: &'r dyn TextRow,
        table: &'r TableMap,
        key: ColRef<'r>,
        hints: &'static [&'static str],
    ) -> MirrorRow<'r> {
        let mut r = MirrorRow {
            row,
            table,
            key: None,
            key_col: key,
            hints,
        };
        r.key = r.optional(key.field);
        r
    }

    /// The row's number, or an error naming the row by its other columns.
    fn key(&self) -> Result<paydesk_core::Id> {
        self.key.map(paydesk_core::Id::from).ok_or_else(|| {
            self.err(
                self.key_col,
                "is empty: every row needs its number (a row without one cannot be reconciled)"
                    .into(),
            )
        })
    }

    /// How an error names the row: its number, or for a row without one what else it has
    /// (`without order_no (provider_txn_id "T1", amount "100")`).
    fn describe(&self) -> String {
        if let Some(k) = self.key {
            return k.to_string();
        }
        let known = self
            .hints
            .iter()
            .filter_map(|f| self.optional(f).map(|v| format!("{f} {v:?}")))
            .collect::<Vec<_>>();
        if known.is_empty() {
            format!("without {}", self.key_col.name)
        } else {
            format!("without {} ({})", self.key_col.name, known.join(", "))
        }
    }

    fn err(&self, col: ColRef<'_>, reason: String) -> StoreError {
        StoreError::MirrorRow {
            table: self.table.name.clone(),
            key: self.describe(),
            column: col.name.to_string(),
            reason,
        }
    }

    /// The field's value when the reader has it as an integer (see
    /// [`TextRow::int`]); the text path reads it otherwise.
    fn int(&self, field: &str) -> Option<i64> {
        self.row.int(self.table.slot(field)?)
    }

    /// The field's value, trimmed; `None` when NULL, empty or not mapped.
    fn optional(&self, field: &str) -> Option<&'r str> {
        let idx = self.table.slot(field)?;
        Some(self.row.text(idx)?.trim()).filter(|s| !s.is_empty())
    }

    fn required(&self, field: &'static str, col: ColRef<'_>) -> Result<&'r str> {
        self.optional(field)
            .ok_or_else(|| self.err(col, "is empty".into()))
    }

    fn currency(&self, col: ColRef<'_>) -> Result<Currency> {
        let s = self.required(col.field, col)?;
        Currency::parse(s).map_err(|e| self.err(col, e.to_string()))
    }

    fn provider(&self, col: ColRef<'_>) -> Result<Provider> {
        let s = self.required(col.field, col)?;
        s.parse::<Provider>().map_err(|e| self.err(col, e))
    }

    fn amount(&self, col: ColRef<'_>, currency: Currency, unit: AmountUnit) -> Result<i64> {
        if let Some(v) = self
            .int(col.field)
            .and_then(|i| unit.from_integer(i, currency))
        {
            return Ok(v);
        }
        let s = self.required(col.field, col)?;
        unit.parse(s, currency).map_err(|e| {
            self.err(
                col,
                format!("{e} (amounts are configured as {unit} units of {currency})"),
            )
        })
    }

    fn time(
        &self,
        col: ColRef<'_>,
        field: &'static str,
        m: &OrderMirror,
    ) -> Result<Option<DateTime<Utc>>> {
        if let Some(t) = self.int(field).and_then(|i| m.unix_time(i)) {
            return Ok(Some(t));
        }
        match self.optional(field) {
            None => Ok(None),
            Some(s) => m.parse_time(s).map(Some).map_err(|e| self.err(col, e)),
        }
    }
}

async fn probe_table(
    pool: &AnyPool,
    backend: Backend,
    setting: &str,
    table: &str,
    fields: &[(&'static str, &str)],
) -> Result<TableMap> {
    if table.trim().is_empty() {
        return Err(StoreError::MirrorSchema(format!(
            "the mirror mapping's {setting} is empty"
        )));
    }
    let quoted = ident(table.trim());
    sqlx::query(&format!("SELECT * FROM {quoted} WHERE 1 = 0"))
        .fetch_all(pool)
        .await
        .map_err(|e| {
            StoreError::MirrorSchema(format!(
                "table or view {table:?} ({setting}) cannot be read: {}",
                db_message(&e)
            ))
        })?;
    let mut cols = Vec::new();
    for (field, name) in fields {
        let name = name.trim();
        if name.is_empty() {
            return Err(StoreError::MirrorSchema(format!(
                "the mirror mapping names no column for {field} of table {table:?}"
            )));
        }
        let q = ident(name);
        sqlx::query(&format!("SELECT {q} FROM {quoted} WHERE 1 = 0"))
            .fetch_all(pool)
            .await
            .map_err(|e| {
                StoreError::MirrorSchema(format!(
                    "table {table:?} has no column {name:?} (mapped as {field}): {}",
                    db_message(&e)
                ))
            })?;
        // Compare with text values directly where the database allows it (keeps indexes
        // usable); otherwise through a cast.
        let direct = sqlx::query(&format!(
            "SELECT {q} FROM {quoted} WHERE {q} = $1 AND 1 = 0"
        ))
        .bind("x")
        .fetch_all(pool)
        .await
        .is_ok();
        let text_eq = if direct {
            q.clone()
        } else {
            format!("CAST({q} AS TEXT)")
        };
        cols.push(Col {
            field,
            name: name.to_string(),
            quoted: q,
            text_eq,
        });
    }
    let sqlite_rowid = backend == Backend::Sqlite
        && sqlx::query(&format!("SELECT rowid FROM {quoted} WHERE 1 = 0"))
            .fetch_all(pool)
            .await
            .is_ok();
    Ok(TableMap::new(
        table.trim().to_string(),
        quoted,
        cols,
        sqlite_rowid,
    ))
}

async fn column_exists(pool: &AnyPool, table_quoted: &str, name: &str) -> bool {
    !name.is_empty()
        && sqlx::query(&format!(
            "SELECT {} FROM {table_quoted} WHERE 1 = 0",
            ident(name)
        ))
        .fetch_all(pool)
        .await
        .is_ok()
}

/// The condition selecting rows whose time column holds a value `filter` cannot place, so
/// that a range query reads them too ([`OrderMirror::time_query`]); `None` when the column
/// cannot hold such values (PostgreSQL numeric and timestamp types) or nothing is filtered
/// in SQL. Both conditions use the column's index:
/// - an integer range on SQLite: text in the column (every text sorts after every number),
///   except plain digit strings, which a text-affinity column compares as text anyway;
/// - a text range (formats starting with the year): values sorting before 1900 or from 2200
///   on — words ("yesterday"), empty strings, day-first dates.
fn stray_cond(filter: &TimeFilter) -> Option<String> {
    match filter {
        TimeFilter::Numeric(e) => Some(format!(
            "{e} >= '' AND NOT ({e} GLOB '[0-9]*' AND {e} NOT GLOB '*[^0-9]*')"
        )),
        TimeFilter::Text(e) => Some(format!("{e} < '1900' OR {e} >= '2200'")),
        TimeFilter::None => None,
    }
}

/// [`stray_cond`] if the database accepts it for this column (PostgreSQL refuses it for
/// columns that cannot hold text, which is as it should be).
async fn probe_stray(pool: &AnyPool, t: &TableMap, filter: &TimeFilter) -> Option<String> {
    let cond = stray_cond(filter)?;
    sqlx::query(&format!(
        "SELECT 1 FROM {} WHERE ({cond}) AND 1 = 0",
        t.quoted
    ))
    .fetch_all(pool)
    .await
    .is_ok()
    .then_some(cond)
}

async fn probe_time_filter(
    pool: &AnyPool,
    t: &TableMap,
    field: &str,
    format: &TimeFormat,
) -> TimeFilter {
    let Some(col) = t.col(field) else {
        return TimeFilter::None;
    };
    let q = &col.quoted;
    match format {
        TimeFormat::UnixSeconds | TimeFormat::UnixMillis => {
            let ok = |expr: String| async move {
                sqlx::query(&format!(
                    "SELECT {q} FROM {} WHERE {expr} >= $1 AND 1 = 0",
                    t.quoted
                ))
                .bind(0i64)
                .fetch_all(pool)
                .await
                .is_ok()
                .then_some(expr)
            };
            match ok(q.clone()).await {
                Some(e) => TimeFilter::Numeric(e),
                None => TimeFilter::None,
            }
        }
        TimeFormat::Text(f) => {
            let sortable = ["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%F"]
                .iter()
                .any(|p| f.starts_with(p));
            if !sortable {
                return TimeFilter::None;
            }
            for expr in [q.clone(), format!("CAST({q} AS TEXT)")] {
                let ok = sqlx::query(&format!(
                    "SELECT {q} FROM {} WHERE {expr} >= $1 AND 1 = 0",
                    t.quoted
                ))
                .bind("2000-01-01")
                .fetch_all(pool)
                .await
                .is_ok();
                if ok {
                    return TimeFilter::Text(expr);
                }
            }
            TimeFilter::None
        }
    }
}

/// The database's own message, without sqlx's wrapping.
pub(crate) fn db_message(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(d) => d.message().to_string(),
        other => other.to_string(),
    }
}

/// Creates the documented default mirror schema (tables `orders` and `refunds`, minor-unit
/// amounts, unix-second times) if missing, with its indexes. Idempotent. A SQLite file is
/// created if missing. Paydesk itself creates mirrors through [`create_mirror_file`], which
/// refuses an existing file; this is for tests.
pub async fn create_default_mirror(url: &str) -> Result<()> {
    let backend = Backend::of_url(url)?;
    let pool = connect_pool(url, backend, false, 1).await?;
    let op = "create the default order mirror in";
    let object = crate::error::redact_url(url);
    for stmt in [
        "CREATE TABLE IF NOT EXISTS orders (\
            order_no TEXT PRIMARY KEY, \
            provider TEXT NOT NULL, \
            provider_txn_id TEXT NULL, \
            amount BIGINT NOT NULL, \
            currency TEXT NOT NULL, \
            status TEXT NOT NULL, \
            created_at BIGINT NOT NULL, \
            paid_at BIGINT NULL, \
            customer_ref TEXT NULL, \
            account TEXT NULL)",
        "CREATE TABLE IF NOT EXISTS refunds (\
            refund_no TEXT PRIMARY KEY, \
            order_no TEXT NOT NULL, \
            provider TEXT NOT NULL, \
            amount BIGINT NOT NULL, \
            currency TEXT NOT NULL, \
            refunded_at BIGINT NOT NULL, \
            provider_refund_id TEXT NULL)",
        "CREATE INDEX IF NOT EXISTS orders_provider_txn_id ON orders (provider_txn_id)",
        "CREATE INDEX IF NOT EXISTS orders_paid_at ON orders (paid_at)",
        "CREATE INDEX IF NOT EXISTS orders_customer_ref ON orders (customer_ref)",
        "CREATE INDEX IF NOT EXISTS refunds_order_no ON refunds (order_no)",
        "CREATE INDEX IF NOT EXISTS refunds_refunded_at ON refunds (refunded_at)",
    ] {
        sqlx::query(stmt).execute(&pool).await.ctx(op, &object)?;
    }
    // Mirrors created before the account column existed gain it.
    if !column_exists(&pool, "orders", "account").await {
        sqlx::query("ALTER TABLE orders ADD COLUMN account TEXT NULL")
            .execute(&pool)
            .await
            .ctx(op, &object)?;
    }
    sqlx::query("CREATE INDEX IF NOT EXISTS orders_account ON orders (account)")
        .execute(&pool)
        .await
        .ctx(op, &object)?;
    pool.close().await;
    Ok(())
}

/// The table that marks an order mirror file the demo created (`paydesk demo`,
/// `paydesk init --demo`): the demo loads its orders into such a file only.
const DEMO_MIRROR_MARK: &str = "paydesk_demo_mirror";

/// Creates a NEW SQLite order mirror file in the default schema (`paydesk init`, the demo,
/// `paydesk generate`); with `demo`, marked as the demo's own (see [`is_demo_mirror`]).
/// Refuses a URL that is not a SQLite file and a file that exists already: Paydesk treats
/// every existing mirror as read-only.
pub async fn create_mirror_file(url: &str, demo: bool) -> Result<()> {
    let Some(path) = crate::db::sqlite_path(url) else {
        return Err(StoreError::Invalid {
            what: "order mirror".into(),
            reason: format!(
                "{} is not a SQLite file; Paydesk creates only new SQLite mirror files",
                crate::error::redact_url(url)
            ),
        });
    };
    if path.exists() {
        return Err(StoreError::Invalid {
            what: "order mirror".into(),
            reason: format!(
                "{} already exists; Paydesk never writes to an existing order mirror",
                path.display()
            ),
        });
    }
    create_default_mirror(url).await?;
    if demo {
        let pool = connect_pool(url, Backend::Sqlite, false, 1).await?;
        let created = sqlx::query(&format!(
            "CREATE TABLE IF NOT EXISTS {DEMO_MIRROR_MARK} (created_at BIGINT NOT NULL)"
        ))
        .execute(&pool)
        .await;
        let marked = match created {
            Ok(_) => {
                sqlx::query(&format!(
                    "INSERT INTO {DEMO_MIRROR_MARK} (created_at) VALUES ($1)"
                ))
                .bind(crate::codec::now_ms())
                .execute(&pool)
                .await
            }
            Err(e) => Err(e),
        };
        pool.close().await;
        marked.ctx("mark the demo order mirror", path.display())?;
    }
    Ok(())
}

/// Whether the order mirror at `url` is a file the demo created ([`create_mirror_file`] with
/// `demo`), read without writing: false for a SQLite file that does not exist.
pub async fn is_demo_mirror(url: &str) -> Result<bool> {
    let backend = Backend::of_url(url)?;
    if backend == Backend::Sqlite {
        match crate::db::sqlite_path(url) {
            Some(path) if !path.is_file() => return Ok(false),
            _ => {}
        }
    }
    let pool = connect_pool(url, backend, true, 1).await?;
    let marked = crate::meta::table_exists(&pool, backend, DEMO_MIRROR_MARK).await;
    pool.close().await;
    marked
}

/// Sets the account column of default-schema mirror orders: (order number, Paydesk account
/// name). Only for mirror files Paydesk created itself (the demo's, see [`is_demo_mirror`])
/// and tests: Paydesk never writes to a merchant's mirror.
pub async fn set_mirror_accounts(url: &str, accounts: &[(String, String)]) -> Result<()> {
    let backend = Backend::of_url(url)?;
    let pool = connect_pool(url, backend, false, 1).await?;
    let op = "set order accounts in";
    let object = crate::error::redact_url(url);
    let mut tx = match backend {
        Backend::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await,
        Backend::Postgres => pool.begin().await,
    }
    .ctx(op, &object)?;
    for (order_no, account) in accounts {
        sqlx::query("UPDATE orders SET account = $1 WHERE order_no = $2")
            .bind(account.as_str())
            .bind(order_no.as_str())
            .execute(&mut *tx)
            .await
            .ctx(op, &object)?;
    }
    tx.commit().await.ctx(op, &object)?;
    pool.close().await;
    Ok(())
}

/// Writes orders and refunds into a default-schema mirror (upserting by order/refund
/// number), in one transaction. Only for mirror files Paydesk created itself (the demo's, see
/// [`is_demo_mirror`]; `paydesk generate`'s new file) and tests: Paydesk never writes to a
/// merchant's mirror.
pub async fn insert_mirror_rows(
    url: &str,
    orders: &[Order],
    refunds: &[LocalRefund],
) -> Result<()> {
    let backend = Backend::of_url(url)?;
    let pool = connect_pool(url, backend, false, 1).await?;
    let op = "write order mirror rows to";
    let object = crate::error::redact_url(url);
    let mut tx = match backend {
        Backend::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await,
        Backend::Postgres => pool.begin().await,
    }
    .ctx(op, &object)?;

    // The last occurrence of a number wins (one statement may not update a row twice).
    let mut last_order: HashMap<&str, usize> = HashMap::new();
    for (i, o) in orders.iter().enumerate() {
        last_order.insert(o.order_no.as_str(), i);
    }
    let orders: Vec<&Order> = orders
        .iter()
        .enumerate()
        .filter(|(i, o)| last_order.get(o.order_no.as_str()) == Some(i))
        .map(|(_, o)| o)
        .collect();
    let order_cols = [
        "order_no",
        "provider",
        "provider_txn_id",
        "amount",
        "currency",
        "status",
        "created_at",
        "paid_at",
        "customer_ref",
    ];
    let suffix = "ON CONFLICT (order_no) DO UPDATE SET provider = excluded.provider, \
         provider_txn_id = excluded.provider_txn_id, amount = excluded.amount, \
         currency = excluded.currency, status = excluded.status, \
         created_at = excluded.created_at, paid_at = excluded.paid_at, \
         customer_ref = excluded.customer_ref";
    for chunk in orders.chunks(crate::codec::chunk_rows(order_cols.len())) {
        let sql = crate::codec::insert_sql(backend, "orders", &order_cols, chunk.len(), suffix);
        let mut q = sqlx::query(&sql);
        for o in chunk {
            q = q
                .bind(o.order_no.as_str())
                .bind(o.provider.as_str())
                .bind(o.provider_txn_id.as_deref())
                .bind(o.amount)
                .bind(o.currency.code())
                .bind(o.status.as_str())
                .bind(o.created_at.timestamp())
                .bind(o.paid_at.map(|t| t.timestamp()))
                .bind(o.customer_ref.as_deref());
        }
        q.execute(&mut *tx).await.ctx(op, &object)?;
    }

    let mut last_refund: HashMap<&str, usize> = HashMap::new();
    for (i, r) in refunds.iter().enumerate() {
        last_refund.insert(r.refund_no.as_str(), i);
    }
    let refunds: Vec<&LocalRefund> = refunds
        .iter()
        .enumerate()
        .filter(|(i, r)| last_refund.get(r.refund_no.as_str()) == Some(i))
        .map(|(_, r)| r)
        .collect();
    let refund_cols = [
        "refund_no",
        "order_no",
        "provider",
        "amount",
        "currency",
        "refunded_at",
        "provider_refund_id",
    ];
    let suffix = "ON CONFLICT (refund_no) DO UPDATE SET order_no = excluded.order_no, \
         provider = excluded.provider, amount = excluded.amount, currency = excluded.currency, \
         refunded_at = excluded.refunded_at, provider_refund_id = excluded.provider_refund_id";
    for chunk in refunds.chunks(crate::codec::chunk_rows(refund_cols.len())) {
        let sql = crate::codec::insert_sql(backend, "refunds", &refund_cols, chunk.len(), suffix);
        let mut q = sqlx::query(&sql);
        for r in chunk {
            q = q
                .bind(r.refund_no.as_str())
                .bind(r.order_no.as_str())
                .bind(r.provider.as_str())
                .bind(r.amount)
                .bind(r.currency.code())
                .bind(r.refunded_at.timestamp())
                .bind(r.provider_refund_id.as_deref());
        }
        q.execute(&mut *tx).await.ctx(op, &object)?;
    }
    tx.commit().await.ctx(op, &object)?;
    pool.close().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idents() {
        assert_eq!(ident("orders"), "orders");
        assert_eq!(ident("Orders"), "\"Orders\"");
        assert_eq!(ident("shop.orders"), "shop.orders");
        assert_eq!(ident("a\"b"), "\"a\"\"b\"");
    }

    #[test]
    fn text_times() {
        let sh = chrono_tz::Asia::Shanghai;
        let f = DEFAULT_TEXT_TIME_FORMAT;
        let t = parse_text_time("2024-05-01 08:00:00", f, sh).ok();
        assert_eq!(
            t.map(|t| t.to_rfc3339()),
            Some("2024-05-01T00:00:00+00:00".into())
        );
        let t = parse_text_time("2024-05-01 08:00:00+00", f, sh).ok();
        assert_eq!(
            t.map(|t| t.to_rfc3339()),
            Some("2024-05-01T08:00:00+00:00".into())
        );
        let t = parse_text_time("2024-05-01T08:00:00Z", f, sh).ok();
        assert_eq!(
            t.map(|t| t.to_rfc3339()),
            Some("2024-05-01T08:00:00+00:00".into())
        );
        let t = parse_text_time("2024-05-01 08:00:00.250", f, sh).ok();
        assert_eq!(t.map(|t| t.timestamp_millis() % 1000), Some(250));
        assert!(parse_text_time("yesterday", f, sh).is_err());
    }

    #[test]
    fn time_format_config() {
        let t: TimeFormat = serde_json::from_str("\"unix_millis\"").unwrap_or_default();
        assert_eq!(t, TimeFormat::UnixMillis);
        let t: std::result::Result<TimeFormat, _> = serde_json::from_str("\"%d/%m/%Y %H:%M\"");
        assert_eq!(t.ok(), Some(TimeFormat::Text("%d/%m/%Y %H:%M".into())));
        assert!(serde_json::from_str::<TimeFormat>("\"weird\"").is_err());
    }
}

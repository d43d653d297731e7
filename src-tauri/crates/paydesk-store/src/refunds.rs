//! Refund requests, approvals and execution records.
//!
//! - [`AppDb::create_refund`] admits a refund against the order's refund ledger
//!   (`refund_ledgers`) with a conditional UPDATE in one write transaction (BEGIN IMMEDIATE on
//!   SQLite; the row lock of the upsert on PostgreSQL), so concurrent consoles can never
//!   reserve more than `paid - refunded outside Paydesk - reserved`.
//! - [`AppDb::transition_refund`] applies a lifecycle event ([`paydesk_core::refund::Event`])
//!   to a refund: the core's [`transition`](paydesk_core::refund::transition) table, checked
//!   against the state the transaction reads, gives the step; a conditional UPDATE on the
//!   step's `from` makes it; the event is recorded and, when the refund ends failed or
//!   rejected, the reservation released, all in one transaction.
//! - [`AppDb::paydesk_refunds_between`] / [`AppDb::paydesk_refunds_by_numbers`] give the
//!   refunds Paydesk executed to reconciliation as [`LocalRefund`]s.

use crate::codec::{ms, now_ms, numbered, qmarks, RowReader};
use crate::db::AppDb;
use crate::error::{DbContext, Result, StoreError};
use chrono::{DateTime, Utc};
use paydesk_core::refund::{self, Event, RefundAmounts};
use paydesk_core::{Currency, LocalRefund, Provider, RefundOrigin};
use serde::{Deserialize, Serialize};

/// The lifecycle states live in the core ([`paydesk_core::refund`]), with the transition table.
pub use paydesk_core::RefundState;

/// A refund as Paydesk records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RefundRecord {
    pub id: i64,
    /// The provider idempotency key (out_request_no / out_refund_no / Idempotency-Key).
    pub refund_no: String,
    pub provider: Provider,
    pub account: String,
    pub order_no: String,
    pub provider_txn_id: Option<String>,
    /// The order's paid total, minor units (WeChat needs it on every call).
    pub order_total: i64,
    /// Positive amount to refund, minor units.
    pub amount: i64,
    pub currency: Currency,
    pub reason: String,
    pub state: RefundState,
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
    /// Why it needed approval (over the limit, daily count), if it did.
    pub approval_reason: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_note: Option<String>,
    pub provider_refund_id: Option<String>,
    pub provider_status: Option<String>,
    pub failure_reason: Option<String>,
    /// Provider calls made (creates and queries).
    pub attempts: u64,
    pub last_error: Option<String>,
    /// When the provider accepted or completed it.
    pub refunded_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

impl RefundRecord {
    /// The record as reconciliation sees it.
    pub fn to_local_refund(&self) -> LocalRefund {
        LocalRefund {
            refund_no: self.refund_no.as_str().into(),
            order_no: self.order_no.as_str().into(),
            provider: self.provider,
            amount: self.amount,
            currency: self.currency,
            refunded_at: self.refunded_at.unwrap_or(self.updated_at),
            provider_refund_id: self.provider_refund_id.clone().map(Into::into),
            origin: RefundOrigin::Paydesk,
        }
    }
}

/// One recorded transition or provider attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RefundEvent {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub from_state: Option<RefundState>,
    pub to_state: RefundState,
    pub note: Option<String>,
}

/// The order's refund ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundLedger {
    pub currency: Currency,
    pub paid: i64,
    /// Refunds the order mirror records that Paydesk did not make.
    pub refunded_external: i64,
    /// Paydesk refunds requested, awaiting approval, in flight or succeeded.
    pub reserved: i64,
}

impl RefundLedger {
    /// `paid - refunded_external - reserved` ([`paydesk_core::refund::refundable`]; the ledger
    /// keeps Paydesk's succeeded and in-flight refunds as one sum, `reserved`). Saturates at
    /// the `i64` bounds, which real amounts never reach.
    pub fn refundable(&self) -> i64 {
        let amounts = RefundAmounts {
            paid: self.paid,
            refunded_outside: self.refunded_external,
            refunded_by_paydesk: 0,
            in_flight: self.reserved,
        };
        refund::refundable(&amounts).unwrap_or_else(|| {
            self.paid
                .saturating_sub(self.refunded_external)
                .saturating_sub(self.reserved)
        })
    }
}

/// A cap on how many refunds one user may request per day before approval is needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DailyCap {
    /// Start of the user's current day.
    pub since: DateTime<Utc>,
    pub max: u32,
}

#[derive(Debug, Clone)]
pub struct NewRefund {
    pub refund_no: String,
    pub provider: Provider,
    pub account: String,
    pub order_no: String,
    pub provider_txn_id: Option<String>,
    /// What the order was paid (the ledger's cap), minor units.
    pub paid: i64,
    pub amount: i64,
    pub currency: Currency,
    pub reason: String,
    pub requested_by: String,
    /// Refunds the mirror records for this order that are not Paydesk's.
    pub refunded_external: i64,
    /// Set when the amount is over the requester's limit: the refund waits for approval.
    pub approval_reason: Option<String>,
    /// Over this many requests today, the refund waits for approval too.
    pub daily_cap: Option<DailyCap>,
}

/// What [`AppDb::create_refund`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundAdmission {
    /// Admitted and committed (state `requested` or `awaiting_approval`).
    Created(Box<RefundRecord>),
    /// Refused: nothing was written. The ledger as it stood.
    ExceedsRefundable { ledger: RefundLedger },
    /// The ledger is in another currency than the request.
    CurrencyMismatch { ledger: RefundLedger },
}

/// Fields a transition may set (None: unchanged).
#[derive(Debug, Clone, Default)]
pub struct RefundUpdate {
    pub provider_refund_id: Option<String>,
    pub provider_status: Option<String>,
    pub failure_reason: Option<String>,
    pub refunded_at: Option<DateTime<Utc>>,
    pub decided_by: Option<String>,
    pub decision_note: Option<String>,
    /// Clears `last_error` when the provider gave a definite answer.
    pub clear_error: bool,
}

const COLUMNS: &str = "id, refund_no, provider, account, order_no, provider_txn_id, order_total, \
    amount, currency, reason, state, requested_by, requested_at, approval_reason, decided_by, \
    decided_at, decision_note, provider_refund_id, provider_status, failure_reason, attempts, \
    last_error, refunded_at, updated_at";

fn read_refund(row: &sqlx::any::AnyRow) -> Result<RefundRecord> {
    let r = RowReader::new(row, "refunds", "?");
    let id = r.i64("id")?;
    let r = RowReader::new(row, "refunds", id.to_string());
    Ok(RefundRecord {
        id,
        refund_no: r.text("refund_no")?,
        provider: r.parsed("provider")?,
        account: r.text("account")?,
        order_no: r.text("order_no")?,
        provider_txn_id: r.opt_text("provider_txn_id")?,
        order_total: r.i64("order_total")?,
        amount: r.i64("amount")?,
        currency: r.currency("currency")?,
        reason: r.text("reason")?,
        state: r.parsed("state")?,
        requested_by: r.text("requested_by")?,
        requested_at: r.time("requested_at")?,
        approval_reason: r.opt_text("approval_reason")?,
        decided_by: r.opt_text("decided_by")?,
        decided_at: r.opt_time("decided_at")?,
        decision_note: r.opt_text("decision_note")?,
        provider_refund_id: r.opt_text("provider_refund_id")?,
        provider_status: r.opt_text("provider_status")?,
        failure_reason: r.opt_text("failure_reason")?,
        attempts: r.u64("attempts")?,
        last_error: r.opt_text("last_error")?,
        refunded_at: r.opt_time("refunded_at")?,
        updated_at: r.time("updated_at")?,
    })
}

fn read_ledger(row: &sqlx::any::AnyRow, key: &str) -> Result<RefundLedger> {
    let r = RowReader::new(row, "refund_ledgers", key);
    Ok(RefundLedger {
        currency: r.currency("currency")?,
        paid: r.i64("paid")?,
        refunded_external: r.i64("refunded_external")?,
        reserved: r.i64("reserved")?,
    })
}

async fn insert_event<'c, E>(
    exec: E,
    refund_id: i64,
    at: i64,
    actor: &str,
    from: Option<RefundState>,
    to: RefundState,
    note: Option<&str>,
) -> Result<()>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO refund_events (refund_id, at, actor, from_state, to_state, note) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(refund_id)
    .bind(at)
    .bind(actor)
    .bind(from.map(|s| s.as_str()))
    .bind(to.as_str())
    .bind(note)
    .execute(exec)
    .await
    .ctx("record event of refund", refund_id)?;
    Ok(())
}

impl AppDb {
    /// Admits a refund against the order's ledger and commits the intent, or refuses it
    /// without writing anything.
    pub async fn create_refund(&self, n: &NewRefund) -> Result<RefundAdmission> {
        if n.amount <= 0 {
            return Err(StoreError::Invalid {
                what: format!("refund of order {}", n.order_no),
                reason: format!("amount {} must be positive", n.amount),
            });
        }
        // The ledger's check (`paid - refunded_external - reserved >= amount`) is only sound
        // on amounts that cannot wrap: a sum of refunds that overflowed to a negative number
        // would make room for any refund.
        if n.paid < 0 || n.refunded_external < 0 {
            return Err(StoreError::Invalid {
                what: format!("refund of order {}", n.order_no),
                reason: format!(
                    "the ledger's amounts cannot be negative (paid {}, refunded outside Paydesk {})",
                    n.paid, n.refunded_external
                ),
            });
        }
        let op = "request refund of order";
        let obj = &n.order_no;
        let now = now_ms();
        let mut tx = self.begin_write(op, obj).await?;
        // The upsert takes the ledger row's lock on PostgreSQL (SQLite holds the database
        // write lock since BEGIN IMMEDIATE): concurrent requests for the order queue here.
        sqlx::query(
            "INSERT INTO refund_ledgers (provider, order_no, currency, paid, refunded_external, \
             reserved, updated_at) VALUES ($1, $2, $3, $4, $5, 0, $6) \
             ON CONFLICT (provider, order_no) DO UPDATE SET paid = excluded.paid, \
             refunded_external = excluded.refunded_external, updated_at = excluded.updated_at",
        )
        .bind(n.provider.as_str())
        .bind(&n.order_no)
        .bind(n.currency.code())
        .bind(n.paid)
        .bind(n.refunded_external)
        .bind(now)
        .execute(&mut *tx)
        .await
        .ctx(op, obj)?;
        let admitted = sqlx::query(
            "UPDATE refund_ledgers SET reserved = reserved + $1, updated_at = $2 \
             WHERE provider = $3 AND order_no = $4 AND currency = $5 \
             AND paid - refunded_external - reserved >= $1",
        )
        .bind(n.amount)
        .bind(now)
        .bind(n.provider.as_str())
        .bind(&n.order_no)
        .bind(n.currency.code())
        .execute(&mut *tx)
        .await
        .ctx(op, obj)?;
        if admitted.rows_affected() == 0 {
            let row = sqlx::query(
                "SELECT currency, paid, refunded_external, reserved FROM refund_ledgers \
                 WHERE provider = $1 AND order_no = $2",
            )
            .bind(n.provider.as_str())
            .bind(&n.order_no)
            .fetch_one(&mut *tx)
            .await
            .ctx(op, obj)?;
            let ledger = read_ledger(&row, obj)?;
            tx.rollback().await.ctx(op, obj)?;
            return Ok(if ledger.currency != n.currency {
                RefundAdmission::CurrencyMismatch { ledger }
            } else {
                RefundAdmission::ExceedsRefundable { ledger }
            });
        }
        let mut approval_reason = n.approval_reason.clone();
        if let (None, Some(cap)) = (&approval_reason, n.daily_cap) {
            let row = sqlx::query(
                "SELECT COUNT(*) AS n FROM refunds WHERE requested_by = $1 AND requested_at >= $2",
            )
            .bind(&n.requested_by)
            .bind(ms(cap.since))
            .fetch_one(&mut *tx)
            .await
            .ctx(op, obj)?;
            let today = RowReader::new(&row, "refunds", "count").u64("n")?;
            if today >= u64::from(cap.max) {
                approval_reason = Some(format!(
                    "{} already requested {today} refunds today; the daily count without approval is {}",
                    n.requested_by, cap.max
                ));
            }
        }
        // A refund is created `requested`; over a limit it is held for approval at once.
        let hold = match approval_reason {
            Some(_) => Some(
                refund::transition(RefundState::INITIAL, Event::HoldForApproval).map_err(|e| {
                    StoreError::Invalid {
                        what: format!("refund of order {}", n.order_no),
                        reason: e.to_string(),
                    }
                })?,
            ),
            None => None,
        };
        let state = hold.map_or(RefundState::INITIAL, |t| t.to);
        let row = sqlx::query(
            "INSERT INTO refunds (refund_no, provider, account, order_no, provider_txn_id, \
             order_total, amount, currency, reason, state, requested_by, requested_at, \
             approval_reason, attempts, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 0, $12) RETURNING id",
        )
        .bind(&n.refund_no)
        .bind(n.provider.as_str())
        .bind(&n.account)
        .bind(&n.order_no)
        .bind(n.provider_txn_id.as_deref())
        .bind(n.paid)
        .bind(n.amount)
        .bind(n.currency.code())
        .bind(&n.reason)
        .bind(state.as_str())
        .bind(&n.requested_by)
        .bind(now)
        .bind(approval_reason.as_deref())
        .fetch_one(&mut *tx)
        .await
        .ctx(op, obj)?;
        let id = RowReader::new(&row, "refunds", &n.refund_no).i64("id")?;
        insert_event(
            &mut *tx,
            id,
            now,
            &n.requested_by,
            None,
            RefundState::INITIAL,
            Some(&n.reason),
        )
        .await?;
        if let Some(t) = hold {
            insert_event(
                &mut *tx,
                id,
                now,
                &n.requested_by,
                Some(t.from),
                t.to,
                approval_reason.as_deref(),
            )
            .await?;
        }
        tx.commit().await.ctx(op, obj)?;
        let rec = self.refund(id).await?.ok_or_else(|| StoreError::NotFound {
            what: "refund",
            id: id.to_string(),
        })?;
        Ok(RefundAdmission::Created(Box::new(rec)))
    }

    /// Applies `event` to refund `id`: the step is [`refund::transition`] of the state this
    /// transaction reads, made with a conditional UPDATE on the step's `from`. Returns the
    /// updated record, or `None` (nothing written) when the refund's state does not accept
    /// the event (any more). A step that keeps the state (`processing` answered
    /// `provider_accepted` again) is still written and recorded. A step to failed or rejected
    /// releases the amount on the order's ledger in the same transaction.
    pub async fn transition_refund(
        &self,
        id: i64,
        event: Event,
        actor: &str,
        note: Option<&str>,
        update: &RefundUpdate,
    ) -> Result<Option<RefundRecord>> {
        let op = "update refund";
        let now = now_ms();
        let mut tx = self.begin_write(op, id).await?;
        let Some(row) = sqlx::query(&format!("SELECT {COLUMNS} FROM refunds WHERE id = $1"))
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .ctx(op, id)?
        else {
            return Err(StoreError::NotFound {
                what: "refund",
                id: id.to_string(),
            });
        };
        let before = read_refund(&row)?;
        let Ok(step) = refund::transition(before.state, event) else {
            tx.rollback().await.ctx(op, id)?;
            return Ok(None);
        };
        let (decided_by, decided_at) = match &update.decided_by {
            Some(d) => (Some(d.clone()), Some(now)),
            None => (before.decided_by.clone(), before.decided_at.map(ms)),
        };
        let sql = numbered(
            "UPDATE refunds SET state = ?, provider_refund_id = ?, provider_status = ?, \
             failure_reason = ?, refunded_at = ?, decided_by = ?, decided_at = ?, \
             decision_note = ?, last_error = ?, updated_at = ? WHERE id = ? AND state = ?",
            self.backend,
        );
        let done = sqlx::query(&sql)
            .bind(step.to.as_str())
            .bind(
                update
                    .provider_refund_id
                    .clone()
                    .or(before.provider_refund_id.clone()),
            )
            .bind(
                update
                    .provider_status
                    .clone()
                    .or(before.provider_status.clone()),
            )
            .bind(
                update
                    .failure_reason
                    .clone()
                    .or(before.failure_reason.clone()),
            )
            .bind(before.refunded_at.or(update.refunded_at).map(ms))
            .bind(decided_by)
            .bind(decided_at)
            .bind(
                update
                    .decision_note
                    .clone()
                    .or(before.decision_note.clone()),
            )
            .bind(if update.clear_error {
                None
            } else {
                before.last_error.clone()
            })
            .bind(now)
            .bind(id)
            .bind(step.from.as_str())
            .execute(&mut *tx)
            .await
            .ctx(op, id)?;
        if done.rows_affected() == 0 {
            tx.rollback().await.ctx(op, id)?;
            return Ok(None);
        }
        if step.releases_reservation() {
            sqlx::query(
                "UPDATE refund_ledgers SET reserved = reserved - $1, updated_at = $2 \
                 WHERE provider = $3 AND order_no = $4",
            )
            .bind(before.amount)
            .bind(now)
            .bind(before.provider.as_str())
            .bind(&before.order_no)
            .execute(&mut *tx)
            .await
            .ctx("release the ledger reservation of refund", id)?;
        }
        insert_event(&mut *tx, id, now, actor, Some(step.from), step.to, note).await?;
        tx.commit().await.ctx(op, id)?;
        self.refund(id).await
    }

    /// Records one provider call that gave no definite answer (the state is unchanged).
    pub async fn record_refund_attempt(
        &self,
        id: i64,
        actor: &str,
        error: Option<&str>,
    ) -> Result<()> {
        let op = "record an attempt of refund";
        let now = now_ms();
        let mut tx = self.begin_write(op, id).await?;
        let row = sqlx::query("SELECT state FROM refunds WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .ctx(op, id)?
            .ok_or_else(|| StoreError::NotFound {
                what: "refund",
                id: id.to_string(),
            })?;
        let state: RefundState = RowReader::new(&row, "refunds", id.to_string()).parsed("state")?;
        sqlx::query(
            "UPDATE refunds SET attempts = attempts + 1, last_error = COALESCE($1, last_error), \
             updated_at = $2 WHERE id = $3",
        )
        .bind(error)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await
        .ctx(op, id)?;
        if let Some(e) = error {
            insert_event(&mut *tx, id, now, actor, Some(state), state, Some(e)).await?;
        }
        tx.commit().await.ctx(op, id)?;
        Ok(())
    }

    pub async fn refund(&self, id: i64) -> Result<Option<RefundRecord>> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM refunds WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await
            .ctx("read refund", id)?;
        row.as_ref().map(read_refund).transpose()
    }

    pub async fn refund_by_no(&self, refund_no: &str) -> Result<Option<RefundRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM refunds WHERE refund_no = $1"
        ))
        .bind(refund_no)
        .fetch_optional(self.pool())
        .await
        .ctx("read refund", refund_no)?;
        row.as_ref().map(read_refund).transpose()
    }

    /// The refund's transitions and attempts, oldest first.
    pub async fn refund_events(&self, id: i64) -> Result<Vec<RefundEvent>> {
        let rows = sqlx::query(
            "SELECT at, actor, from_state, to_state, note FROM refund_events \
             WHERE refund_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await
        .ctx("read events of refund", id)?;
        rows.iter()
            .map(|row| {
                let r = RowReader::new(row, "refund_events", id.to_string());
                Ok(RefundEvent {
                    at: r.time("at")?,
                    actor: r.text("actor")?,
                    from_state: r.opt_parsed("from_state")?,
                    to_state: r.parsed("to_state")?,
                    note: r.opt_text("note")?,
                })
            })
            .collect()
    }

    /// Paydesk's refunds of one order, oldest first.
    pub async fn refunds_of_order(
        &self,
        provider: Provider,
        order_no: &str,
    ) -> Result<Vec<RefundRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM refunds WHERE provider = $1 AND order_no = $2 ORDER BY id"
        ))
        .bind(provider.as_str())
        .bind(order_no)
        .fetch_all(self.pool())
        .await
        .ctx("list refunds of order", order_no)?;
        rows.iter().map(read_refund).collect()
    }

    /// Refunds in any of `states` (all when empty), newest first.
    pub async fn refunds_in_states(
        &self,
        states: &[RefundState],
        limit: u32,
    ) -> Result<Vec<RefundRecord>> {
        let filter = if states.is_empty() {
            String::new()
        } else {
            format!("WHERE state IN ({})", qmarks(states.len()))
        };
        let sql = numbered(
            &format!("SELECT {COLUMNS} FROM refunds {filter} ORDER BY id DESC LIMIT ?"),
            self.backend,
        );
        let mut q = sqlx::query(&sql);
        for s in states {
            q = q.bind(s.as_str());
        }
        let rows = q
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await
            .ctx("list", "refunds")?;
        rows.iter().map(read_refund).collect()
    }

    /// The order's refund ledger, if a refund was ever requested for it.
    pub async fn refund_ledger(
        &self,
        provider: Provider,
        order_no: &str,
    ) -> Result<Option<RefundLedger>> {
        let row = sqlx::query(
            "SELECT currency, paid, refunded_external, reserved FROM refund_ledgers \
             WHERE provider = $1 AND order_no = $2",
        )
        .bind(provider.as_str())
        .bind(order_no)
        .fetch_optional(self.pool())
        .await
        .ctx("read the refund ledger of order", order_no)?;
        row.as_ref().map(|r| read_ledger(r, order_no)).transpose()
    }

    /// Refunds Paydesk executed (succeeded or accepted and processing) with `refunded_at` in
    /// [start, end), as reconciliation's local refunds.
    pub async fn paydesk_refunds_between(
        &self,
        provider: Provider,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Vec<LocalRefund>> {
        self.account_refunds_between(provider, None, start, end)
            .await
    }

    /// [`AppDb::paydesk_refunds_between`] of one account (the one the refunds were sent
    /// through); `None`: every account of the provider.
    pub async fn account_refunds_between(
        &self,
        provider: Provider,
        account: Option<&str>,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Vec<LocalRefund>> {
        let acc = if account.is_some() {
            " AND account = $6"
        } else {
            ""
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM refunds WHERE provider = $1 AND state IN ($2, $3) \
             AND refunded_at >= $4 AND refunded_at < $5{acc} ORDER BY refund_no"
        );
        let mut q = sqlx::query(&sql)
            .bind(provider.as_str())
            .bind(RefundState::Succeeded.as_str())
            .bind(RefundState::Processing.as_str())
            .bind(ms(start))
            .bind(ms(end));
        if let Some(a) = account {
            q = q.bind(a);
        }
        let rows = q
            .fetch_all(self.pool())
            .await
            .ctx("list executed refunds of", provider)?;
        rows.iter()
            .map(|r| read_refund(r).map(|x| x.to_local_refund()))
            .collect()
    }

    /// Executed (succeeded or processing) Paydesk refunds by refund number.
    pub async fn paydesk_refunds_by_numbers(
        &self,
        provider: Provider,
        refund_nos: &[String],
    ) -> Result<Vec<LocalRefund>> {
        self.account_refunds_by_numbers(provider, None, refund_nos)
            .await
    }

    /// [`AppDb::paydesk_refunds_by_numbers`] of one account; `None`: every account.
    pub async fn account_refunds_by_numbers(
        &self,
        provider: Provider,
        account: Option<&str>,
        refund_nos: &[String],
    ) -> Result<Vec<LocalRefund>> {
        let acc = if account.is_some() {
            " AND account = ?"
        } else {
            ""
        };
        let mut out = Vec::new();
        for chunk in refund_nos.chunks(500) {
            let sql = numbered(
                &format!(
                    "SELECT {COLUMNS} FROM refunds WHERE provider = ? AND state IN (?, ?) \
                     AND refund_no IN ({}){acc} ORDER BY refund_no",
                    qmarks(chunk.len())
                ),
                self.backend,
            );
            let mut q = sqlx::query(&sql)
                .bind(provider.as_str())
                .bind(RefundState::Succeeded.as_str())
                .bind(RefundState::Processing.as_str());
            for no in chunk {
                q = q.bind(no.as_str());
            }
            if let Some(a) = account {
                q = q.bind(a);
            }
            let rows = q
                .fetch_all(self.pool())
                .await
                .ctx("list executed refunds of", provider)?;
            for r in &rows {
                out.push(read_refund(r)?.to_local_refund());
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ledger_refundable() {
        let l = |paid, refunded_external, reserved| RefundLedger {
            currency: Currency::CNY,
            paid,
            refunded_external,
            reserved,
        };
        assert_eq!(l(10_000, 1_000, 2_500).refundable(), 6_500);
        assert_eq!(l(1_000, 1_500, 0).refundable(), -500);
        assert_eq!(l(i64::MIN, 1, 0).refundable(), i64::MIN);
        assert_eq!(l(i64::MAX, -1, 0).refundable(), i64::MAX);
    }
}

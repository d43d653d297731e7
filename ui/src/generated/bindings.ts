// Generated from the Rust types by src-tauri/src/ts_bindings.rs (ts-rs). Do not edit:
// change the Rust type, then run
//   PAYDESK_WRITE_TS=1 cargo test -p paydesk-desktop --lib ts_bindings
// Field names are the Rust ones (serde snake_case); money is integer minor units.

export type ErrorKind = "bad_input" | "busy" | "denied" | "unauthenticated" | "cancelled" | "config" | "store" | "provider" | "io" | "vault_locked";
export const ERROR_KINDS: ErrorKind[] = ["bad_input", "busy", "denied", "unauthenticated", "cancelled", "config", "store", "provider", "io", "vault_locked"];
export type ErrorCode = "bad_input" | "not_found" | "conflict" | "refund_exceeds_refundable" | "vault_locked" | "busy" | "denied" | "unauthenticated" | "cancelled" | "config" | "store" | "io" | "provider" | "provider_signature" | "provider_unavailable" | "provider_rejected" | "provider_not_found" | "provider_not_ready" | "provider_protocol" | "provider_config";
export const ERROR_CODES: ErrorCode[] = ["bad_input", "not_found", "conflict", "refund_exceeds_refundable", "vault_locked", "busy", "denied", "unauthenticated", "cancelled", "config", "store", "io", "provider", "provider_signature", "provider_unavailable", "provider_rejected", "provider_not_found", "provider_not_ready", "provider_protocol", "provider_config"];
export type KeyWarningCode = "expires_soon" | "expired_no_successor" | "no_active" | "refresh_failed" | "refresh_overdue";
export const KEY_WARNING_CODES: KeyWarningCode[] = ["expires_soon", "expired_no_successor", "no_active", "refresh_failed", "refresh_overdue"];
export type Endpoint = "sandbox" | "file" | "url";
export const ENDPOINTS: Endpoint[] = ["sandbox", "file", "url"];
export type VaultSource = "env" | "key_file" | "passphrase";
export const VAULT_SOURCES: VaultSource[] = ["env", "key_file", "passphrase"];
export type RunTrigger = "manual" | "schedule";
export const RUN_TRIGGERS: RunTrigger[] = ["manual", "schedule"];
export type Arrival = "arrived" | "suggested" | "in_transit" | "not_arrived" | "not_expected";
export const ARRIVALS: Arrival[] = ["arrived", "suggested", "in_transit", "not_arrived", "not_expected"];
export type LinkState = "booked" | "suggested" | "accepted" | "rejected";
export const LINK_STATES: LinkState[] = ["booked", "suggested", "accepted", "rejected"];

/**
 * A payment provider Paydesk speaks to.
 */
export type Provider = "alipay" | "wechat" | "stripe" | "manual";

/**
 * What a statement line records.
 */
export type LineKind = "payment" | "refund" | "fee" | "adjustment" | "payout";

/**
 * Where a statement line came from, kept as evidence.
 */
export type SourceRef = { 
/**
 * File name (not a full path) or API call that delivered the line.
 */
file: string, 
/**
 * 1-based line number in the (decoded) file, or position in the API listing.
 */
line: number, };

/**
 * One line of a provider statement, normalized.
 *
 * Sign convention: money into the merchant is positive. A refund line has a negative
 * `gross` whatever sign the provider's file used; `fee_milli` is positive when the provider
 * charges a fee (negative when a refund returns part of it); `net = gross - fee`.
 */
export type StatementLine = { provider: Provider, 
/**
 * The provider account name from `paydesk.toml` (e.g. "alipay-main").
 */
account: string, 
/**
 * Provider transaction id (Alipay 支付宝交易号, WeChat 微信订单号, Stripe txn_/ch_ id).
 */
provider_txn_id: string, 
/**
 * The merchant's order number as the provider recorded it, if any.
 */
merchant_order_no: string | null, kind: LineKind, 
/**
 * Gross amount in minor units (signed, see above).
 */
gross: number, 
/**
 * Fee in thousandths of a minor unit: WeChat writes fees with 5 decimals.
 */
fee_milli: number, 
/**
 * Net amount in minor units as the provider states it.
 */
net: number, currency: Currency, 
/**
 * When the provider booked the line.
 */
provider_time: string, 
/**
 * The provider's refund id (WeChat 微信退款单号, Stripe re_...), for refund lines.
 */
provider_refund_id: string | null, 
/**
 * The merchant's refund request number (Alipay out_request_no, WeChat out_refund_no,
 * Stripe refund metadata), for refund lines.
 */
merchant_refund_no: string | null, 
/**
 * The provider's status word for the line, as written ("SUCCESS", "REFUND", "交易").
 */
provider_status: string, source: SourceRef, 
/**
 * Stripe: the PaymentIntent (`pi_...`) of the line's charge; `provider_txn_id` holds the
 * charge (`ch_...`).
 */
payment_intent_id: string | null, 
/**
 * What the customer was charged when it differs from the settlement currency (Stripe's
 * `customer_facing_amount` / `customer_facing_currency`), signed like `gross`.
 */
presentment: Money | null, 
/**
 * The amount (minor units) the provider charges its fee on, when it is not `gross`:
 * WeChat's 应结订单金额 when a 免充值代金券 made it smaller than 订单金额. `None` means
 * the gross (README "Fee base").
 */
fee_base: number | null, };

/**
 * The merchant's view of an order's payment state.
 */
export type OrderStatus = "pending" | "paid" | "closed" | "partially_refunded" | "refunded";

/**
 * An order as the merchant's order mirror records it.
 */
export type Order = { order_no: string, provider: Provider, 
/**
 * The provider's transaction id, if the merchant stored it.
 */
provider_txn_id: string | null, 
/**
 * Amount the merchant expects to have been paid, minor units.
 */
amount: number, currency: Currency, status: OrderStatus, created_at: string, paid_at: string | null, 
/**
 * A reference support staff search by (customer email, phone, member id).
 */
customer_ref: string | null, };

/**
 * Where a refund record comes from: the merchant's mirror, or Paydesk's own refund service.
 */
export type RefundOrigin = "mirror" | "paydesk";

/**
 * A refund the merchant (or Paydesk) believes was made.
 */
export type LocalRefund = { 
/**
 * Merchant refund number = the provider idempotency key (out_request_no / out_refund_no).
 */
refund_no: string, order_no: string, provider: Provider, 
/**
 * Positive amount refunded, minor units.
 */
amount: number, currency: Currency, refunded_at: string, provider_refund_id: string | null, origin: RefundOrigin, };

/**
 * A calendar day of a provider account's statement.
 */
export type BillDate = string;

/**
 * A discrepancy as the app database holds it, with its review state.
 */
export type DiscrepancyRecord = { id: number, account: string, provider: Provider, bill_date: BillDate, 
/**
 * Stable identity within (account, bill_date), see `DiscrepancyDraft::key`.
 */
key: string, class: OutcomeClass, rule: MatchRule, order_no: string | null, provider_txn_id: string | null, refund_no: string | null, currency: Currency, provider_amount: number | null, local_amount: number | null, 
/**
 * provider − local (minor units of `currency`); 0 when the two sides are in different
 * currencies (see `provider_currency` / `local_currency`): not comparable, not equal.
 */
difference: number, 
/**
 * The currency of each side, when known: `provider_amount` is in `provider_currency`,
 * `local_amount` in `local_currency`; `currency` is the provider's (else ours).
 */
provider_currency: Currency | null, local_currency: Currency | null, 
/**
 * The money in question (minor units of `currency`): |difference|, or for a
 * zero-difference discrepancy the amount on whichever side has one. See
 * [`crate::amount_at_stake`].
 */
amount_at_stake: number, provider_time: string | null, local_time: string | null, evidence_file: string | null, evidence_line: number | null, explanation: string, 
/**
 * The same in Chinese; `None` for a discrepancy saved before Paydesk wrote both.
 */
explanation_zh: string | null, state: ReviewState, resolution: ResolutionKind | null, note: string | null, assignee: string | null, 
/**
 * When the discrepancy should be resolved by (SLA by amount and age).
 */
due_at: string, created_at: string, updated_at: string, 
/**
 * The run that first found it and the latest run that still found it.
 */
first_run_id: number, last_run_id: number, 
/**
 * False once a later run of the same account and day no longer finds it.
 */
present: boolean, };

/**
 * One entry of a discrepancy's history: who changed what, when.
 */
export type HistoryEntry = { discrepancy_id: number, at: string, actor: string, 
/**
 * e.g. "state", "resolution", "note", "assignee", "class", "presence".
 */
field: string, old_value: string | null, new_value: string | null, };

/**
 * An ISO 4217 currency that Paydesk knows the minor-unit exponent of.
 */
export type Currency = string;

/**
 * An amount in minor units of a currency.
 */
export type Money = { minor: number, currency: Currency, };

/**
 * The outcome of one statement line, order or refund in a reconciliation run.
 */
export type OutcomeClass = "matched" | "provider_only" | "order_only" | "amount_mismatch" | "currency_mismatch" | "status_mismatch" | "duplicate_payment" | "refund_only_at_provider" | "refund_only_local" | "refund_amount_mismatch" | "fee_variance" | "provider_adjustment" | "timing_difference";

/**
 * Which rule tied a line to a record, so a reviewer can ask "why was this matched?".
 */
export type MatchRule = "no_counterpart" | "merchant_order_no" | "provider_txn_id" | "merchant_refund_no" | "provider_refund_id" | "payment_intent_id" | "customer_ref" | "order_amount_day" | "balance_movement" | "date_window";

/**
 * Review state of a discrepancy.
 */
export type ReviewState = "open" | "investigating" | "resolved";

/**
 * How a resolved discrepancy was settled.
 */
export type ResolutionKind = "corrected_locally" | "corrected_at_provider" | "written_off" | "not_an_issue" | "auto_matched";

export type Role = "finance" | "support" | "approver" | "admin";

/**
 * An operation that needs permission. Its name (`as_str`) is `area.action`; JSON uses the
 * snake_case variant name (`reconcile_run`).
 */
export type Permission = "reconcile_run" | "discrepancy_view" | "discrepancy_review" | "report_export" | "order_view" | "refund_request" | "refund_approve" | "key_view" | "key_manage" | "user_manage" | "audit_view" | "settings_manage";

/**
 * Where a Paydesk refund is in its life.
 */
export type RefundState = "requested" | "awaiting_approval" | "sending" | "processing" | "succeeded" | "failed" | "needs_attention" | "rejected";

/**
 * What a movement on a provider balance is, by its accounting meaning (Stripe's
 * `reporting_category`, Alipay's 业务类型, WeChat's 业务类型 / 业务名称).
 */
export type FlowKind = "payment" | "refund" | "fee" | "payout" | "payout_reversal" | "dispute" | "dispute_reversal" | "transfer" | "adjustment";

/**
 * One movement on a provider account's balance: a row of Alipay's 账务明细, of WeChat's
 * 资金账单, or a Stripe balance transaction.
 */
export type FundFlow = { provider: Provider, 
/**
 * The provider account name from `paydesk.toml`.
 */
account: string, 
/**
 * The movement's own id, unique in the account: Alipay 账务流水号, WeChat 资金流水单号,
 * Stripe `txn_…`.
 */
flow_id: string, 
/**
 * The business object that caused it: Alipay 业务流水号, WeChat 微信支付业务单号,
 * Stripe `source` (`ch_…`, `re_…`, `po_…`, `dp_…`).
 */
source_id: string | null, 
/**
 * The merchant's order (or refund) number when the row names one: Alipay 商户订单号,
 * WeChat 业务凭证号, Stripe `payment_metadata[order_no]`.
 */
order_no: string | null, 
/**
 * Stripe: the automatic payout that settled this movement (`automatic_payout_id`).
 */
payout_id: string | null, kind: FlowKind, 
/**
 * When the provider booked it (记账时间, 发生时间, `created`).
 */
booked_at: string, currency: Currency, 
/**
 * Gross amount in minor units, signed (+ into the balance).
 */
gross: number, 
/**
 * Fee in minor units taken with the movement (Stripe `fee`; 0 where fees are rows of
 * their own, as on Alipay and WeChat).
 */
fee: number, 
/**
 * `gross - fee`: what the movement did to the balance.
 */
net: number, 
/**
 * The running balance after this movement, where the file states one (账户余额,
 * 账户结余).
 */
balance_after: number | null, 
/**
 * The provider's words for the movement (业务类型/业务名称/备注, `description`).
 */
description: string, 
/**
 * 1-based line of the file (or position in the API listing), for evidence and errors.
 */
line: number, };

/**
 * Where a payout stands at the provider.
 */
export type PayoutStatus = "pending" | "in_transit" | "paid" | "failed" | "canceled";

/**
 * Money the provider sent (or says it sent) to the merchant's bank account.
 */
export type Payout = { provider: Provider, 
/**
 * The provider account name from `paydesk.toml`.
 */
account: string, 
/**
 * Stripe `po_…`; Alipay and WeChat: the 提现 row's business number (业务流水号 /
 * 微信支付业务单号), else its flow id.
 */
payout_id: string, 
/**
 * Amount sent to the bank, minor units, positive.
 */
amount: number, currency: Currency, 
/**
 * When the payout left the provider balance.
 */
created_at: string, 
/**
 * The day the provider expects it in the bank (Stripe `arrival_date`); for Alipay and
 * WeChat the day of the 提现 row.
 */
arrival_date: string, 
/**
 * What the bank shows of it (Stripe `trace_id`; the 提现 flow number), if known.
 */
trace_id: string | null, 
/**
 * Stripe automatic payouts can be itemized; manual payouts and Alipay/WeChat
 * withdrawals cannot (their composition check is skipped and says so).
 */
automatic: boolean, status: PayoutStatus, };

/**
 * One line of a bank statement.
 */
export type BankLine = { 
/**
 * Booking date (camt `BookgDt`, MT940 entry date, 交易日期).
 */
booking_date: string, 
/**
 * Value date where the statement gives one (camt `ValDt`, MT940 `:61:` value date).
 */
value_date: string | null, 
/**
 * Signed minor units: + credit (money in), − debit.
 */
amount: number, currency: Currency, 
/**
 * Who paid (camt `Dbtr/Nm`, 对方户名), if stated.
 */
counterparty: string | null, 
/**
 * Every reference the bank gives for the line (EndToEndId, AcctSvcrRef, MT940 customer
 * and bank references, 流水号), in the statement's order, without duplicates.
 */
references: Array<string>, 
/**
 * Free text (RmtInf/Ustrd, `:86:`, 摘要 + 用途/附言), joined by " / ".
 */
text: string, 
/**
 * 1-based line (MT940/CSV) or entry number (camt, XLSX row) in the file.
 */
line: number, };

/**
 * How a link between payouts and bank lines was found.
 */
export type LinkRule = "reference" | "amount_date" | "grouped_payouts" | "split_payout" | "reviewer";

/**
 * What does not agree, in the settlement's own classes.
 */
export type SettleClass = "payout_not_arrived" | "bank_credit_without_payout" | "payout_amount_mismatch" | "composition_mismatch" | "balance_break" | "payout_fee_differs" | "trade_flow_mismatch";

/**
 * What a credential is for. One credential per (account, purpose).
 */
export type Purpose = "alipay_app_key" | "alipay_public_key" | "wechat_merchant_key" | "wechat_apiv3_key" | "wechat_platform_cert" | "wechat_public_key" | "stripe_secret_key" | "stripe_webhook_secret";

/**
 * Stored as `pending` / `active` / `retired`; parsed exactly (the words the vault writes).
 */
export type VersionState = "pending" | "active" | "retired";

/**
 * The public facts about one key version: safe to show, log and export.
 */
export type KeyInfo = { 
/**
 * "rsa_private_key", "rsa_public_key", "certificate", "symmetric_key", "api_key".
 */
kind: string, 
/**
 * SHA-256 (hex) of the SPKI DER for RSA keys and certificates; for symmetric secrets a
 * domain-separated SHA-256 of the key, shortened to 16 hex digits.
 */
fingerprint: string, key_bits?: number, 
/**
 * Certificate serial (uppercase hex), e.g. the WeChat merchant / platform serial.
 */
serial?: string, 
/**
 * Provider key id, e.g. `PUB_KEY_ID_...`.
 */
key_id?: string, subject?: string, not_before?: string, not_after?: string, 
/**
 * e.g. "sk_live_…4f2a" for Stripe keys (type and last four, as Stripe's dashboard shows).
 */
hint?: string, 
/**
 * SPKI DER, base64 (public).
 */
public_key?: string, 
/**
 * Certificate DER, base64 (public).
 */
certificate?: string, };

/**
 * A saved run.
 */
export type RunRecord = { id: number, account: string, provider: Provider, bill_date: BillDate, statement_id: number, statement_sha256: string, started_by: string, started_at: string, finished_at: string, counts: { [key in OutcomeClass]?: number }, totals_json: Partial<Totals> | null, };

/**
 * A refund as Paydesk records it.
 */
export type RefundRecord = { id: number, 
/**
 * The provider idempotency key (out_request_no / out_refund_no / Idempotency-Key).
 */
refund_no: string, provider: Provider, account: string, order_no: string, provider_txn_id: string | null, 
/**
 * The order's paid total, minor units (WeChat needs it on every call).
 */
order_total: number, 
/**
 * Positive amount to refund, minor units.
 */
amount: number, currency: Currency, reason: string, state: RefundState, requested_by: string, requested_at: string, 
/**
 * Why it needed approval (over the limit, daily count), if it did.
 */
approval_reason: string | null, decided_by: string | null, decided_at: string | null, decision_note: string | null, provider_refund_id: string | null, provider_status: string | null, failure_reason: string | null, 
/**
 * Provider calls made (creates and queries).
 */
attempts: number, last_error: string | null, 
/**
 * When the provider accepted or completed it.
 */
refunded_at: string | null, updated_at: string, };

/**
 * One recorded transition or provider attempt.
 */
export type RefundEvent = { at: string, actor: string, from_state: RefundState | null, to_state: RefundState, note: string | null, };

/**
 * A user as shown to admins (no password hash).
 */
export type UserRecord = { id: number, username: string, display_name: string, roles: Array<Role>, disabled: boolean, failed_attempts: number, locked_until: string | null, created_at: string, password_changed_at: string, };

export type AuditEntry = { seq: number, at: string, actor: string, action: string, target: string, outcome: string, 
/**
 * The details exactly as stored (JSON text), which is what the hash covers.
 */
details: string, prev_hash: string, hash: string, };

export type AuditVerification = { entries: number, head_seq: number, head_hash: string, 
/**
 * Empty when the chain is intact.
 */
problems: Array<AuditProblem>, };

export type AuditProblem = { seq: number, reason: string, };

/**
 * When an account's provider certificates were last downloaded.
 */
export type VaultRefresh = { account: string, last_attempt_at: string, last_ok_at: string | null, last_error: string | null, };

/**
 * How to order a discrepancy list. Ties are broken by id, so paging is stable.
 */
export type DiscrepancySort = "date_desc" | "date_asc" | "amount_desc" | "amount_asc" | "class" | "state" | "due_asc";

/**
 * A row's value of the list's sort key: TEXT (date, class) or BIGINT (amount, state rank,
 * due time in unix ms).
 */
export type SortKey = number | string;

/**
 * Where a row stands in a sorted list: its sort key and id (ties are broken by id).
 */
export type PageCursor = { key: SortKey, id: number, };

/**
 * A page of discrepancies and how many match in all.
 */
export type DiscrepancyPage = { total: number, discrepancies: Array<DiscrepancyRecord>, 
/**
 * Where the first and last rows stand (sort key and id): ask for the block before or
 * after this one with them, so that scrolling never looks rows up by position.
 */
first: PageCursor | null, last: PageCursor | null, };

/**
 * A refund as the provider reports it (on request, by query).
 */
export type ProviderRefundView = { refund_no: string, 
/**
 * "succeeded", "processing", "failed", "needs_attention", "pending", or "not_found".
 */
state: string, provider_status: string, provider_refund_id: string | null, amount: number | null, 
/**
 * Set when the query itself failed.
 */
error: string | null, };

/**
 * The payment as the provider reports it (on request).
 */
export type ProviderPaymentView = { state: string | null, provider_status: string | null, amount: number | null, error: string | null, };

/**
 * An order with its payment, every earlier refund and what is still refundable.
 */
export type OrderDetail = { order: Order, 
/**
 * The account refunds of this order go through, if one can.
 */
account: string | null, 
/**
 * What the order was paid (0 when it is not paid), minor units.
 */
paid: number, currency: Currency, 
/**
 * Refunds the order mirror records (including Paydesk's once the merchant recorded them).
 */
mirror_refunds: Array<LocalRefund>, 
/**
 * Paydesk's own refund records of the order.
 */
paydesk_refunds: Array<RefundRecord>, 
/**
 * Mirror refunds Paydesk did not make.
 */
refunded_outside_paydesk: number, 
/**
 * Paydesk refunds that succeeded.
 */
refunded_by_paydesk: number, 
/**
 * Paydesk refunds requested, awaiting approval, in flight or needing attention.
 */
in_flight: number, 
/**
 * paid − refunded outside Paydesk − Paydesk's refunds (done or in flight).
 */
refundable: number, 
/**
 * Only with `query_provider`.
 */
provider_payment: ProviderPaymentView | null, provider_refunds: Array<ProviderRefundView>, };

/**
 * A refund and its history.
 */
export type RefundDetail = { refund: RefundRecord, events: Array<RefundEvent>, };

/**
 * What a run found, as the CLI prints it (`--json`) and the UI shows it.
 */
export type RunReport = { run_id: number | null, dry_run: boolean, account: string, provider: Provider, date: string, statement: StatementInfo, 
/**
 * Count per outcome class, every class listed (zeros included).
 */
counts: { [key in string]: number }, totals: Totals, discrepancies: Array<DiscrepancyOut>, 
/**
 * Timing differences from the previous day that this run settled.
 */
carry_overs_closed: Array<string>, 
/**
 * Lines that matched on something other than the plain amount by the merchant's own
 * number: a fee base other than the gross (WeChat 应结订单金额), a presentment currency,
 * or a fallback identifier. Each says what was compared and by which rule.
 */
matched_notes: Array<MatchNote>, 
/**
 * Milliseconds spent per step (parse, save_statement, read_mirror, match, save_run).
 */
timings_ms: { [key in string]: number }, };

export type StatementInfo = { file: string, format: string, sha256: string, lines: number, statement_id: number | null, 
/**
 * The provider said nothing happened that day (no statement exists): the statement is
 * empty by the provider's word, not by a failed download.
 */
no_activity: boolean, 
/**
 * The same file had been imported before: nothing new was stored.
 */
unchanged: boolean, 
/**
 * The statement this one replaced (different content for the same account and day).
 */
superseded: number | null, };

export type Totals = { 
/**
 * Per currency: sums over the statement, minor units.
 */
statement_gross: { [key in string]: number }, statement_fees: { [key in string]: number }, statement_net: { [key in string]: number }, 
/**
 * Per currency: sum of |difference| over discrepancies, minor units.
 */
discrepancy_abs: { [key in string]: number }, matched: number, discrepancies: number, };

export type DiscrepancyOut = { key: string, class: OutcomeClass, rule: MatchRule, order_no: string | null, provider_txn_id: string | null, refund_no: string | null, currency: string, provider_amount: number | null, local_amount: number | null, 
/**
 * provider − local; 0 and `comparable: false` when the sides' currencies differ.
 */
difference: number, 
/**
 * `provider_amount`'s and `local_amount`'s currencies, when known.
 */
provider_currency: string | null, local_currency: string | null, comparable: boolean, explanation: string, explanation_zh: string, evidence: string | null, };

/**
 * What a matched line was compared on (see [`RunReport::matched_notes`]).
 */
export type MatchNote = { 
/**
 * The statement's line number.
 */
line_no: number | null, order_no: string | null, refund_no: string | null, rule: MatchRule, 
/**
 * "matched on 订单金额 100.00; fee 0.54 on 应结订单金额 90.00 at 0.60%".
 */
text: string, 
/**
 * The same in Chinese.
 */
text_zh: string, };

export type Dashboard = { accounts: Array<AccountCard>, 
/**
 * One point per day of the window, oldest first (days without discrepancies included).
 */
daily: Array<DayPoint>, attention: Attention, };

export type AccountCard = { account: string, provider: Provider, currency: Currency, last_run: RunRecord | null, 
/**
 * Open or investigating discrepancies of this account, any day.
 */
open: number, 
/**
 * Those open ones by class.
 */
counts: { [key in OutcomeClass]?: number }, 
/**
 * What they put at stake per currency (minor units; see `paydesk_core::amount_at_stake`).
 */
open_amounts: { [key in string]: number }, };

export type DayPoint = { date: BillDate, 
/**
 * Discrepancies found for that bill date (still present), any review state.
 */
discrepancies: number, 
/**
 * Of those, not resolved yet.
 */
open: number, 
/**
 * Sum of the amounts at stake of that day's discrepancies per currency (minor units).
 */
unmatched: { [key in string]: number }, };

export type Attention = { open_discrepancies: number, overdue_discrepancies: number, refunds_awaiting_approval: number, refunds_needing_attention: number, keys: Array<KeyAttention>, };

export type KeyAttention = { account: string, purpose: Purpose, version: number | null, 
/**
 * The warning's stable code (see `keys::KeyWarning`), for the UI's own wording.
 */
code: KeyWarningCode, message: string, 
/**
 * The certificate serial the warning is about, if any.
 */
serial: string | null, 
/**
 * The warning's date: the expiry, or the last certificate download.
 */
at: string | null, expires_at: string | null, };

/**
 * One version as listed (no secret).
 */
export type VersionListing = { version: number, state: VersionState, 
/**
 * Usable now (active, or retired within its grace period, and not expired).
 */
usable: boolean, source: string, created_at: string, created_by: string, activated_at: string | null, retired_at: string | null, usable_until: string | null, tested_at: string | null, test_outcome: string | null, info: KeyInfo, };

/**
 * One credential as listed.
 */
export type KeyListing = { account: string, purpose: Purpose, versions: Array<VersionListing>, warnings: Array<KeyWarning>, 
/**
 * WeChat Pay platform certificates: the last download (scheduled or on an unknown serial).
 */
refresh?: VaultRefresh, };

/**
 * Something about a credential an admin should act on. `code` is stable (the UI words it in
 * its language); `message` says the same in English.
 */
export type KeyWarning = { 
/**
 * "expires_soon", "expired_no_successor", "no_active", "refresh_failed", "refresh_overdue".
 */
code: KeyWarningCode, version?: number, serial?: string, 
/**
 * The expiry, or when the last refresh happened.
 */
at?: string, message: string, };

/**
 * A generated key's public half, in the forms the provider consoles expect.
 */
export type PublicExport = { account: string, purpose: Purpose, version: number, fingerprint: string, key_bits: number | null, 
/**
 * SPKI PEM.
 */
public_key_pem: string, 
/**
 * One-line base64 SPKI (Alipay's console).
 */
public_key_base64: string, };

export type SettingsView = { workspace: string, config_file: string, 
/**
 * Connection URLs with any password replaced by `***`.
 */
database: string, mirror: string, timezone: string, schedule: string | null, tolerances: TolerancesView, sla: SlaView, refunds: RefundsView, vault: VaultView, accounts: Array<AccountView>, };

export type TolerancesView = { amount: string, timing_window_minutes: number, fee: string, };

export type SlaView = { days: number, large_amount: string, large_days: number, };

export type RefundsView = { support_limit: string, admin_limit: string | null, daily_count: number, };

/**
 * `[vault]`: where the master key comes from when nobody types it, and the key timings.
 */
export type VaultView = { 
/**
 * The master key file (a path, never its content); `None`: a passphrase.
 */
key_file: string | null, grace_hours: number, certificate_refresh_hours: number, expiry_warning_days: number, };

export type AccountView = { name: string, provider: Provider, currency: string, timezone: string, 
/**
 * "sandbox", "file" or "url".
 */
endpoint: string, 
/**
 * The endpoint's address, if any (never credentials).
 */
address: string | null, };

export type ConnectionTest = { ok: boolean, message: string, };

export type Stage = "download" | "verify" | "parse" | "match" | "save";

export type AppError = { 
/**
 * What the UI acts on and titles the error with: `bad_input`, `busy`, `denied`,
 * `unauthenticated`, `cancelled`, `config`, `store`, `provider`, `io` or `vault_locked`
 * (the kind of [`code`](AppError::code), see [`kind_of`]).
 */
kind: ErrorKind, 
/**
 * The stable machine-readable code, `ServiceError::code()` (one of
 * `paydesk_service::ERROR_CODES`) for an error from a service.
 */
code: ErrorCode, message: string, };

export type AccountInfo = { name: string, provider: Provider, currency: string, endpoint: Endpoint, };

export type AppInfo = { workspace: string, version: string, 
/**
 * The accounts talk to the built-in sandbox (demo data, demo users).
 */
demo: boolean, timezone: string, yesterday: string, accounts: Array<AccountInfo>, schedule: string | null, 
/**
 * Set when the workspace could not be opened: what is wrong and what to do.
 */
error: string | null, };

export type Me = { username: string, roles: Array<Role>, permissions: Array<Permission>, };

export type AuditPage = { total: number, entries: Array<AuditEntry>, };

/**
 * The filter as the UI sends it: every field optional.
 */
export type FilterIn = { account?: string | null, provider?: Provider | null, date_from?: string | null, date_to?: string | null, classes?: Array<OutcomeClass>, states?: Array<ReviewState>, assignee?: string | null, min_abs_difference?: number | null, text?: string | null, include_gone?: boolean, run_id?: number | null, };

/**
 * A reviewer's change as the UI sends it. `assignee` absent: unchanged; `null` or empty:
 * cleared.
 */
export type ChangeIn = { state?: ReviewState | null, resolution?: ResolutionKind | null, note?: string | null, assignee?: string | null, };

export type DiscrepancyDetail = { record: DiscrepancyRecord, history: Array<HistoryEntry>, 
/**
 * Our side: the order in the merchant's mirror, if the discrepancy names one.
 */
order: Order | null, 
/**
 * The provider's side: the statement line the discrepancy cites.
 */
statement_line: StatementLine | null, };

/**
 * What a view's discrepancies put at stake, per currency.
 */
export type CurrencyTotal = { currency: Currency, count: number, 
/**
 * Σ of the amounts at stake, minor units (amounts of different currencies are never
 * added together).
 */
at_stake: number, };

export type BulkResult = { updated: number, 
/**
 * For `undo_review_change`; `None` when nothing changed.
 */
undo_id: number | null, };

export type UpdateResult = { record: DiscrepancyRecord, 
/**
 * For `undo_review_change` (30 s in the UI); `None` when nothing changed.
 */
undo_id: number | null, };

/**
 * What [`undo`] did, by discrepancy id.
 */
export type UndoResult = { 
/**
 * Put back as they were before the change.
 */
restored: Array<number>, 
/**
 * Left as they are: their review was changed after the change (by someone, or a run).
 */
skipped: Array<number>, };

export type ExportResult = { path: string, rows: number, };

export type RefundLimits = { support_limit: string, admin_limit: string | null, daily_count: number, };

export type VaultStatus = { configured: boolean, unlocked: boolean, 
/**
 * Where the master key came from when the app unlocked it by itself.
 */
source: VaultSource | null, };

/**
 * Import fields; which ones a purpose needs is in `to_input`.
 */
export type ImportFields = { private_key?: string | null, public_key?: string | null, cert?: string | null, key?: string | null, text?: string | null, key_id?: string | null, secret?: string | null, pem?: string | null, 
/**
 * WeChat merchant id the certificate must name (default: the account's `mchid`).
 */
mchid?: string | null, };

export type RunEvent = { "kind": "started", batch: number, accounts: Array<string>, date: string, trigger: RunTrigger, } | { "kind": "stage", batch: number, account: string, stage: Stage, done: number, total: number | null, } | { "kind": "account_done", batch: number, account: string, report: RunReport, } | { "kind": "account_failed", batch: number, account: string, message: string, } | { "kind": "finished", batch: number, cancelled: boolean, };

export type Failure = { account: string, message: string, };

export type RunBatch = { reports: Array<RunReport>, failures: Array<Failure>, cancelled: boolean, };

/**
 * A `[[bank_accounts]]` entry of `paydesk.toml`.
 */
export type BankAccountInfo = { name: string, currency: Currency, 
/**
 * The provider accounts that pay out into it.
 */
accounts: Array<string>, };

/**
 * A payout in a run's report: where it stands against the bank and what it settles.
 */
export type PayoutOut = { id: number, payout: Payout, arrival: Arrival, 
/**
 * Only itemized (Stripe automatic) payouts have one.
 */
composition: CompositionOut | null, };

/**
 * What a payout settles, summed by kind (minor units; refunds, fees, disputes negative).
 */
export type CompositionOut = { items: number, payments: number, refunds: number, fees: number, disputes: number, other: number, 
/**
 * What the payout should be.
 */
total: number, };

/**
 * A link (booked, accepted) or a suggestion, from a run or from the store.
 */
export type LinkOut = { 
/**
 * The stored id; `None` in a dry run's report (nothing is stored).
 */
id: number | null, rule: LinkRule, 
/**
 * 0..=100.
 */
confidence: number, state: LinkState, currency: Currency, payout_total: number, bank_total: number, payout_ids: Array<number>, bank_line_ids: Array<number>, 
/**
 * Plain-words reasons, one per fact.
 */
evidence: Array<string>, decided_by: string | null, decided_at: string | null, note: string | null, };

/**
 * Something that does not agree, with its class named and explained in both languages.
 */
export type FindingOut = { 
/**
 * The stored id; `None` in a dry run's report.
 */
id: number | null, class: SettleClass, class_en: string, class_zh: string, explain_en: string, explain_zh: string, date: string, currency: Currency, expected: number | null, actual: number | null, detail: string, payout_ids: Array<number>, bank_line_ids: Array<number>, 
/**
 * A reviewer's verdict ("open" with a note, or "resolved"); `None`: not reviewed.
 */
review_state: string | null, review_note: string | null, };

/**
 * One provider account's balance over one day.
 */
export type BalanceDay = { account: string, date: string, currency: Currency, opening: number | null, movements: number, closing: number | null, };

/**
 * How hard the grouped-suggestion searches worked.
 */
export type SearchOut = { searches: number, worst_steps: number, 
/**
 * Searches that ran out of steps or where two subsets fitted: they suggest nothing.
 */
exhausted: number, ambiguous: number, };

/**
 * One provider account's trade bills against its fund flows over the run's last
 * `trade_check_days` days.
 */
export type AccountTradeCheck = { account: string, from: string, to: string, 
/**
 * Days of the window whose trade bill is stored.
 */
trade_days: number, 
/**
 * Payments and refunds found on the balance with the amount they settle.
 */
matched: number, 
/**
 * Items whose counterpart's day is not stored yet.
 */
pending: number, 
/**
 * `trade_flow_mismatch` findings.
 */
findings: number, };

/**
 * What a settlement run found.
 */
export type SettlementReport = { bank_account: string, as_of: string, dry_run: boolean, run_id: number | null, payouts: Array<PayoutOut>, bank_lines: number, links: Array<LinkOut>, suggestions: Array<LinkOut>, findings: Array<FindingOut>, 
/**
 * Findings per class.
 */
counts: { [key in string]: number }, 
/**
 * Payouts per arrival state.
 */
arrivals: { [key in string]: number }, balances: Array<BalanceDay>, 
/**
 * Per provider account, its trade bills checked against its fund flows.
 */
trade_checks: Array<AccountTradeCheck>, search: SearchOut, seconds: number, };

/**
 * A stored payout.
 */
export type PayoutRow = { id: number, payout: Payout, };

/**
 * A stored bank line.
 */
export type BankLineRow = { id: number, bank_account: string, file_name: string, line: BankLine, };

/**
 * A link with everything it stands on.
 */
export type LinkDetailOut = { link: LinkOut, payouts: Array<PayoutRow>, bank_lines: Array<BankLineRow>, 
/**
 * Per payout (same order), the movements it settles.
 */
settled: Array<Array<FundFlow>>, };

/**
 * A payout with its movements, the links that hold it and their bank lines.
 */
export type PayoutDetailOut = { payout: PayoutRow, flows: Array<FundFlow>, links: Array<LinkOut>, bank_lines: Array<BankLineRow>, };

/**
 * An order followed from its balance movements to the bank.
 */
export type OrderSettlementOut = { order_no: string, flows: Array<FundFlow>, payouts: Array<PayoutRow>, links: Array<LinkOut>, bank_lines: Array<BankLineRow>, };

/**
 * What a bank statement import did.
 */
export type BankImportOut = { bank_account: string, file: string, format: string, 
/**
 * The same file was imported before: nothing changed.
 */
already_imported: boolean, statements: number, lines: number, already_known_lines: number, skipped_pending: number, roll_forward_gaps: Array<string>, };

/**
 * What a fund-flow import did.
 */
export type FundFlowImportOut = { account: string, file: string, layout: string, flows: number, new_flows: number, known_flows: number, payouts: number, summary_checked: boolean, };

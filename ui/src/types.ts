// Shapes of the desktop API (ui/API.md). Field names follow the Rust structs exactly
// (serde snake_case). Money: integer minor units + ISO currency code. Dates: "YYYY-MM-DD".
// Timestamps: RFC 3339 UTC strings.

// ------------------------------------------------------------------ enums

export type Lang = 'en' | 'zh';

export type OutcomeClass =
  | 'matched'
  | 'provider_only'
  | 'order_only'
  | 'amount_mismatch'
  | 'currency_mismatch'
  | 'status_mismatch'
  | 'duplicate_payment'
  | 'refund_only_at_provider'
  | 'refund_only_local'
  | 'refund_amount_mismatch'
  | 'fee_variance'
  | 'provider_adjustment'
  | 'timing_difference';

export const OUTCOME_CLASSES: OutcomeClass[] = [
  'matched',
  'provider_only',
  'order_only',
  'amount_mismatch',
  'currency_mismatch',
  'status_mismatch',
  'duplicate_payment',
  'refund_only_at_provider',
  'refund_only_local',
  'refund_amount_mismatch',
  'fee_variance',
  'provider_adjustment',
  'timing_difference',
];

/** Every class a reviewer sees as a discrepancy (all but `matched`). */
export const DISCREPANCY_CLASSES: OutcomeClass[] = OUTCOME_CLASSES.filter((c) => c !== 'matched');

export type MatchRule =
  | 'no_counterpart'
  | 'merchant_order_no'
  | 'provider_txn_id'
  | 'merchant_refund_no'
  | 'provider_refund_id'
  | 'balance_movement'
  | 'date_window';

export type ReviewState = 'open' | 'investigating' | 'resolved';
export const REVIEW_STATES: ReviewState[] = ['open', 'investigating', 'resolved'];

export type ResolutionKind =
  | 'corrected_locally'
  | 'corrected_at_provider'
  | 'written_off'
  | 'not_an_issue'
  | 'auto_matched';
/** Resolutions a reviewer may choose (auto_matched is set by Paydesk itself). */
export const REVIEWER_RESOLUTIONS: ResolutionKind[] = [
  'corrected_locally',
  'corrected_at_provider',
  'written_off',
  'not_an_issue',
];

export type Provider = 'alipay' | 'wechat' | 'stripe' | 'manual';
export const PROVIDERS: Provider[] = ['alipay', 'wechat', 'stripe', 'manual'];

export type Role = 'finance' | 'support' | 'approver' | 'admin';
export const ROLES: Role[] = ['finance', 'support', 'approver', 'admin'];

export type Permission =
  | 'reconcile_run'
  | 'discrepancy_view'
  | 'discrepancy_review'
  | 'report_export'
  | 'order_view'
  | 'refund_request'
  | 'refund_approve'
  | 'key_view'
  | 'key_manage'
  | 'user_manage'
  | 'audit_view'
  | 'settings_manage';

export type RefundState =
  | 'requested'
  | 'awaiting_approval'
  | 'sending'
  | 'processing'
  | 'succeeded'
  | 'failed'
  | 'needs_attention'
  | 'rejected';
export const REFUND_STATES: RefundState[] = [
  'requested',
  'awaiting_approval',
  'sending',
  'processing',
  'succeeded',
  'failed',
  'needs_attention',
  'rejected',
];

export type OrderStatus = 'pending' | 'paid' | 'closed' | 'partially_refunded' | 'refunded';
export type LineKind = 'payment' | 'refund' | 'fee' | 'adjustment' | 'payout';
export type RefundOrigin = 'mirror' | 'paydesk';

export type Purpose =
  | 'alipay_app_key'
  | 'alipay_public_key'
  | 'wechat_merchant_key'
  | 'wechat_apiv3_key'
  | 'wechat_platform_cert'
  | 'wechat_public_key'
  | 'stripe_secret_key'
  | 'stripe_webhook_secret';
export const PURPOSES: Purpose[] = [
  'alipay_app_key',
  'alipay_public_key',
  'wechat_merchant_key',
  'wechat_apiv3_key',
  'wechat_platform_cert',
  'wechat_public_key',
  'stripe_secret_key',
  'stripe_webhook_secret',
];

export type VersionState = 'pending' | 'active' | 'retired';

export type ErrorKind =
  | 'bad_input'
  | 'busy'
  | 'denied'
  | 'unauthenticated'
  | 'cancelled'
  | 'config'
  | 'store'
  | 'provider'
  | 'io'
  | 'vault_locked';
export const ERROR_KINDS: ErrorKind[] = [
  'bad_input',
  'busy',
  'denied',
  'unauthenticated',
  'cancelled',
  'config',
  'store',
  'provider',
  'io',
  'vault_locked',
];

/** A command's rejection. */
export interface AppError {
  kind: ErrorKind;
  message: string;
}

// ------------------------------------------------------------------ session

export type Endpoint = 'sandbox' | 'file' | 'url';

export interface AccountInfo {
  name: string;
  provider: Provider;
  currency: string;
  endpoint: Endpoint;
}

export interface AppInfo {
  workspace: string;
  version: string;
  demo: boolean;
  timezone: string;
  /** "YYYY-MM-DD" in the workspace's timezone. */
  yesterday: string;
  accounts: AccountInfo[];
  /** "HH:MM" or null when no schedule is set. */
  schedule: string | null;
}

export interface Me {
  username: string;
  roles: Role[];
  permissions: Permission[];
}

// ------------------------------------------------------------------ runs

/** paydesk-store/src/runs.rs RunRecord */
export interface RunRecord {
  id: number;
  account: string;
  provider: Provider;
  bill_date: string;
  statement_id: number;
  statement_sha256: string;
  started_by: string;
  started_at: string;
  finished_at: string;
  counts: Partial<Record<OutcomeClass, number>>;
  /** Serialized `Totals` (see RunReport.totals). */
  totals_json: Partial<Totals> | null;
}

/** paydesk-service/src/reconcile.rs StatementInfo */
export interface StatementInfo {
  file: string;
  format: string;
  sha256: string;
  lines: number;
  statement_id: number | null;
  unchanged: boolean;
  superseded: number | null;
}

/** paydesk-service/src/reconcile.rs Totals; maps are keyed by currency code. */
export interface Totals {
  statement_gross: Record<string, number>;
  statement_fees: Record<string, number>;
  statement_net: Record<string, number>;
  discrepancy_abs: Record<string, number>;
  matched: number;
  discrepancies: number;
}

/** paydesk-service/src/reconcile.rs DiscrepancyOut */
export interface DiscrepancyOut {
  key: string;
  class: OutcomeClass;
  rule: MatchRule;
  order_no: string | null;
  provider_txn_id: string | null;
  refund_no: string | null;
  currency: string;
  provider_amount: number | null;
  local_amount: number | null;
  difference: number;
  explanation: string;
  evidence: string | null;
}

/** paydesk-service/src/reconcile.rs RunReport */
export interface RunReport {
  run_id: number | null;
  dry_run: boolean;
  account: string;
  provider: Provider;
  date: string;
  statement: StatementInfo;
  /** Count per outcome class, every class listed. */
  counts: Partial<Record<OutcomeClass, number>>;
  totals: Totals;
  discrepancies: DiscrepancyOut[];
  carry_overs_closed: string[];
  timings_ms: Record<string, number>;
}

export interface RunFailure {
  account: string;
  message: string;
}

export interface RunBatch {
  reports: RunReport[];
  failures: RunFailure[];
  cancelled: boolean;
}

export type RunStage = 'download' | 'verify' | 'parse' | 'match' | 'save';
export const RUN_STAGES: RunStage[] = ['download', 'verify', 'parse', 'match', 'save'];
export type RunTrigger = 'manual' | 'schedule';

export type RunEvent =
  | { kind: 'started'; batch: string; accounts: string[]; date: string; trigger: RunTrigger }
  | {
      kind: 'stage';
      batch: string;
      account: string;
      stage: RunStage;
      done: number;
      total: number | null;
    }
  | { kind: 'account_done'; batch: string; account: string; report: RunReport }
  | { kind: 'account_failed'; batch: string; account: string; message: string }
  | { kind: 'finished'; batch: string; cancelled: boolean };

// ------------------------------------------------------------------ dashboard

export interface DashboardAccount {
  account: string;
  provider: Provider;
  currency: string;
  last_run: RunRecord | null;
  open: number;
  counts: Partial<Record<OutcomeClass, number>>;
}

export interface DashboardDay {
  date: string;
  discrepancies: number;
  open: number;
  /** Per currency, minor units. */
  unmatched: Record<string, number>;
}

/** paydesk-service/src/dashboard.rs KeyAttention: one key warning (see KeyWarning). */
export interface AttentionKey {
  account: string;
  purpose: Purpose;
  /** The version the warning is about, else the active one; null when there is none. */
  version: number | null;
  code: KeyWarningCode;
  /** The same in English (fallback when the UI has no words for `code`). */
  message: string;
  /** The certificate serial the warning is about, if any. */
  serial?: string | null;
  /** The warning's date (RFC 3339): the expiry, or the last certificate download. */
  at?: string | null;
  /** For expires_soon the expiry; otherwise the active version's expiry, if any. */
  expires_at: string | null;
}

export interface Attention {
  open_discrepancies: number;
  overdue_discrepancies: number;
  refunds_awaiting_approval: number;
  refunds_needing_attention: number;
  keys: AttentionKey[];
}

export interface Dashboard {
  accounts: DashboardAccount[];
  /** One entry per day, oldest first. */
  daily: DashboardDay[];
  attention: Attention;
}

// ------------------------------------------------------------------ discrepancies

/** paydesk-core/src/review.rs DiscrepancyRecord */
export interface DiscrepancyRecord {
  id: number;
  account: string;
  provider: Provider;
  bill_date: string;
  key: string;
  class: OutcomeClass;
  rule: MatchRule;
  order_no: string | null;
  provider_txn_id: string | null;
  refund_no: string | null;
  currency: string;
  provider_amount: number | null;
  local_amount: number | null;
  difference: number;
  provider_time: string | null;
  local_time: string | null;
  evidence_file: string | null;
  evidence_line: number | null;
  explanation: string;
  state: ReviewState;
  resolution: ResolutionKind | null;
  note: string | null;
  assignee: string | null;
  due_at: string;
  created_at: string;
  updated_at: string;
  first_run_id: number;
  last_run_id: number;
  present: boolean;
}

/** paydesk-core/src/review.rs ReviewChange; an absent field leaves it as it is. */
export interface ReviewChange {
  state?: ReviewState;
  resolution?: ResolutionKind;
  note?: string;
  /** null asks to clear the assignee (see the report: serde may read null as "unchanged"). */
  assignee?: string | null;
}

/** paydesk-core/src/review.rs HistoryEntry */
export interface HistoryEntry {
  discrepancy_id: number;
  at: string;
  actor: string;
  field: string;
  old_value: string | null;
  new_value: string | null;
}

/** paydesk-core/src/review.rs DiscrepancyFilter. */
export interface Filter {
  account?: string | null;
  provider?: Provider | null;
  date_from?: string | null;
  date_to?: string | null;
  classes?: OutcomeClass[];
  states?: ReviewState[];
  assignee?: string | null;
  /** Absolute difference at least this (minor units). */
  min_abs_difference?: number | null;
  run_id?: number | null;
  text?: string | null;
  include_gone?: boolean;
}

export type Sort =
  | 'date_desc'
  | 'date_asc'
  | 'amount_desc'
  | 'amount_asc'
  | 'class'
  | 'state'
  | 'due_asc';

export interface DiscrepancyPage {
  total: number;
  discrepancies: DiscrepancyRecord[];
}

/** paydesk-core/src/domain.rs SourceRef */
export interface SourceRef {
  file: string;
  line: number;
}

/** paydesk-core/src/domain.rs StatementLine */
export interface StatementLine {
  provider: Provider;
  account: string;
  provider_txn_id: string;
  merchant_order_no: string | null;
  kind: LineKind;
  /** Minor units, signed (refunds negative). */
  gross: number;
  /** Thousandths of a minor unit. */
  fee_milli: number;
  net: number;
  currency: string;
  provider_time: string;
  provider_refund_id: string | null;
  merchant_refund_no: string | null;
  provider_status: string;
  source: SourceRef;
}

/** paydesk-core/src/domain.rs Order */
export interface Order {
  order_no: string;
  provider: Provider;
  provider_txn_id: string | null;
  amount: number;
  currency: string;
  status: OrderStatus;
  created_at: string;
  paid_at: string | null;
  customer_ref: string | null;
}

export interface DiscrepancyDetail {
  record: DiscrepancyRecord;
  history: HistoryEntry[];
  order: Order | null;
  statement_line: StatementLine | null;
}

export interface BulkUpdateResult {
  updated: number;
}

export type ExportFormat = 'csv' | 'xlsx';

export interface ExportResult {
  path: string;
  rows: number;
}

// ------------------------------------------------------------------ orders and refunds

/** paydesk-core/src/domain.rs LocalRefund */
export interface LocalRefund {
  refund_no: string;
  order_no: string;
  provider: Provider;
  amount: number;
  currency: string;
  refunded_at: string;
  provider_refund_id: string | null;
  origin: RefundOrigin;
}

/** paydesk-store/src/refunds.rs RefundRecord */
export interface RefundRecord {
  id: number;
  refund_no: string;
  provider: Provider;
  account: string;
  order_no: string;
  provider_txn_id: string | null;
  order_total: number;
  amount: number;
  currency: string;
  reason: string;
  state: RefundState;
  requested_by: string;
  requested_at: string;
  approval_reason: string | null;
  decided_by: string | null;
  decided_at: string | null;
  decision_note: string | null;
  provider_refund_id: string | null;
  provider_status: string | null;
  failure_reason: string | null;
  attempts: number;
  last_error: string | null;
  refunded_at: string | null;
  updated_at: string;
}

/** paydesk-store/src/refunds.rs RefundEvent */
export interface RefundEvent {
  at: string;
  actor: string;
  from_state: RefundState | null;
  to_state: RefundState;
  note: string | null;
}

export interface RefundDetail {
  refund: RefundRecord;
  events: RefundEvent[];
}

/** paydesk-service/src/refunds.rs ProviderRefundView */
export interface ProviderRefundView {
  refund_no: string;
  /** "succeeded", "processing", "failed", "needs_attention", "pending" or "not_found". */
  state: string;
  provider_status: string;
  provider_refund_id: string | null;
  amount: number | null;
  error: string | null;
}

/** paydesk-service/src/refunds.rs ProviderPaymentView */
export interface ProviderPaymentView {
  state: string | null;
  provider_status: string | null;
  amount: number | null;
  error: string | null;
}

/** paydesk-service/src/refunds.rs OrderDetail */
export interface OrderDetail {
  order: Order;
  account: string | null;
  paid: number;
  currency: string;
  mirror_refunds: LocalRefund[];
  paydesk_refunds: RefundRecord[];
  refunded_outside_paydesk: number;
  refunded_by_paydesk: number;
  in_flight: number;
  refundable: number;
  provider_payment: ProviderPaymentView | null;
  provider_refunds: ProviderRefundView[];
}

export interface RefundLimits {
  /** Major units, e.g. "500.00". */
  support_limit: string;
  admin_limit: string | null;
  daily_count: number;
}

// ------------------------------------------------------------------ keys

export type VaultSource = 'env' | 'key_file' | 'passphrase';

export interface VaultStatus {
  configured: boolean;
  unlocked: boolean;
  source: VaultSource | null;
}

/** paydesk-vault/src/material.rs KeyInfo (optional fields are omitted when absent). */
export interface KeyInfo {
  kind: string;
  fingerprint: string;
  key_bits?: number;
  serial?: string;
  key_id?: string;
  subject?: string;
  not_before?: string;
  not_after?: string;
  hint?: string;
  public_key?: string;
  certificate?: string;
}

/** paydesk-service/src/keys.rs VersionListing */
export interface VersionListing {
  version: number;
  state: VersionState;
  usable: boolean;
  source: string;
  created_at: string;
  created_by: string;
  activated_at: string | null;
  retired_at: string | null;
  usable_until: string | null;
  tested_at: string | null;
  test_outcome: string | null;
  info: KeyInfo;
}

/** paydesk-service/src/keys.rs KeyWarning `code`: stable, the UI words it in its own language. */
export type KeyWarningCode =
  | 'expires_soon'
  | 'expired_no_successor'
  | 'no_active'
  | 'refresh_failed'
  | 'refresh_overdue';

/** paydesk-service/src/keys.rs KeyWarning (optional fields are omitted when absent). */
export interface KeyWarning {
  code: KeyWarningCode;
  version?: number;
  serial?: string;
  /** RFC 3339 UTC: the expiry (expires_soon), the failed attempt (refresh_failed), the last download (refresh_overdue). */
  at?: string;
  /** The same in English. */
  message: string;
}

/** paydesk-store/src/vault.rs VaultRefresh: when an account's WeChat Pay platform
 *  certificates were last downloaded (on a schedule, or on an unknown serial). */
export interface VaultRefresh {
  account: string;
  last_attempt_at: string;
  last_ok_at: string | null;
  last_error: string | null;
}

/** paydesk-service/src/keys.rs KeyListing */
export interface KeyListing {
  account: string;
  purpose: Purpose;
  versions: VersionListing[];
  warnings: KeyWarning[];
  /** Only for wechat_platform_cert, once a download was attempted. */
  refresh?: VaultRefresh;
}

/** paydesk-service/src/keys.rs PublicExport */
export interface PublicExport {
  account: string;
  purpose: Purpose;
  version: number;
  fingerprint: string;
  key_bits: number | null;
  public_key_pem: string;
  public_key_base64: string;
}

export interface KeyImportFields {
  private_key?: string;
  public_key?: string;
  cert?: string;
  key?: string;
  text?: string;
  key_id?: string;
  secret?: string;
  pem?: string;
}

// ------------------------------------------------------------------ users, audit, settings

/** paydesk-store/src/users.rs UserRecord */
export interface UserRecord {
  id: number;
  username: string;
  display_name: string;
  roles: Role[];
  disabled: boolean;
  failed_attempts: number;
  locked_until: string | null;
  created_at: string;
  password_changed_at: string;
}

/** paydesk-store/src/audit.rs AuditEntry */
export interface AuditEntry {
  seq: number;
  at: string;
  actor: string;
  action: string;
  target: string;
  outcome: string;
  /** JSON text. */
  details: string;
  prev_hash: string;
  hash: string;
}

export interface AuditPage {
  total: number;
  entries: AuditEntry[];
}

export interface AuditProblem {
  seq: number;
  reason: string;
}

/** paydesk-store/src/audit.rs AuditVerification */
export interface AuditVerification {
  entries: number;
  head_seq: number;
  head_hash: string;
  /** Empty when the chain is intact. */
  problems: AuditProblem[];
}

export interface SettingsAccount {
  name: string;
  provider: Provider;
  currency: string;
  endpoint: Endpoint;
  timezone: string;
}

export interface Settings {
  workspace: string;
  /** Redacted URL. */
  database: string;
  /** Redacted URL. */
  mirror: string;
  timezone: string;
  schedule: string | null;
  tolerances: { amount: number | string; timing_window_minutes: number; fee: number | string };
  sla: { days: number; large_amount: number | string; large_days: number };
  refunds: { support_limit: string; admin_limit: string | null; daily_count: number };
  /** `[vault]`: the master key file (a path; null: a passphrase) and the key timings. */
  vault: { key_file: string | null; grace_hours: number; certificate_refresh_hours: number; expiry_warning_days: number };
  accounts: SettingsAccount[];
}

export interface ConnectionTest {
  ok: boolean;
  message: string;
}

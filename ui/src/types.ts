// Shapes of the desktop API. The types the commands take and return are generated from the
// Rust types into ./generated/bindings.ts (ts-rs; see ui/API.md): they are re-exported here,
// under the names the pages use. Only UI-side types and constants are written here.

export type {
  ErrorKind,
  ErrorCode,
  KeyWarningCode,
  Endpoint,
  VaultSource,
  RunTrigger,
  Provider,
  LineKind,
  SourceRef,
  StatementLine,
  OrderStatus,
  Order,
  RefundOrigin,
  LocalRefund,
  BillDate,
  DiscrepancyRecord,
  HistoryEntry,
  Currency,
  Money,
  OutcomeClass,
  MatchRule,
  ReviewState,
  ResolutionKind,
  Role,
  Permission,
  RefundState,
  Purpose,
  VersionState,
  KeyInfo,
  RunRecord,
  RefundRecord,
  RefundEvent,
  UserRecord,
  AuditEntry,
  AuditVerification,
  AuditProblem,
  VaultRefresh,
  DiscrepancySort,
  SortKey,
  PageCursor,
  DiscrepancyPage,
  ProviderRefundView,
  ProviderPaymentView,
  OrderDetail,
  RefundDetail,
  RunReport,
  StatementInfo,
  Totals,
  DiscrepancyOut,
  Dashboard,
  AccountCard,
  DayPoint,
  Attention,
  KeyAttention,
  VersionListing,
  KeyListing,
  KeyWarning,
  PublicExport,
  SettingsView,
  TolerancesView,
  SlaView,
  RefundsView,
  VaultView,
  AccountView,
  ConnectionTest,
  Stage,
  AppError,
  AccountInfo,
  AppInfo,
  Me,
  AuditPage,
  FilterIn,
  ChangeIn,
  DiscrepancyDetail,
  BulkResult,
  UpdateResult,
  UndoResult,
  ExportResult,
  RefundLimits,
  VaultStatus,
  ImportFields,
  RunEvent,
  Failure,
  RunBatch,
  Arrival,
  LinkState,
  FlowKind,
  FundFlow,
  PayoutStatus,
  Payout,
  BankLine,
  LinkRule,
  SettleClass,
  BankAccountInfo,
  PayoutOut,
  CompositionOut,
  LinkOut,
  FindingOut,
  BalanceDay,
  SearchOut,
  SettlementReport,
  PayoutRow,
  BankLineRow,
  LinkDetailOut,
  PayoutDetailOut,
  OrderSettlementOut,
  BankImportOut,
  FundFlowImportOut,
  CurrencyTotal,
} from './generated/bindings';
export { ERROR_KINDS, ERROR_CODES, KEY_WARNING_CODES, ARRIVALS, LINK_STATES } from './generated/bindings';

import type {
  AccountCard,
  AccountView,
  BulkResult,
  ChangeIn,
  DayPoint,
  DiscrepancySort,
  Failure,
  FilterIn,
  ImportFields,
  KeyAttention,
  OutcomeClass,
  Provider,
  Purpose,
  RefundState,
  ResolutionKind,
  ReviewState,
  Role,
  SettingsView,
  Stage,
} from './generated/bindings';

// ------------------------------------------------------------------ names the pages use

export type DashboardAccount = AccountCard;
export type DashboardDay = DayPoint;
export type AttentionKey = KeyAttention;
export type Filter = FilterIn;
export type ReviewChange = ChangeIn;
export type Sort = DiscrepancySort;
export type BulkUpdateResult = BulkResult;
export type RunFailure = Failure;
export type RunStage = Stage;
export type KeyImportFields = ImportFields;
export type Settings = SettingsView;
export type SettingsAccount = AccountView;

// ------------------------------------------------------------------ UI-only

export type Lang = 'en' | 'zh';
export type ExportFormat = 'csv' | 'xlsx';

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
export const REVIEW_STATES: ReviewState[] = ['open', 'investigating', 'resolved'];
/** Resolutions a reviewer may choose (auto_matched is set by Paydesk itself). */
export const REVIEWER_RESOLUTIONS: ResolutionKind[] = [
  'corrected_locally',
  'corrected_at_provider',
  'written_off',
  'not_an_issue',
];
export const PROVIDERS: Provider[] = ['alipay', 'wechat', 'stripe', 'manual'];
export const ROLES: Role[] = ['finance', 'support', 'approver', 'admin'];
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
export const RUN_STAGES: RunStage[] = ['download', 'verify', 'parse', 'match', 'save'];

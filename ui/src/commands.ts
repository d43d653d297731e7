// One typed function per backend (Tauri) command. Pages call these instead of `call` directly.
// Every wrapper goes through `call` (./api), which keeps the error handling (AppError,
// unauthenticated → login); tests that mock `call` or the Tauri IPC keep working.
// The argument objects' keys are exactly the ones the backend expects (Tauri maps camelCase
// keys such as `queryProvider` / `graceHours` to the Rust snake_case parameters): do not rename them.
import { call } from './api';
import type {
  AppInfo,
  AuditPage,
  AuditVerification,
  BankAccountInfo,
  BankImportOut,
  BulkResult,
  ChangeIn,
  ConnectionTest,
  CurrencyTotal,
  Dashboard,
  DiscrepancyDetail,
  DiscrepancyPage,
  DiscrepancySort,
  ExportFormat,
  ExportResult,
  FilterIn,
  FindingOut,
  FundFlowImportOut,
  KeyListing,
  Lang,
  LinkDetailOut,
  LinkOut,
  LinkState,
  Me,
  Order,
  OrderDetail,
  OrderSettlementOut,
  PageCursor,
  PayoutDetailOut,
  PublicExport,
  Purpose,
  RefundDetail,
  RefundLimits,
  RefundRecord,
  RefundState,
  Role,
  RunBatch,
  RunRecord,
  SettingsView,
  SettlementReport,
  UndoResult,
  UpdateResult,
  UserRecord,
  VaultStatus,
  VersionListing,
} from './types';

// ------------------------------------------------------------------ session

export const appInfo = () => call<AppInfo>('app_info');
export const me = () => call<Me | null>('me');
export const login = (username: string, password: string) => call<Me>('login', { username, password });
export const logout = () => call<null>('logout');

// ------------------------------------------------------------------ dashboard / reconcile

export const dashboard = (days: number) => call<Dashboard>('dashboard', { days });
export const runs = (account: string | null) => call<RunRecord[]>('runs', { account });
export const startReconcile = (accounts: string[] | null, date: string) =>
  call<RunBatch>('start_reconcile', { accounts, date });
export const cancelReconcile = () => call<boolean>('cancel_reconcile');

// ------------------------------------------------------------------ discrepancies

/** `from`: the block right after or before a row of a block already shown (read by keyset). */
export const listDiscrepancies = (
  filter: FilterIn,
  sort: DiscrepancySort,
  limit: number,
  offset: number,
  from?: { after: PageCursor } | { before: PageCursor },
) => call<DiscrepancyPage>('list_discrepancies', { filter, sort, limit, offset, ...from });
/** The view's count and amount at stake per currency (largest first). */
export const discrepancyTotals = (filter: FilterIn) => call<CurrencyTotal[]>('discrepancy_totals', { filter });
export const discrepancyDetail = (id: number) => call<DiscrepancyDetail>('discrepancy_detail', { id });
/** The updated record and the id that undoes the change (null: nothing changed). */
export const updateDiscrepancy = (id: number, change: ChangeIn) =>
  call<UpdateResult>('update_discrepancy', { id, change });
export const bulkUpdateDiscrepancies = (filter: FilterIn, change: ChangeIn, expected: number) =>
  call<BulkResult>('bulk_update_discrepancies', { filter, change, expected });
/** One change to the rows a person chose (all or nothing: an unknown id fails it). */
export const bulkUpdateDiscrepanciesByIds = (ids: number[], change: ChangeIn) =>
  call<BulkResult>('bulk_update_discrepancies_by_ids', { ids, change });
/** Takes back a review change its author made moments ago (rows changed since are skipped). */
export const undoReviewChange = (undoId: number) => call<UndoResult>('undo_review_change', { undoId });
export const exportDiscrepancies = (filter: FilterIn, format: ExportFormat, lang: Lang) =>
  call<ExportResult>('export_discrepancies', { filter, format, lang });
export const reviewers = () => call<string[]>('reviewers');

// ------------------------------------------------------------------ orders / refunds

export const searchOrders = (text: string, limit: number) => call<Order[]>('search_orders', { text, limit });
export const orderDetail = (key: string, queryProvider: boolean) =>
  call<OrderDetail>('order_detail', { key, queryProvider });
export const refundLimits = () => call<RefundLimits>('refund_limits');
export const requestRefund = (order: string, amount: string, reason: string, account: string | null) =>
  call<RefundRecord>('request_refund', { order, amount, reason, account });
export const refunds = (states: RefundState[] | null, limit: number) =>
  call<RefundRecord[]>('refunds', { states, limit });
export const decideRefund = (id: number, approve: boolean, note: string | null) =>
  call<RefundRecord>('decide_refund', { id, approve, note });
export const refundDetail = (id: number) => call<RefundDetail>('refund_detail', { id });

// ------------------------------------------------------------------ settlements (资金对账)

export const settlementBankAccounts = () => call<BankAccountInfo[]>('settlement_bank_accounts');
export const settlementRun = (bank: string, date: string, dryRun: boolean) =>
  call<SettlementReport>('settlement_run', { bank, date, dryRun });
export const settlementLinks = (bank: string, linkState: LinkState | null) =>
  call<LinkOut[]>('settlement_links', { bank, linkState });
export const settlementFindings = (bank: string) => call<FindingOut[]>('settlement_findings', { bank });
export const settlementLink = (id: number) => call<LinkDetailOut>('settlement_link', { id });
export const settlementPayout = (id: number) => call<PayoutDetailOut>('settlement_payout', { id });
export const settlementDecide = (id: number, accept: boolean, note: string | null) =>
  call<LinkOut>('settlement_decide', { id, accept, note });
export const settlementFindingReview = (id: number, resolved: boolean, note: string | null) =>
  call<FindingOut>('settlement_finding_review', { id, resolved, note });
export const settlementFollow = (order: string) => call<OrderSettlementOut>('settlement_follow', { order });
export const bankImport = (bank: string, path: string) => call<BankImportOut>('bank_import', { bank, path });
export const fundflowImport = (account: string, path: string) =>
  call<FundFlowImportOut>('fundflow_import', { account, path });

// ------------------------------------------------------------------ admin

export const settings = () => call<SettingsView>('settings');
export const saveSchedule = (time: string | null) => call<AppInfo>('save_schedule', { time });
export const users = () => call<UserRecord[]>('users');
export const createUser = (username: string, password: string, roles: Role[]) =>
  call<UserRecord>('create_user', { username, password, roles });
export const setDisabled = (username: string, disabled: boolean) =>
  call<UserRecord>('set_disabled', { username, disabled });
export const setRoles = (username: string, roles: Role[]) => call<UserRecord>('set_roles', { username, roles });
export const resetPassword = (username: string, password: string) =>
  call<null>('reset_password', { username, password });
/** `from`/`to`: days (YYYY-MM-DD) of the business timezone, both included; `target`: a substring. */
export type AuditEntriesArgs = {
  limit: number;
  offset: number;
  action: string | null;
  actor: string | null;
  target: string | null;
  from: string | null;
  to: string | null;
};
export const auditEntries = (args: AuditEntriesArgs) => call<AuditPage>('audit_entries', args);
export const auditVerify = () => call<AuditVerification>('audit_verify');
export const testConnection = (url: string) => call<ConnectionTest>('test_connection', { url });

// ------------------------------------------------------------------ keys (vault)

export const vaultStatus = () => call<VaultStatus>('vault_status');
export const vaultInit = (passphrase: string) => call<VaultStatus>('vault_init', { passphrase });
export const vaultUnlock = (passphrase: string) => call<VaultStatus>('vault_unlock', { passphrase });
export const keysList = () => call<KeyListing[]>('keys_list');
export const keysRefreshWechatCerts = (account: string) =>
  call<string[]>('keys_refresh_wechat_certs', { account });
export const keysExportPublic = (account: string, purpose: Purpose, version: number) =>
  call<PublicExport>('keys_export_public', { account, purpose, version });
export const keysGenerate = (account: string, purpose: Purpose, bits: number) =>
  call<PublicExport>('keys_generate', { account, purpose, bits });
export const keysImport = (account: string, purpose: Purpose, fields: Record<string, string>) =>
  call<VersionListing>('keys_import', { account, purpose, fields });
export const keysTest = (account: string, purpose: Purpose, version: number) =>
  call<string>('keys_test', { account, purpose, version });
export const keysRegisterWithSandbox = (account: string, purpose: Purpose, version: number) =>
  call<null>('keys_register_with_sandbox', { account, purpose, version });
export const keysActivate = (account: string, purpose: Purpose, version: number, graceHours: number) =>
  call<null>('keys_activate', { account, purpose, version, graceHours });
export const keysRetire = (account: string, purpose: Purpose, version: number, graceHours: number) =>
  call<null>('keys_retire', { account, purpose, version, graceHours });

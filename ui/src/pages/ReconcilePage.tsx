// Start a reconciliation, watch it download → verify → parse → match → save per account,
// see what it found, and browse earlier runs.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import {
  Alert,
  Button,
  Card,
  DatePicker,
  Progress,
  Select,
  Space,
  Steps,
  Table,
  Tag,
  Tooltip,
  Typography,
} from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { CalendarOutlined, PlayCircleOutlined, ReloadOutlined, StopOutlined } from '@ant-design/icons';
import dayjs from 'dayjs';
import type { Dayjs } from 'dayjs';
import { useTranslation } from 'react-i18next';
import { onEvent, toAppError } from '../api';
import * as commands from '../commands';
import { useSession } from '../session';
import { useNavigate } from '../nav';
import { showError } from '../components/ErrorNotice';
import { useCommand } from '../hooks/useCommand';
import { COLOR, themed } from '../styles';
import { formatCount, formatDate, formatDateTime, formatMoney, shortHash } from '../format';
import type { OutcomeClass, RunBatch, RunEvent, RunRecord, RunReport, RunStage, RunTrigger } from '../types';
import { DISCREPANCY_CLASSES, RUN_STAGES } from '../types';

const ALL = '__all__';
const num: React.CSSProperties = { fontVariantNumeric: 'tabular-nums', textAlign: 'right' };

export type AccountRunState = 'running' | 'done' | 'failed' | 'cancelled';

export interface AccountProgress {
  account: string;
  stage: RunStage | null;
  done: number;
  total: number | null;
  state: AccountRunState;
  message?: string;
  report?: RunReport;
}

export interface BatchProgress {
  batch: number;
  date: string;
  trigger: RunTrigger;
  accounts: string[];
  byAccount: Record<string, AccountProgress>;
  finished: boolean;
  cancelled: boolean;
}

/** Folds one run-event into the batch progress (pure; exported for tests). */
export function applyRunEvent(prev: BatchProgress | null, ev: RunEvent): BatchProgress | null {
  if (ev.kind === 'started') {
    const byAccount: Record<string, AccountProgress> = {};
    for (const a of ev.accounts) {
      byAccount[a] = { account: a, stage: null, done: 0, total: null, state: 'running' };
    }
    return {
      batch: ev.batch,
      date: ev.date,
      trigger: ev.trigger,
      accounts: ev.accounts,
      byAccount,
      finished: false,
      cancelled: false,
    };
  }
  // Events of a batch we did not see start (e.g. the page opened mid-run): adopt it.
  let cur = prev;
  if (!cur || cur.batch !== ev.batch) {
    cur = {
      batch: ev.batch,
      date: ev.kind === 'account_done' ? ev.report.date : '',
      trigger: 'manual',
      accounts: [],
      byAccount: {},
      finished: false,
      cancelled: false,
    };
  }
  const ensure = (account: string): AccountProgress =>
    cur!.byAccount[account] ?? { account, stage: null, done: 0, total: null, state: 'running' };
  const withAccount = (p: AccountProgress): BatchProgress => ({
    ...cur!,
    accounts: cur!.accounts.includes(p.account) ? cur!.accounts : [...cur!.accounts, p.account],
    byAccount: { ...cur!.byAccount, [p.account]: p },
  });
  switch (ev.kind) {
    case 'stage': {
      const a = ensure(ev.account);
      return withAccount({ ...a, stage: ev.stage, done: ev.done, total: ev.total, state: 'running' });
    }
    case 'account_done': {
      const a = ensure(ev.account);
      return withAccount({ ...a, stage: 'save', state: 'done', report: ev.report, done: a.total ?? a.done });
    }
    case 'account_failed': {
      const a = ensure(ev.account);
      return withAccount({ ...a, state: 'failed', message: ev.message });
    }
    case 'finished': {
      const byAccount: Record<string, AccountProgress> = {};
      for (const [k, a] of Object.entries(cur.byAccount)) {
        byAccount[k] = a.state === 'running' ? { ...a, state: ev.cancelled ? 'cancelled' : 'failed' } : a;
      }
      return { ...cur, byAccount, finished: true, cancelled: ev.cancelled };
    }
  }
  return cur;
}

/** Merges the command's final answer in, in case events were missed. */
export function applyBatchResult(prev: BatchProgress | null, res: RunBatch, date: string): BatchProgress {
  const cur: BatchProgress = prev ?? {
    batch: 0,
    date,
    trigger: 'manual',
    accounts: [],
    byAccount: {},
    finished: false,
    cancelled: false,
  };
  const byAccount = { ...cur.byAccount };
  const accounts = [...cur.accounts];
  const add = (a: string) => {
    if (!accounts.includes(a)) accounts.push(a);
  };
  for (const r of res.reports) {
    add(r.account);
    byAccount[r.account] = { ...(byAccount[r.account] ?? { done: 0, total: null }), account: r.account, stage: 'save', state: 'done', report: r };
  }
  for (const f of res.failures) {
    add(f.account);
    byAccount[f.account] = {
      ...(byAccount[f.account] ?? { stage: null, done: 0, total: null }),
      account: f.account,
      state: 'failed',
      message: f.message,
    };
  }
  for (const [k, a] of Object.entries(byAccount)) {
    if (a.state === 'running') byAccount[k] = { ...a, state: res.cancelled ? 'cancelled' : 'failed' };
  }
  return { ...cur, accounts, byAccount, finished: true, cancelled: res.cancelled || cur.cancelled };
}

function stepStatus(p: AccountProgress, idx: number): 'wait' | 'process' | 'finish' | 'error' {
  if (p.state === 'done') return 'finish';
  const cur = p.stage ? RUN_STAGES.indexOf(p.stage) : -1;
  if (idx < cur) return 'finish';
  if (idx === cur) {
    if (p.state === 'failed') return 'error';
    if (p.state === 'cancelled') return 'wait';
    return 'process';
  }
  return 'wait';
}

/** The account's statement had no lines: the provider had no activity that day. */
function isQuietDay(p: AccountProgress): boolean {
  return !!p.report && (p.report.statement.no_activity || p.report.statement.lines === 0);
}

function AccountProgressCard({ p }: { p: AccountProgress }) {
  const { t } = useTranslation('reconcile');
  const stateColor: Record<AccountRunState, string> = {
    running: 'processing',
    done: 'success',
    failed: 'error',
    cancelled: 'warning',
  };
  const percent = p.total && p.total > 0 ? Math.min(100, Math.round((p.done / p.total) * 100)) : null;
  // A day the provider had nothing for is a result, not a failure: grey, in words.
  const quiet = p.state === 'done' && isQuietDay(p);
  return (
    <div
      data-testid={`run-progress-${p.account}`}
      data-stage={p.stage ?? ''}
      data-state={p.state}
      data-no-activity={quiet ? 'true' : 'false'}
      style={{ padding: '10px 12px', border: `1px solid ${COLOR.border}`, borderRadius: 6, marginBottom: 10 }}
    >
      <Space style={{ width: '100%', justifyContent: 'space-between', marginBottom: 8 }}>
        <b>{p.account}</b>
        <Space>
          {p.state === 'running' && p.stage && p.total != null && (
            <Typography.Text type="secondary" style={num}>
              {t('done_of_total', { done: p.done, total: p.total })}
            </Typography.Text>
          )}
          {p.state === 'running' && p.stage && p.total == null && p.done > 0 && (
            <Typography.Text type="secondary" style={num}>
              {t('done_count', { done: p.done })}
            </Typography.Text>
          )}
          {p.state === 'running' && !p.stage ? (
            <Tag>{t('common:run_state.idle')}</Tag>
          ) : quiet ? (
            <Tooltip title={t('no_activity_hint')}>
              <Tag data-testid={`run-no-activity-${p.account}`}>{t('no_activity')}</Tag>
            </Tooltip>
          ) : (
            <Tag color={stateColor[p.state]}>{t(`common:run_state.${p.state}`)}</Tag>
          )}
        </Space>
      </Space>
      <Steps
        size="small"
        current={p.stage ? RUN_STAGES.indexOf(p.stage) : 0}
        items={RUN_STAGES.map((s, i) => ({
          title: t(`common:stage.${s}`),
          status: stepStatus(p, i),
        }))}
      />
      {p.state === 'running' && percent !== null && (
        <Progress percent={percent} size="small" status="active" style={{ marginTop: 6, marginBottom: 0 }} />
      )}
      {p.state === 'failed' && p.message && (
        <Alert type="error" showIcon style={{ marginTop: 8 }} message={t('failed_title')} description={p.message} data-testid={`run-error-${p.account}`} />
      )}
      {p.state === 'done' && p.report && (
        <Typography.Text type="secondary" style={{ display: 'block', marginTop: 6 }}>
          {t('account_summary', {
            lines: p.report.statement.lines,
            matched: p.report.totals.matched,
            discrepancies: p.report.totals.discrepancies,
          })}
          {p.report.statement.unchanged ? ` · ${t('unchanged')}` : ''}
        </Typography.Text>
      )}
    </div>
  );
}

function FinishedSummary({ batch }: { batch: BatchProgress }) {
  const { t } = useTranslation('reconcile');
  const { lang } = useSession();
  const navigate = useNavigate();
  const list = batch.accounts.map((a) => batch.byAccount[a]).filter(Boolean);
  const done = list.filter((p) => p.state === 'done');
  const failed = list.filter((p) => p.state === 'failed');
  const quiet = done.filter(isQuietDay);
  const cancelled = list.filter((p) => p.state === 'cancelled');
  const matched = done.reduce((s, p) => s + (p.report?.totals.matched ?? 0), 0);
  const discrepancies = done.reduce((s, p) => s + (p.report?.totals.discrepancies ?? 0), 0);
  const counts: Partial<Record<OutcomeClass, number>> = {};
  const atStake: Record<string, number> = {};
  for (const p of done) {
    for (const c of DISCREPANCY_CLASSES) counts[c] = (counts[c] ?? 0) + (p.report?.counts[c] ?? 0);
    for (const [cur, v] of Object.entries(p.report?.totals.discrepancy_abs ?? {})) atStake[cur] = (atStake[cur] ?? 0) + v;
  }
  const date = batch.date || done[0]?.report?.date || '';
  const type = failed.length ? 'error' : batch.cancelled ? 'warning' : discrepancies ? 'warning' : 'success';
  return (
    <Alert
      data-testid="run-finished"
      data-cancelled={batch.cancelled ? 'true' : 'false'}
      type={type}
      showIcon
      style={{ marginBottom: 12 }}
      message={
        batch.cancelled
          ? t('finished_cancelled', { done: done.length, total: list.length })
          : t('finished', { date: formatDate(date, lang), done: done.length, total: list.length })
      }
      description={
        <div>
          <div>
            {t('finished_counts', { matched: formatCount(matched, lang), discrepancies: formatCount(discrepancies, lang) })}
            {failed.length > 0 && ` · ${t('finished_failed', { count: failed.length })}`}
            {quiet.length > 0 && ` · ${t('finished_no_activity', { count: quiet.length })}`}
            {cancelled.length > 0 && ` · ${t('finished_not_run', { count: cancelled.length })}`}
            {Object.entries(atStake)
              .filter(([, v]) => v !== 0)
              .map(([cur, v]) => ` · ${t('at_stake', { amount: formatMoney(v, cur, lang) })}`)
              .join('')}
          </div>
          {discrepancies > 0 && (
            <div style={{ marginTop: 6 }}>
              {DISCREPANCY_CLASSES.filter((c) => (counts[c] ?? 0) > 0).map((c) => (
                <Tag
                  key={c}
                  color="orange"
                  style={{ cursor: 'pointer', marginBottom: 4 }}
                  data-testid={`run-finished-class-${c}`}
                  onClick={() => navigate('discrepancies', { classes: c, date_from: date, date_to: date })}
                >
                  {t(`common:class.${c}`)}: {counts[c]}
                </Tag>
              ))}
            </div>
          )}
          <MatchedNotes done={done} />
          {done.some((p) => (p.report?.totals.discrepancies ?? 0) > 0) && (
            <Space wrap style={{ marginTop: 6 }}>
              {done
                .filter((p) => (p.report?.totals.discrepancies ?? 0) > 0)
                .map((p) => (
                  <Button
                    key={p.account}
                    size="small"
                    data-testid={`run-finished-open-${p.account}`}
                    onClick={() => navigate('discrepancies', { account: p.account, date_from: date, date_to: date })}
                  >
                    {t('open_discrepancies', { account: p.account, count: p.report?.totals.discrepancies ?? 0 })}
                  </Button>
                ))}
            </Space>
          )}
        </div>
      }
    />
  );
}

/** How many notes a finished batch shows; the rest are in `paydesk reconcile --json`. */
const NOTES_SHOWN = 20;

/** Lines matched on a basis other than their amount by order number (a fee base, a
 * presentment currency, a fallback identifier), each saying what was compared. */
function MatchedNotes({ done }: { done: AccountProgress[] }) {
  const { t, i18n } = useTranslation('reconcile');
  const zh = i18n.language.startsWith('zh');
  const notes = done.flatMap((p) => (p.report?.matched_notes ?? []).map((n) => ({ account: p.account, n })));
  if (notes.length === 0) return null;
  return (
    <details style={{ marginTop: 6 }} data-testid="run-finished-matched-notes">
      <summary style={{ cursor: 'pointer' }}>{t('matched_notes', { count: notes.length })}</summary>
      <ul style={{ margin: '4px 0 0 16px', padding: 0 }}>
        {notes.slice(0, NOTES_SHOWN).map(({ account, n }) => (
          <li key={`${account}-${n.line_no ?? ''}-${n.order_no ?? n.refund_no ?? ''}`}>
            {account} · {n.order_no ?? n.refund_no ?? '—'}: {zh ? n.text_zh : n.text}
          </li>
        ))}
      </ul>
      {notes.length > NOTES_SHOWN && <div>{t('matched_notes_more', { count: notes.length - NOTES_SHOWN })}</div>}
    </details>
  );
}

function discrepancyCount(r: RunRecord): number {
  return DISCREPANCY_CLASSES.reduce((s, c) => s + (r.counts[c] ?? 0), 0);
}

export default function ReconcilePage() {
  const { t } = useTranslation('reconcile');
  const { appInfo, lang, can } = useSession();
  const [account, setAccount] = useState<string>(ALL);
  const [date, setDate] = useState<Dayjs | null>(() => (appInfo ? dayjs(appInfo.yesterday) : dayjs().subtract(1, 'day')));
  const [batch, setBatch] = useState<BatchProgress | null>(null);
  const [starting, setStarting] = useState(false);
  const [cancelling, setCancelling] = useState(false);
  const [runs, setRuns] = useState<RunRecord[]>([]);
  const { run: readRuns, loading: runsLoading } = useCommand(() => commands.runs(null), {
    // The history is secondary here: a failure is a notification, not a box.
    onError: (e) => {
      showError(e);
      return true;
    },
  });
  const dateWrap = useRef<HTMLSpanElement>(null);

  // The e2e suite types into the DatePicker's <input>: put the test id there.
  useEffect(() => {
    const input = dateWrap.current?.querySelector('input');
    input?.setAttribute('data-testid', 'reconcile-date');
  });

  useEffect(() => {
    if (appInfo && !date) setDate(dayjs(appInfo.yesterday));
  }, [appInfo, date]);

  const loadRuns = useCallback(async () => {
    const r = await readRuns();
    if (r.status === 'ok') setRuns(r.value);
  }, [readRuns]);

  useEffect(() => {
    void loadRuns();
  }, [loadRuns]);

  useEffect(() => {
    let unlisten: (() => void) | null = null;
    let alive = true;
    void onEvent<RunEvent>('run-event', (ev) => {
      setBatch((b) => applyRunEvent(b, ev));
      if (ev.kind === 'finished') void loadRuns();
    }).then((u) => {
      if (alive) unlisten = u;
      else u();
    });
    return () => {
      alive = false;
      unlisten?.();
    };
  }, [loadRuns]);

  const running = starting || (batch !== null && !batch.finished);

  const start = async () => {
    if (!date) {
      showError({ kind: 'bad_input', message: t('date_required') });
      return;
    }
    const day = date.format('YYYY-MM-DD');
    setStarting(true);
    setBatch(null);
    try {
      const res = await commands.startReconcile(account === ALL ? null : [account], day);
      setBatch((b) => applyBatchResult(b, res, day));
      void loadRuns();
    } catch (e) {
      const err = toAppError(e);
      if (err.kind !== 'cancelled') showError(err);
      setBatch((b) => (b && !b.finished ? applyRunEvent(b, { kind: 'finished', batch: b.batch, cancelled: err.kind === 'cancelled' }) : b));
    } finally {
      setStarting(false);
    }
  };

  const cancel = async () => {
    setCancelling(true);
    try {
      await commands.cancelReconcile();
    } catch (e) {
      showError(e);
    } finally {
      setCancelling(false);
    }
  };

  const accountOptions = useMemo(
    () => [
      { value: ALL, label: t('all_accounts') },
      ...(appInfo?.accounts ?? []).map((a) => ({ value: a.name, label: a.name })),
    ],
    [appInfo, t],
  );

  const columns: ColumnsType<RunRecord> = [
    {
      title: t('col.date'),
      dataIndex: 'bill_date',
      key: 'bill_date',
      render: (d: string) => formatDate(d, lang),
      sorter: (a, b) => a.bill_date.localeCompare(b.bill_date),
    },
    {
      title: t('col.account'),
      dataIndex: 'account',
      key: 'account',
      filters: Array.from(new Set(runs.map((r) => r.account))).map((a) => ({ text: a, value: a })),
      onFilter: (v, r) => r.account === v,
    },
    {
      title: t('col.statement'),
      key: 'statement',
      render: (_: unknown, r) => (
        <Typography.Text code copyable={{ text: r.statement_sha256 }} title={r.statement_sha256}>
          {shortHash(r.statement_sha256)}
        </Typography.Text>
      ),
    },
    { title: t('col.by'), dataIndex: 'started_by', key: 'started_by' },
    {
      title: t('col.when'),
      dataIndex: 'finished_at',
      key: 'finished_at',
      render: (v: string, r) => (
        <span title={`${formatDateTime(r.started_at, lang)} → ${formatDateTime(v, lang)}`}>{formatDateTime(v, lang)}</span>
      ),
    },
    {
      title: t('col.matched'),
      key: 'matched',
      align: 'right',
      render: (_: unknown, r) => <span style={num}>{formatCount(r.counts.matched ?? 0, lang)}</span>,
    },
    {
      title: t('col.discrepancies'),
      key: 'discrepancies',
      align: 'right',
      render: (_: unknown, r) => {
        const n = discrepancyCount(r);
        return (
          <span style={{ ...num, color: n ? themed('warning', '#d46b08') : undefined }} data-testid={`run-row-discrepancies-${r.id}`}>
            {formatCount(n, lang)}
          </span>
        );
      },
    },
    {
      title: t('col.state'),
      key: 'state',
      render: () => <Tag color="success">{t('common:run_state.done')}</Tag>,
    },
  ];

  const progressList = batch ? batch.accounts.map((a) => batch.byAccount[a]).filter(Boolean) : [];

  return (
    <div>
      <Typography.Title level={3} style={{ marginTop: 0 }}>
        {t('title')}
      </Typography.Title>

      <Card size="small" style={{ marginBottom: 16 }}>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (!running) void start();
          }}
        >
          <Space wrap align="end" size="middle">
            <label>
              <div style={{ marginBottom: 4 }}>{t('account')}</div>
              <Select
                data-testid="reconcile-account"
                style={{ minWidth: 220 }}
                value={account}
                onChange={setAccount}
                options={accountOptions}
                disabled={running}
              />
            </label>
            <label>
              <div style={{ marginBottom: 4 }}>{t('date')}</div>
              <span ref={dateWrap}>
                <DatePicker
                  value={date}
                  onChange={(d) => setDate(d)}
                  format="YYYY-MM-DD"
                  allowClear={false}
                  disabled={running}
                  disabledDate={(d) => d.isAfter(dayjs(), 'day')}
                />
              </span>
            </label>
            <Button
              type="primary"
              htmlType="submit"
              icon={<PlayCircleOutlined />}
              loading={running}
              disabled={!can('reconcile_run')}
              data-testid="reconcile-start"
            >
              {running ? t('running') : t('start')}
            </Button>
            <Button
              danger
              icon={<StopOutlined />}
              onClick={() => void cancel()}
              disabled={!running}
              loading={cancelling}
              data-testid="reconcile-cancel"
            >
              {t('cancel')}
            </Button>
          </Space>
        </form>
        <Typography.Paragraph type="secondary" style={{ marginTop: 12, marginBottom: 0 }} data-testid="reconcile-schedule">
          <CalendarOutlined />{' '}
          {appInfo?.schedule ? t('schedule.daily', { time: appInfo.schedule }) : t('schedule.none')}
          {!appInfo?.schedule && <> · {t('schedule.hint')}</>}
        </Typography.Paragraph>
      </Card>

      {batch && (
        <Card
          size="small"
          style={{ marginBottom: 16 }}
          title={
            <Space>
              <span>{t('progress_title', { date: batch.date ? formatDate(batch.date, lang) : '' })}</span>
              {batch.trigger === 'schedule' && <Tag color="purple">{t('trigger.schedule')}</Tag>}
            </Space>
          }
        >
          {batch.finished && <FinishedSummary batch={batch} />}
          {progressList.map((p) => (
            <AccountProgressCard key={p.account} p={p} />
          ))}
        </Card>
      )}

      <Card
        size="small"
        title={t('history')}
        extra={
          <Button size="small" icon={<ReloadOutlined />} onClick={() => void loadRuns()} loading={runsLoading}>
            {t('common:actions.refresh')}
          </Button>
        }
      >
        <Table<RunRecord>
          data-testid="runs-table"
          rowKey="id"
          size="small"
          loading={runsLoading}
          columns={columns}
          dataSource={runs}
          pagination={{ pageSize: 20, hideOnSinglePage: true }}
          locale={{ emptyText: t('no_runs') }}
        />
      </Card>
    </div>
  );
}

// Settlements (资金对账): did every provider payout reach the bank? Pick a bank account and a
// day, run settlement, and read the payouts by day with where each stands, open one to see
// what it settles and the bank line beside it, decide the grouped suggestions, read the
// findings in plain words, and follow the provider balances. Bank statements and fund-flow
// files are imported from here too.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import {
  Alert,
  Badge,
  Button,
  Card,
  Checkbox,
  DatePicker,
  Empty,
  Input,
  Modal,
  Progress,
  Select,
  Space,
  Statistic,
  Table,
  Tabs,
  Tag,
  Typography,
} from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { ImportOutlined, NodeIndexOutlined, PlayCircleOutlined } from '@ant-design/icons';
import dayjs from 'dayjs';
import type { Dayjs } from 'dayjs';
import { useTranslation } from 'react-i18next';
import * as commands from '../../commands';
import { Chart } from '../../components/Chart';
import { ErrorAlert, showError } from '../../components/ErrorNotice';
import { useCommand } from '../../hooks/useCommand';
import { useNavParams } from '../../nav';
import { useSession } from '../../session';
import { formatDate, formatMoney } from '../../format';
import { amountText, below, mono, small } from '../../styles';
import type {
  BankAccountInfo,
  FindingOut,
  LinkOut,
  OrderSettlementOut,
  PayoutOut,
  SettlementReport,
} from '../../types';
import { ARRIVALS } from '../../types';
import FindingsTab from './FindingsTab';
import ImportDialog from './ImportDialog';
import type { ImportKind } from './ImportDialog';
import PayoutDrawer, { ArrivalTag } from './PayoutDrawer';
import SuggestionsTab from './SuggestionsTab';
import { balanceChartOption, formatTotals, groupByDay } from './settlementUi';

type TabKey = 'payouts' | 'suggestions' | 'findings' | 'balances';

interface PayoutRowView extends PayoutOut {
  /** Rows of its day this row spans in the day column (0: not the day's first). */
  daySpan: number;
  dayLabel: string;
}

function PayoutsByDay({ payouts, onOpen }: { payouts: PayoutOut[]; onOpen: (p: PayoutOut) => void }) {
  const { t } = useTranslation('settlements');
  const { lang } = useSession();
  const rows: PayoutRowView[] = useMemo(
    () =>
      groupByDay(payouts).flatMap((d) =>
        d.payouts.map((p, i) => ({
          ...p,
          daySpan: i === 0 ? d.payouts.length : 0,
          dayLabel: t('day_summary', { count: d.payouts.length, amounts: formatTotals(d.totals, lang) }),
        })),
      ),
    [payouts, t, lang],
  );
  const columns: ColumnsType<PayoutRowView> = [
    {
      title: t('col.day'),
      key: 'day',
      width: 220,
      onCell: (r) => ({ rowSpan: r.daySpan }),
      render: (_: unknown, r) => (
        <div data-testid={`payout-day-${r.payout.arrival_date}`}>
          <b>{formatDate(r.payout.arrival_date, lang)}</b>
          <div>
            <Typography.Text type="secondary" style={small}>
              {r.dayLabel}
            </Typography.Text>
          </div>
        </div>
      ),
    },
    {
      title: t('col.payout'),
      key: 'payout',
      render: (_: unknown, r) => (
        <Button
          type="link"
          style={{ ...mono, paddingInline: 0 }}
          onClick={() => onOpen(r)}
          aria-label={t('open_payout', { id: r.payout.payout_id })}
          data-testid={`payout-open-${r.id}`}
        >
          {r.payout.payout_id}
        </Button>
      ),
    },
    { title: t('col.account'), key: 'account', render: (_: unknown, r) => r.payout.account },
    {
      title: t('col.amount'),
      key: 'amount',
      align: 'right',
      render: (_: unknown, r) => (
        <span style={amountText} data-testid={`payout-amount-${r.id}`}>
          {formatMoney(r.payout.amount, r.payout.currency, lang)}
        </span>
      ),
    },
    {
      title: t('col.arrival'),
      key: 'arrival',
      render: (_: unknown, r) => (
        <span data-testid={`payout-arrival-${r.id}`} data-arrival={r.arrival}>
          <ArrivalTag arrival={r.arrival} />
        </span>
      ),
    },
    { title: t('col.status'), key: 'status', render: (_: unknown, r) => t(`status.${r.payout.status}`) },
  ];
  return (
    <Table<PayoutRowView>
      data-testid="payouts-table"
      size="small"
      rowKey="id"
      columns={columns}
      dataSource={rows}
      pagination={false}
      bordered
      scroll={{ x: true }}
      onRow={(r) => ({
        onDoubleClick: () => onOpen(r),
      })}
    />
  );
}

function BalancesCard({ report }: { report: SettlementReport }) {
  const { t } = useTranslation('settlements');
  const { lang } = useSession();
  const option = useMemo(() => balanceChartOption(report.balances, lang, t('balances.closing')), [report.balances, lang, t]);
  if (report.balances.length === 0) return <Empty description={t('balances.none')} data-testid="balances-empty" />;
  return <Chart option={option} height={240} data-testid="balance-chart" />;
}

function FollowOrder() {
  const { t } = useTranslation('settlements');
  const { lang } = useSession();
  const [text, setText] = useState('');
  const [result, setResult] = useState<OrderSettlementOut | null>(null);
  const follow = useCommand(commands.settlementFollow);
  const run = async (order: string) => {
    if (order.trim() === '') return;
    const r = await follow.run(order.trim());
    if (r.status === 'ok') setResult(r.value);
  };
  return (
    <>
      <Input.Search
        style={{ width: 320 }}
        placeholder={t('follow.placeholder')}
        enterButton={
          <span>
            <NodeIndexOutlined /> {t('follow.button')}
          </span>
        }
        value={text}
        onChange={(e) => setText(e.target.value)}
        onSearch={(v) => void run(v)}
        loading={follow.loading}
        data-testid="settle-follow"
      />
      <ErrorAlert error={follow.error} style={{ marginTop: 8 }} />
      <Modal
        open={result !== null}
        onCancel={() => setResult(null)}
        footer={null}
        width={760}
        title={result ? t('follow.title', { order: result.order_no }) : ''}
      >
        {result && (
          <div data-testid="settle-follow-result">
            {result.flows.length === 0 ? (
              <Empty description={t('follow.none')} />
            ) : (
              <>
                <Typography.Title level={5}>{t('follow.flows')}</Typography.Title>
                <ul>
                  {result.flows.map((f) => (
                    <li key={`${f.account}:${f.flow_id}`}>
                      {f.account} · {t(`kind.${f.kind}`)} · <span style={mono}>{f.flow_id}</span> ·{' '}
                      <span style={amountText}>{formatMoney(f.net, f.currency, lang)}</span>
                    </li>
                  ))}
                </ul>
                <Typography.Title level={5}>{t('follow.payouts')}</Typography.Title>
                <ul>
                  {result.payouts.map((p) => (
                    <li key={p.id}>
                      <span style={mono}>{p.payout.payout_id}</span> · {formatDate(p.payout.arrival_date, lang)} ·{' '}
                      <span style={amountText}>{formatMoney(p.payout.amount, p.payout.currency, lang)}</span>
                    </li>
                  ))}
                </ul>
                <Typography.Title level={5}>{t('follow.bank_lines')}</Typography.Title>
                <ul>
                  {result.bank_lines.map((b) => (
                    <li key={b.id}>
                      {b.bank_account} · {formatDate(b.line.booking_date, lang)} ·{' '}
                      <span style={amountText}>{formatMoney(b.line.amount, b.line.currency, lang)}</span>
                      {b.line.text ? ` · ${b.line.text}` : ''}
                    </li>
                  ))}
                </ul>
              </>
            )}
          </div>
        )}
      </Modal>
    </>
  );
}

export default function SettlementsPage() {
  const { t } = useTranslation('settlements');
  const { appInfo, lang, can } = useSession();
  const params = useNavParams();
  const [banks, setBanks] = useState<BankAccountInfo[] | null>(null);
  const [bank, setBank] = useState<string | null>(null);
  const [date, setDate] = useState<Dayjs | null>(() => (appInfo ? dayjs(appInfo.yesterday) : dayjs().subtract(1, 'day')));
  const [dryRun, setDryRun] = useState(false);
  const [report, setReport] = useState<SettlementReport | null>(null);
  const [suggestions, setSuggestions] = useState<LinkOut[]>([]);
  const [findings, setFindings] = useState<FindingOut[]>([]);
  const [tab, setTab] = useState<TabKey>('payouts');
  const [opened, setOpened] = useState<PayoutOut | null>(null);
  const [importing, setImporting] = useState<ImportKind | null>(null);
  const dateWrap = useRef<HTMLSpanElement>(null);

  const banksCmd = useCommand(commands.settlementBankAccounts);
  const runCmd = useCommand((b: string, d: string, dry: boolean) => commands.settlementRun(b, d, dry));
  const listCmd = useCommand(async (b: string) => {
    const [s, f] = await Promise.all([commands.settlementLinks(b, 'suggested'), commands.settlementFindings(b)]);
    return { s, f };
  });
  // After a decision the payouts' arrival states change: a dry run shows them again without
  // saving anything (quietly: a reviewer who may not run settlements keeps the old view).
  const refreshCmd = useCommand((b: string, d: string) => commands.settlementRun(b, d, true), { onError: () => true });
  const reviewCmd = useCommand((id: number, resolved: boolean, note: string | null) =>
    commands.settlementFindingReview(id, resolved, note),
  );
  const { run: readBanks } = banksCmd;
  const { run: readLists } = listCmd;

  // The e2e suite types into the DatePicker's <input>: put the test id there.
  useEffect(() => {
    dateWrap.current?.querySelector('input')?.setAttribute('data-testid', 'settle-date');
  });

  useEffect(() => {
    void readBanks().then((r) => {
      if (r.status !== 'ok') return;
      setBanks(r.value);
      setBank((cur) => cur ?? (r.value.find((b) => b.name === params.bank) ?? r.value[0])?.name ?? null);
    });
    // Once, when the page opens.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [readBanks]);

  const loadLists = useCallback(
    async (b: string) => {
      const r = await readLists(b);
      if (r.status === 'ok') {
        setSuggestions(r.value.s);
        setFindings(r.value.f);
      }
    },
    [readLists],
  );

  useEffect(() => {
    setReport(null);
    if (bank) void loadLists(bank);
  }, [bank, loadLists]);

  const start = async () => {
    if (!bank) {
      showError({ kind: 'bad_input', message: t('bank_required') });
      return;
    }
    if (!date) {
      showError({ kind: 'bad_input', message: t('date_required') });
      return;
    }
    const r = await runCmd.run(bank, date.format('YYYY-MM-DD'), dryRun);
    if (r.status !== 'ok') return;
    setReport(r.value);
    if (!r.value.dry_run) await loadLists(bank);
  };

  const running = runCmd.loading;
  const shownDry = report?.dry_run ?? false;
  const shownSuggestions = shownDry && report ? report.suggestions : suggestions;
  const shownFindings = shownDry && report ? report.findings : findings;
  const payoutsById = useMemo(() => new Map((report?.payouts ?? []).map((p) => [p.id, p])), [report]);
  const current = banks?.find((b) => b.name === bank) ?? null;

  const onDecided = () => {
    if (!bank) return;
    void loadLists(bank);
    if (report && can('reconcile_run')) {
      const shown = report;
      void refreshCmd.run(bank, shown.as_of).then((r) => {
        if (r.status === 'ok') setReport({ ...r.value, dry_run: shown.dry_run, run_id: shown.run_id });
      });
    }
  };

  return (
    <div data-testid="page-settlements">
      <Typography.Title level={3} style={{ marginTop: 0 }}>
        {t('title')}
      </Typography.Title>
      <Typography.Paragraph type="secondary">{t('subtitle')}</Typography.Paragraph>

      <ErrorAlert error={banksCmd.error} onRetry={() => void readBanks()} style={below.md} />
      {banks !== null && banks.length === 0 && (
        <Alert type="warning" showIcon style={below.md} message={t('no_banks')} data-testid="settle-no-banks" />
      )}

      <Card size="small" style={below.lg}>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (!running) void start();
          }}
        >
          <Space wrap align="end" size="middle">
            <label>
              <div style={below.xs}>{t('bank')}</div>
              <Select
                data-testid="settle-bank"
                style={{ minWidth: 280 }}
                value={bank}
                onChange={setBank}
                disabled={running}
                loading={banksCmd.loading}
                options={(banks ?? []).map((b) => ({
                  value: b.name,
                  label: t('bank_option', { name: b.name, currency: b.currency, accounts: b.accounts.join(', ') }),
                }))}
              />
            </label>
            <label>
              <div style={below.xs}>{t('date')}</div>
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
            <Checkbox checked={dryRun} onChange={(e) => setDryRun(e.target.checked)} disabled={running} data-testid="settle-dry-run">
              {t('dry_run')}
            </Checkbox>
            <Button
              type="primary"
              htmlType="submit"
              icon={<PlayCircleOutlined />}
              loading={running}
              disabled={!can('reconcile_run') || !bank}
              data-testid="settle-run"
            >
              {running ? t('running') : t('run')}
            </Button>
            <Button
              icon={<ImportOutlined />}
              onClick={() => setImporting('bank')}
              disabled={!can('reconcile_run') || !current || running}
              data-testid="settle-import-bank"
            >
              {t('import_bank')}
            </Button>
            <Button
              icon={<ImportOutlined />}
              onClick={() => setImporting('fundflow')}
              disabled={!can('reconcile_run') || !current || running}
              data-testid="settle-import-fundflow"
            >
              {t('import_fundflow')}
            </Button>
          </Space>
        </form>
        {running && (
          <div style={{ marginTop: 12 }} data-testid="settle-progress" role="status" aria-live="polite">
            <Progress percent={100} status="active" showInfo={false} size="small" />
            <Typography.Text type="secondary">{t('running_hint')}</Typography.Text>
          </div>
        )}
        <div style={{ marginTop: 12 }}>{can('order_view') && <FollowOrder />}</div>
      </Card>

      <ErrorAlert error={runCmd.error} style={below.md} data-testid="settle-error" />
      <ErrorAlert error={listCmd.error} onRetry={() => bank && void loadLists(bank)} style={below.md} />

      {report && (
        <Card
          size="small"
          style={below.lg}
          data-testid="settle-summary"
          data-run-id={report.run_id ?? ''}
          data-dry-run={report.dry_run ? 'true' : 'false'}
          title={t(report.dry_run ? 'summary.dry_title' : 'summary.title', { date: formatDate(report.as_of, lang) })}
          extra={<Typography.Text type="secondary">{t('summary.seconds', { seconds: report.seconds.toFixed(2) })}</Typography.Text>}
        >
          <Space size="large" wrap>
            <Statistic title={t('summary.payouts')} value={report.payouts.length} />
            <Statistic title={t('summary.bank_lines')} value={report.bank_lines} />
            <Statistic title={t('summary.links')} value={report.links.length} />
            <Statistic title={t('summary.suggestions')} value={report.suggestions.length} />
            <Statistic title={t('summary.findings')} value={report.findings.length} />
            <Space wrap>
              {ARRIVALS.filter((a) => (report.arrivals[a] ?? 0) > 0).map((a) => (
                <span key={a} data-testid={`settle-arrivals-${a}`} data-count={report.arrivals[a]}>
                  <ArrivalTag arrival={a} /> {report.arrivals[a]}
                </span>
              ))}
            </Space>
          </Space>
          {report.trade_checks.length > 0 && (
            <div style={{ marginTop: 8 }} data-testid="settle-trade-checks">
              <Typography.Text type="secondary">{t('summary.trade_checks')}: </Typography.Text>
              {report.trade_checks.map((c) => (
                <Tag
                  key={c.account}
                  color={c.findings > 0 ? 'red' : c.matched > 0 ? 'green' : 'default'}
                  data-testid={`settle-trade-check-${c.account}`}
                  data-findings={c.findings}
                >
                  {t('summary.trade_check', {
                    account: c.account,
                    matched: c.matched,
                    findings: c.findings,
                    pending: c.pending,
                    days: c.trade_days,
                    from: formatDate(c.from, lang),
                    to: formatDate(c.to, lang),
                  })}
                </Tag>
              ))}
            </div>
          )}
        </Card>
      )}

      <Card size="small">
        <Tabs
          activeKey={tab}
          onChange={(k) => setTab(k as TabKey)}
          items={[
            {
              key: 'payouts',
              label: <span data-testid="settle-tab-payouts">{t('tabs.payouts')}</span>,
              children: report ? (
                <PayoutsByDay payouts={report.payouts} onOpen={setOpened} />
              ) : (
                <Empty description={t('empty_report')} data-testid="settle-empty" />
              ),
            },
            {
              key: 'suggestions',
              label: (
                <span data-testid="settle-tab-suggestions">
                  {t('tabs.suggestions')} <Badge count={shownSuggestions.length} size="small" color="blue" />
                </span>
              ),
              children: (
                <SuggestionsTab suggestions={shownSuggestions} payouts={payoutsById} dryRun={shownDry} onDecided={onDecided} />
              ),
            },
            {
              key: 'findings',
              label: (
                <span data-testid="settle-tab-findings">
                  {t('tabs.findings')} <Badge count={shownFindings.length} size="small" />
                </span>
              ),
              children: (
                <FindingsTab
                  findings={shownFindings}
                  dryRun={shownDry}
                  onReview={async (f, resolved, note) => {
                    const r = await reviewCmd.run(f.id ?? 0, resolved, note);
                    if (r.status === 'ok' && bank) await loadLists(bank);
                  }}
                />
              ),
            },
            {
              key: 'balances',
              label: <span data-testid="settle-tab-balances">{t('tabs.balances')}</span>,
              children: report ? <BalancesCard report={report} /> : <Empty description={t('empty_report')} />,
            },
          ]}
        />
      </Card>

      <PayoutDrawer payout={opened} onClose={() => setOpened(null)} />
      <ImportDialog kind={importing} bank={current} onClose={() => setImporting(null)} onImported={() => bank && void loadLists(bank)} />
    </div>
  );
}

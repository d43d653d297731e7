// The printable report of the current filter: a header (workspace, account, bill dates, the
// other filters, who printed it and when), the totals per currency, the count per class and
// the rows, read in blocks (at most PRINT_MAX_ROWS). Once everything is in, the system print
// dialog opens (where "Save as PDF" makes the PDF). Shown over the whole window; when printing,
// the print stylesheet (discrepancies.css) hides everything else. Esc cancels or closes.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { createPortal } from 'react-dom';
import { Button, Progress, Space, Spin, Typography } from 'antd';
import { PrinterOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import * as commands from '../../commands';
import { ErrorAlert } from '../../components/ErrorNotice';
import { formatCount, formatDate, formatDateTime, formatMoney } from '../../format';
import type { AccountInfo, CurrencyTotal, DiscrepancyRecord, Filter, Lang, Sort } from '../../types';
import { Difference, localAmountText, providerAmountText } from './amounts';
import { currencyFor } from './FilterBar';
import { useLabel } from './labels';
import { PRINT_MAX_ROWS, PrintCancelled, loadClassCounts, loadPrintRows } from './printData';
import type { ClassCount } from './printData';

/** On <body> while the report is open: the print stylesheet then prints only the report. */
export const PRINTING_CLASS = 'disc-printing';

export interface PrintReportProps {
  filter: Filter;
  sort: Sort;
  accounts: AccountInfo[];
  lang: Lang;
  workspace: string | null;
  user: string | null;
  onClose: () => void;
}

interface Report {
  rows: DiscrepancyRecord[];
  total: number;
  totals: CurrencyTotal[];
  classes: ClassCount[];
  /** When it was prepared (RFC 3339). */
  at: string;
}

type Phase = 'loading' | 'ready' | 'error';

export default function PrintReport({ filter, sort, accounts, lang, workspace, user, onClose }: PrintReportProps) {
  const { t } = useTranslation('discrepancies');
  const label = useLabel();
  const [phase, setPhase] = useState<Phase>('loading');
  const [progress, setProgress] = useState<{ loaded: number; target: number | null }>({ loaded: 0, target: null });
  const [rowsDone, setRowsDone] = useState(false);
  const [report, setReport] = useState<Report | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);

  // ---- read everything (again after a retry); closing stops the reading
  useEffect(() => {
    let closed = false;
    let failed = false;
    const stopped = () => closed || failed;
    setPhase('loading');
    setError(null);
    setRowsDone(false);
    setProgress({ loaded: 0, target: null });
    const totals = commands.discrepancyTotals(filter);
    const rows = loadPrintRows(filter, sort, {
      cancelled: stopped,
      onProgress: (loaded, target) => {
        if (!stopped()) setProgress({ loaded, target });
      },
    }).then((r) => {
      if (!stopped()) setRowsDone(true);
      return r;
    });
    const classes = loadClassCounts(filter, stopped);
    Promise.all([totals, rows, classes]).then(
      ([tot, r, cls]) => {
        if (stopped()) return;
        setReport({ rows: r.rows, total: r.total, totals: tot, classes: cls, at: new Date().toISOString() });
        setPhase('ready');
      },
      (e: unknown) => {
        if (stopped() || e instanceof PrintCancelled) return;
        failed = true; // the other readers stop at their next answer
        setError(e);
        setPhase('error');
      },
    );
    return () => {
      closed = true;
    };
  }, [filter, sort, attempt]);

  // ---- once everything is shown: the system print dialog, once
  const printed = useRef(false);
  useEffect(() => {
    if (phase !== 'ready' || printed.current) return undefined;
    // After the browser had a chance to lay the report out.
    const timer = window.setTimeout(() => {
      printed.current = true;
      window.print();
    }, 0);
    return () => window.clearTimeout(timer);
  }, [phase]);

  // ---- Esc cancels (while preparing) or closes; before anything else on the page sees it
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape') return;
      e.preventDefault();
      e.stopPropagation();
      onClose();
    };
    window.addEventListener('keydown', onKey, true);
    return () => window.removeEventListener('keydown', onKey, true);
  }, [onClose]);

  // ---- while open, printing prints only the report
  useEffect(() => {
    document.body.classList.add(PRINTING_CLASS);
    return () => document.body.classList.remove(PRINTING_CLASS);
  }, []);

  const rootRef = useRef<HTMLDivElement>(null);
  useEffect(() => rootRef.current?.focus(), []);

  const retry = useCallback(() => setAttempt((n) => n + 1), []);

  // ---- the header's description of the filter
  const dates = useMemo(() => {
    const from = filter.date_from;
    const to = filter.date_to;
    if (from && to) {
      return from === to
        ? formatDate(from, lang)
        : t('print.date_range', { from: formatDate(from, lang), to: formatDate(to, lang) });
    }
    if (from) return t('print.date_from', { date: formatDate(from, lang) });
    if (to) return t('print.date_to', { date: formatDate(to, lang) });
    return t('print.all_dates');
  }, [filter, lang, t]);

  const otherFilters = useMemo(() => {
    const item = (name: string, value: string) => t('print.filter_item', { name, value });
    const list = (values: string[]) => values.join(t('print.list_separator'));
    const parts: string[] = [];
    const states = filter.states ?? [];
    const classes = filter.classes ?? [];
    parts.push(
      states.length > 0 ? item(t('filters.state'), list(states.map((s) => label('state', s)))) : t('filters.all_states'),
    );
    parts.push(
      classes.length > 0
        ? item(t('filters.class'), list(classes.map((c) => label('class', c))))
        : t('filters.all_classes'),
    );
    if (filter.assignee) parts.push(item(t('filters.assignee'), filter.assignee));
    if (filter.min_abs_difference != null) {
      const currency = currencyFor(accounts, filter.account ?? null) ?? 'CNY';
      parts.push(item(t('filters.min_amount'), formatMoney(filter.min_abs_difference, currency, lang)));
    }
    if (filter.text) parts.push(item(t('filters.text'), `“${filter.text}”`));
    if (filter.include_gone) parts.push(t('filters.include_gone'));
    return parts.join(' · ');
  }, [filter, accounts, lang, label, t]);

  const amounts = (list: CurrencyTotal[]) => list.map((a) => formatMoney(a.at_stake, a.currency, lang)).join(' · ');

  const capped = report !== null && report.total > report.rows.length && report.rows.length >= PRINT_MAX_ROWS;

  return createPortal(
    <div
      ref={rootRef}
      className="disc-print"
      role="dialog"
      aria-modal="true"
      aria-label={t('print.title')}
      tabIndex={-1}
      data-testid="print-view"
      data-phase={phase}
    >
      <div className="disc-print-bar">
        {phase === 'loading' && (
          <div className="disc-print-progress" data-testid="print-progress" aria-live="polite">
            <Spin size="small" />{' '}
            <span data-testid="print-progress-text">
              {progress.target === null
                ? t('print.preparing_start')
                : rowsDone
                  ? t('print.preparing_totals')
                  : t('print.preparing', {
                      n: formatCount(progress.loaded, lang),
                      total: formatCount(progress.target, lang),
                    })}
            </span>
            {progress.target !== null && progress.target > 0 && (
              <Progress
                percent={Math.floor((progress.loaded / progress.target) * 100)}
                size="small"
                showInfo={false}
                style={{ width: 200, margin: 0 }}
              />
            )}
          </div>
        )}
        {phase === 'error' && (
          <ErrorAlert error={error} data-testid="print-error" onRetry={retry} style={{ flex: 1 }} />
        )}
        {phase === 'ready' && (
          <Typography.Text type="secondary" className="disc-print-hint">
            {t('print.hint')}
          </Typography.Text>
        )}
        <span className="disc-spacer" />
        <Space>
          {phase === 'ready' && (
            <Button type="primary" icon={<PrinterOutlined />} data-testid="print-again" onClick={() => window.print()}>
              {t('print.print_again')}
            </Button>
          )}
          <Button data-testid="print-close" onClick={onClose}>
            {phase === 'loading' ? t('print.cancel') : t('print.close')}
          </Button>
        </Space>
      </div>

      {phase === 'ready' && report && (
        <article className="disc-print-paper" data-testid="print-report-body" lang={lang === 'zh' ? 'zh-CN' : 'en'}>
          <header className="disc-print-header">
            <h1>{t('print.title')}</h1>
            <dl className="disc-print-meta">
              <dt>{t('print.workspace')}</dt>
              <dd data-testid="print-workspace">{workspace ?? '—'}</dd>
              <dt>{t('column.account')}</dt>
              <dd data-testid="print-account">{filter.account ?? t('filters.all_accounts')}</dd>
              <dt>{t('column.bill_date')}</dt>
              <dd data-testid="print-dates">{dates}</dd>
              <dt>{t('filters.label')}</dt>
              <dd data-testid="print-filters">{otherFilters}</dd>
              <dt>{t('print.printed_label')}</dt>
              <dd data-testid="print-printed">
                {t('print.printed', { user: user ?? '—', time: formatDateTime(report.at, lang) })}
              </dd>
            </dl>
          </header>

          {report.total === 0 ? (
            <p data-testid="print-empty">{t('table.empty')}</p>
          ) : (
            <>
              <section className="disc-print-summary">
                <table className="disc-print-table" data-testid="print-totals">
                  <caption>{t('print.totals')}</caption>
                  <thead>
                    <tr>
                      <th scope="col">{t('print.currency')}</th>
                      <th scope="col" className="num">{t('print.count')}</th>
                      <th scope="col" className="num">{t('print.at_stake')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {report.totals.map((c) => (
                      <tr key={c.currency} data-testid="print-total" data-currency={c.currency}>
                        <td>{c.currency}</td>
                        <td className="num">{formatCount(c.count, lang)}</td>
                        <td className="num">{formatMoney(c.at_stake, c.currency, lang)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
                <table className="disc-print-table" data-testid="print-classes">
                  <caption>{t('print.by_class')}</caption>
                  <thead>
                    <tr>
                      <th scope="col">{t('column.class')}</th>
                      <th scope="col" className="num">{t('print.count')}</th>
                      <th scope="col" className="num">{t('print.at_stake')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {report.classes.map((c) => (
                      <tr key={c.class} data-testid="print-class" data-class={c.class}>
                        <td>{label('class', c.class)}</td>
                        <td className="num">{formatCount(c.count, lang)}</td>
                        <td className="num">{amounts(c.amounts)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </section>

              {capped && (
                <p className="disc-print-cap" data-testid="print-cap" role="note">
                  {t('print.capped', {
                    total: formatCount(report.total, lang),
                    n: formatCount(report.rows.length, lang),
                  })}
                </p>
              )}

              <table className="disc-print-table disc-print-rows" data-testid="print-rows">
                <caption>
                  {t('print.rows', { n: formatCount(report.rows.length, lang) })}
                </caption>
                <thead>
                  <tr>
                    <th scope="col">{t('column.order_no')}</th>
                    <th scope="col">{t('column.class')}</th>
                    <th scope="col" className="num">{t('column.provider_amount')}</th>
                    <th scope="col" className="num">{t('column.local_amount')}</th>
                    <th scope="col" className="num">{t('column.difference')}</th>
                    <th scope="col">{t('column.state')}</th>
                    <th scope="col">{t('column.assignee')}</th>
                  </tr>
                </thead>
                <tbody>
                  {report.rows.map((r) => (
                    <tr key={r.id} data-testid="print-row" data-id={r.id}>
                      <td className="mono">{r.order_no ?? r.refund_no ?? '—'}</td>
                      <td>{label('class', r.class)}</td>
                      <td className="num">{providerAmountText(r, lang)}</td>
                      <td className="num">{localAmountText(r, lang)}</td>
                      <td className="num">
                        <Difference record={r} lang={lang} />
                      </td>
                      <td>
                        {label('state', r.state)}
                        {!r.present && ` (${t('table.gone')})`}
                      </td>
                      <td>{r.assignee ?? t('table.unassigned')}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          )}
        </article>
      )}
    </div>,
    document.body,
  );
}

// Audit log (admin): every recorded action, paged on the server, filterable by action, actor,
// target and days (of the business timezone), and a verification of the hash chain that says where it breaks. Actions show their
// translated name over the raw action string; details read as "key: value" lines, the full
// JSON in the expanded row.
import { useCallback, useEffect, useMemo, useState } from 'react';
import { Alert, Button, DatePicker, Input, Select, Space, Table, Tag, Tooltip, Typography } from 'antd';
import dayjs from 'dayjs';
import type { ColumnsType, TablePaginationConfig } from 'antd/es/table';
import { FilterOutlined, ReloadOutlined, SafetyOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import * as commands from '../../commands';
import { ErrorAlert } from '../../components/ErrorNotice';
import { formatCount, formatDateTime, shortHash } from '../../format';
import { useCommand } from '../../hooks/useCommand';
import { useSession } from '../../session';
import { below, monoSmall, spread } from '../../styles';
import type { AuditEntry, AuditPage as AuditPageResult, AuditVerification } from '../../types';
import { actionName, detailLines, prettyDetails } from './auditDetails';
import type { ActionNames } from './auditDetails';

export { actionName, detailLines, flattenDetails, prettyDetails } from './auditDetails';

export const PAGE_SIZES = [50, 100, 200];

/** What the server filters by: days are of the business timezone, both included. */
type AuditFilterState = Omit<commands.AuditEntriesArgs, 'limit' | 'offset'>;
const NO_FILTER: AuditFilterState = { action: null, actor: null, target: null, from: null, to: null };

export function outcomeColor(outcome: string): string {
  if (outcome === 'ok') return 'green';
  if (outcome === 'denied' || outcome === 'refused') return 'orange';
  if (outcome === 'failed' || outcome === 'error') return 'red';
  return 'default';
}

/**
 * Where the locale files keep the action names: an object keyed by the exact action string
 * ("settle.run"), read whole (returnObjects) since the names hold dots.
 */
export const ACTION_NAMES_KEY = 'audit.action_names';

interface ActionOption {
  value: string;
  label: string;
  /** Lower-case text the search matches: the name and the raw action. */
  search: string;
  /** Typed by the user rather than a known action. */
  free?: 'exact' | 'prefix';
}

/** Details of up to this many lines show whole in the table; longer ones show DETAIL_LINES_SHOWN and say how many more. */
export const DETAIL_LINES_MAX = 10;
const DETAIL_LINES_SHOWN = 8;

/**
 * An entry's details as "key: value" lines (the raw text when it is not JSON). Long details
 * show their first lines and a link to the rest, which expands the row (the full JSON).
 */
function DetailsCell({ entry, onMore }: { entry: AuditEntry; onMore: () => void }) {
  const { t } = useTranslation('admin');
  const lines = detailLines(entry.details);
  const wrap = { ...monoSmall, whiteSpace: 'pre-wrap', wordBreak: 'break-word' } as const;
  if (lines === null) {
    return (
      <Typography.Text type="secondary" style={wrap} data-testid={`audit-details-text-${entry.seq}`}>
        {entry.details}
      </Typography.Text>
    );
  }
  if (lines.length === 0) return <Typography.Text type="secondary">—</Typography.Text>;
  const shown = lines.length > DETAIL_LINES_MAX ? lines.slice(0, DETAIL_LINES_SHOWN) : lines;
  return (
    <div>
      <div data-testid={`audit-details-list-${entry.seq}`}>
        {shown.map((l, i) => (
          <div key={`${i}:${l.key}`} style={wrap} data-key={l.key}>
            {l.key !== '' && <Typography.Text type="secondary">{l.key}: </Typography.Text>}
            <span>{l.value}</span>
          </div>
        ))}
      </div>
      {shown.length < lines.length && (
        <Typography.Link onClick={onMore} style={monoSmall} data-testid={`audit-details-more-${entry.seq}`}>
          {t('audit.more_lines', { count: lines.length - shown.length })}
        </Typography.Link>
      )}
    </div>
  );
}

export default function AuditPage() {
  const { t, i18n } = useTranslation('admin');
  const { lang } = useSession();
  const [actionInput, setActionInput] = useState<string | null>(null);
  const [actionSearch, setActionSearch] = useState('');
  const [actorInput, setActorInput] = useState('');
  const [targetInput, setTargetInput] = useState('');
  const [days, setDays] = useState<{ from: string | null; to: string | null }>({ from: null, to: null });
  const [filter, setFilter] = useState<AuditFilterState>(NO_FILTER);
  const [page, setPage] = useState(1);
  const [pageSize, setPageSize] = useState(PAGE_SIZES[0]);
  const [data, setData] = useState<AuditPageResult | null>(null);
  const [verification, setVerification] = useState<AuditVerification | null>(null);
  const [expanded, setExpanded] = useState<readonly React.Key[]>([]);
  const {
    run: readEntries,
    loading,
    error: loadError,
  } = useCommand((args: commands.AuditEntriesArgs) => commands.auditEntries(args));
  const { run: verifyChain, loading: verifying, error: verifyError } = useCommand(() =>
    commands.auditVerify(),
  );

  const load = useCallback(async () => {
    const r = await readEntries({
      limit: pageSize,
      offset: (page - 1) * pageSize,
      ...filter,
    });
    if (r.status === 'ok') setData(r.value);
  }, [readEntries, page, pageSize, filter]);

  useEffect(() => {
    void load();
  }, [load]);

  function apply(actionValue: string | null = actionInput, range = days) {
    setPage(1);
    setFilter({
      action: actionValue?.trim() || null,
      actor: actorInput.trim() || null,
      target: targetInput.trim() || null,
      from: range.from,
      to: range.to,
    });
  }

  const actionNames = useMemo<ActionNames>(() => {
    const names: unknown = t(ACTION_NAMES_KEY, { returnObjects: true });
    return names !== null && typeof names === 'object' ? (names as ActionNames) : {};
  }, [t, i18n.language]); // the names follow the language

  const knownOptions = useMemo<ActionOption[]>(
    () =>
      Object.keys(actionNames)
        .map((action) => {
          const label = actionName(actionNames, action) ?? action;
          return { value: action, label, search: `${label}\n${action}`.toLowerCase() };
        })
        .sort((a, b) => a.label.localeCompare(b.label, lang === 'zh' ? 'zh-CN' : 'en')),
    [actionNames, lang],
  );

  // Free text: a prefix ("refund.") or an action the locale files do not name; a prefix is
  // offered first (Enter picks it), other text after the known actions it matches.
  const typed = actionSearch.trim();
  const actionOptions = useMemo<ActionOption[]>(() => {
    if (typed === '' || Object.prototype.hasOwnProperty.call(actionNames, typed)) return knownOptions;
    const prefix = typed.endsWith('.');
    const free: ActionOption = {
      value: typed,
      label: typed,
      search: typed.toLowerCase(),
      free: prefix ? 'prefix' : 'exact',
    };
    return prefix ? [free, ...knownOptions] : [...knownOptions, free];
  }, [typed, actionNames, knownOptions]);

  async function verify() {
    const r = await verifyChain();
    if (r.status !== 'ok') return;
    setVerification(r.value);
    // The check is itself audited: the newest page gains an entry.
    if (page === 1) void load();
  }

  const broken = new Set((verification?.problems ?? []).map((p) => p.seq));

  const columns: ColumnsType<AuditEntry> = [
    {
      title: '#',
      dataIndex: 'seq',
      width: 72,
      render: (v: number) =>
        broken.has(v) ? (
          <Tooltip title={t('audit.break_here')}>
            <Tag color="red">{v}</Tag>
          </Tooltip>
        ) : (
          v
        ),
    },
    { title: t('audit.time'), dataIndex: 'at', width: 170, render: (v: string) => formatDateTime(v, lang) },
    { title: t('audit.actor'), dataIndex: 'actor', width: 120 },
    {
      title: t('audit.action'),
      dataIndex: 'action',
      width: 230,
      render: (v: string, e) => {
        const name = actionName(actionNames, v);
        return (
          <div data-testid={`audit-action-${e.seq}`} data-action={v}>
            {name !== null && <div>{name}</div>}
            <Typography.Text type={name !== null ? 'secondary' : undefined} style={monoSmall}>
              {v}
            </Typography.Text>
          </div>
        );
      },
    },
    { title: t('audit.target'), dataIndex: 'target', ellipsis: true },
    {
      title: t('audit.outcome'),
      dataIndex: 'outcome',
      width: 100,
      render: (v: string) => (
        <Tag color={outcomeColor(v)} data-outcome={v}>
          {t(`audit.outcomes.${v}`, { defaultValue: v })}
        </Tag>
      ),
    },
    {
      title: (
        <Tooltip title={t('audit.details_full')}>
          <span>{t('audit.details')}</span>
        </Tooltip>
      ),
      dataIndex: 'details',
      render: (_: string, e) => (
        <DetailsCell entry={e} onMore={() => setExpanded((keys) => (keys.includes(e.seq) ? keys : [...keys, e.seq]))} />
      ),
    },
  ];

  const pagination: TablePaginationConfig = {
    current: page,
    pageSize,
    total: data?.total ?? 0,
    showSizeChanger: true,
    pageSizeOptions: PAGE_SIZES.map(String),
    showTotal: (total) => t('audit.total', { count: total, formatted: formatCount(total, lang) }),
    onChange: (p, size) => {
      if (size !== pageSize) {
        setPageSize(size);
        setPage(1);
      } else {
        setPage(p);
      }
    },
  };

  const first = verification?.problems[0];

  return (
    <div>
      <Space style={spread} align="center">
        <Typography.Title level={3}>{t('audit.title')}</Typography.Title>
        <Space>
          <Button icon={<ReloadOutlined />} loading={loading} onClick={() => void load()} data-testid="audit-refresh">
            {t('common:actions.refresh')}
          </Button>
          <Button type="primary" icon={<SafetyOutlined />} loading={verifying} onClick={() => void verify()} data-testid="audit-verify">
            {t('audit.verify')}
          </Button>
        </Space>
      </Space>

      <ErrorAlert error={verifyError} style={below.md} />
      {verification && (
        <Alert
          style={below.md}
          type={verification.problems.length === 0 ? 'success' : 'error'}
          showIcon
          closable
          onClose={() => setVerification(null)}
          data-testid="audit-verify-result"
          data-ok={String(verification.problems.length === 0)}
          data-break={first ? String(first.seq) : undefined}
          message={
            first
              ? t('audit.broken', { seq: first.seq, count: verification.problems.length })
              : t('audit.intact', { count: verification.entries, formatted: formatCount(verification.entries, lang) })
          }
          description={
            <div>
              <div>
                {t('audit.head', { seq: verification.head_seq })} <code style={monoSmall}>{shortHash(verification.head_hash, 16, 8)}</code>
              </div>
              {first && (
                <>
                  <Typography.Paragraph style={{ marginTop: 8, marginBottom: 4 }}>{t('audit.broken_help')}</Typography.Paragraph>
                  <ul style={{ margin: 0, paddingLeft: 20 }}>
                    {verification.problems.map((p) => (
                      <li key={`${p.seq}:${p.reason}`} data-testid={`audit-problem-${p.seq}`}>
                        {t('audit.problem', { seq: p.seq, reason: p.reason })}
                      </li>
                    ))}
                  </ul>
                </>
              )}
            </div>
          }
        />
      )}

      <Space wrap style={below.md}>
        <Select<string, ActionOption>
          value={actionInput ?? undefined}
          showSearch
          allowClear
          placeholder={t('audit.filter_action')}
          options={actionOptions}
          searchValue={actionSearch}
          onSearch={setActionSearch}
          filterOption={(input, option) =>
            option?.free !== undefined || (option?.search ?? '').includes(input.trim().toLowerCase())
          }
          optionRender={(o) =>
            o.data.free ? (
              <span data-free={o.data.free}>
                {t(o.data.free === 'prefix' ? 'audit.filter_prefix' : 'audit.filter_free', { text: o.data.value })}
              </span>
            ) : (
              <div>
                <div>{o.data.label}</div>
                <Typography.Text type="secondary" style={monoSmall}>
                  {o.data.value}
                </Typography.Text>
              </div>
            )
          }
          onChange={(v) => {
            const action = v ?? null;
            setActionInput(action);
            setActionSearch('');
            apply(action);
          }}
          popupMatchSelectWidth={false}
          style={{ width: 280 }}
          data-testid="audit-filter-action"
          aria-label={t('audit.filter_action')}
        />
        <Input
          value={actorInput}
          allowClear
          placeholder={t('audit.filter_actor')}
          onChange={(e) => setActorInput(e.target.value)}
          onPressEnter={() => apply()}
          style={{ width: 200 }}
          data-testid="audit-filter-actor"
          aria-label={t('audit.filter_actor')}
        />
        <Input
          value={targetInput}
          allowClear
          placeholder={t('audit.filter_target')}
          onChange={(e) => setTargetInput(e.target.value)}
          onPressEnter={() => apply()}
          style={{ width: 200 }}
          data-testid="audit-filter-target"
          aria-label={t('audit.filter_target')}
        />
        <DatePicker.RangePicker
          data-testid="audit-filter-days"
          aria-label={t('audit.filter_days')}
          allowEmpty={[true, true]}
          value={days.from || days.to ? [days.from ? dayjs(days.from) : null, days.to ? dayjs(days.to) : null] : null}
          placeholder={[t('audit.filter_from'), t('audit.filter_to')]}
          onChange={(v) => {
            const range = {
              from: v?.[0] ? v[0].format('YYYY-MM-DD') : null,
              to: v?.[1] ? v[1].format('YYYY-MM-DD') : null,
            };
            setDays(range);
            apply(actionInput, range);
          }}
        />
        <Button icon={<FilterOutlined />} onClick={() => apply()} data-testid="audit-filter-apply">
          {t('common:actions.apply')}
        </Button>
        <Typography.Text type="secondary">{t('audit.filter_help')}</Typography.Text>
      </Space>
      <ErrorAlert error={loadError} onRetry={() => void load()} style={below.md} />

      <div data-testid="audit-table" data-total={data?.total ?? 0}>
        <Table<AuditEntry>
          size="small"
          rowKey="seq"
          columns={columns}
          dataSource={data?.entries ?? []}
          loading={loading}
          pagination={pagination}
          onRow={(e) =>
            ({
              'data-testid': `audit-row-${e.seq}`,
              'data-outcome': e.outcome,
              style: broken.has(e.seq) ? { background: 'rgba(255,77,79,0.08)' } : undefined,
            }) as React.HTMLAttributes<HTMLElement>
          }
          expandable={{
            expandedRowKeys: expanded,
            onExpandedRowsChange: (keys) => setExpanded(keys),
            expandedRowRender: (e) => (
              <div>
                <pre style={{ ...monoSmall, whiteSpace: 'pre-wrap', margin: 0 }} data-testid={`audit-details-${e.seq}`}>
                  {prettyDetails(e.details)}
                </pre>
                <Typography.Text type="secondary" style={monoSmall}>
                  {t('audit.hash')}: {e.hash} · {t('audit.prev_hash')}: {e.prev_hash}
                </Typography.Text>
              </div>
            ),
          }}
        />
      </div>
    </div>
  );
}

// Audit log (admin): every recorded action, paged on the server, filterable by action and
// actor, and a verification of the hash chain that says where it breaks.
import { useCallback, useEffect, useState } from 'react';
import { Alert, Button, Input, Space, Table, Tag, Tooltip, Typography } from 'antd';
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

export const PAGE_SIZES = [50, 100, 200];

export function outcomeColor(outcome: string): string {
  if (outcome === 'ok') return 'green';
  if (outcome === 'denied' || outcome === 'refused') return 'orange';
  if (outcome === 'failed' || outcome === 'error') return 'red';
  return 'default';
}

/** Pretty JSON of the stored details text (kept as is when it is not JSON). */
export function prettyDetails(details: string): string {
  try {
    return JSON.stringify(JSON.parse(details), null, 2);
  } catch {
    return details;
  }
}

export default function AuditPage() {
  const { t } = useTranslation('admin');
  const { lang } = useSession();
  const [actionInput, setActionInput] = useState('');
  const [actorInput, setActorInput] = useState('');
  const [filter, setFilter] = useState<{ action: string | null; actor: string | null }>({ action: null, actor: null });
  const [page, setPage] = useState(1);
  const [pageSize, setPageSize] = useState(PAGE_SIZES[0]);
  const [data, setData] = useState<AuditPageResult | null>(null);
  const [verification, setVerification] = useState<AuditVerification | null>(null);
  const {
    run: readEntries,
    loading,
    error: loadError,
  } = useCommand((args: { limit: number; offset: number; action: string | null; actor: string | null }) =>
    commands.auditEntries(args),
  );
  const { run: verifyChain, loading: verifying, error: verifyError } = useCommand(() =>
    commands.auditVerify(),
  );

  const load = useCallback(async () => {
    const r = await readEntries({
      limit: pageSize,
      offset: (page - 1) * pageSize,
      action: filter.action,
      actor: filter.actor,
    });
    if (r.status === 'ok') setData(r.value);
  }, [readEntries, page, pageSize, filter]);

  useEffect(() => {
    void load();
  }, [load]);

  function apply() {
    const action = actionInput.trim() || null;
    const actor = actorInput.trim() || null;
    setPage(1);
    setFilter({ action, actor });
  }

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
    { title: t('audit.action'), dataIndex: 'action', width: 190, render: (v: string) => <code style={monoSmall}>{v}</code> },
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
      title: t('audit.details'),
      dataIndex: 'details',
      ellipsis: true,
      render: (v: string) => (
        <Typography.Text type="secondary" style={monoSmall}>
          {v === '{}' || v === 'null' ? '—' : v}
        </Typography.Text>
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
        <Input
          value={actionInput}
          allowClear
          placeholder={t('audit.filter_action')}
          onChange={(e) => setActionInput(e.target.value)}
          onPressEnter={apply}
          style={{ width: 240 }}
          data-testid="audit-filter-action"
          aria-label={t('audit.filter_action')}
        />
        <Input
          value={actorInput}
          allowClear
          placeholder={t('audit.filter_actor')}
          onChange={(e) => setActorInput(e.target.value)}
          onPressEnter={apply}
          style={{ width: 200 }}
          data-testid="audit-filter-actor"
          aria-label={t('audit.filter_actor')}
        />
        <Button icon={<FilterOutlined />} onClick={apply} data-testid="audit-filter-apply">
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

// What does not agree after a run: each finding's class in the UI's language with its
// plain-words explanation, the amounts on both sides, and the run's own words.
import { Alert, Button, Empty, Input, Modal, Space, Table, Tag, Tooltip, Typography } from 'antd';
import { useState } from 'react';
import type { ColumnsType } from 'antd/es/table';
import { useTranslation } from 'react-i18next';
import { useSession } from '../../session';
import { formatDate, formatMoney } from '../../format';
import { amountText, below, small } from '../../styles';
import type { FindingOut } from '../../types';
import { findingText } from './settlementUi';

export interface FindingsTabProps {
  findings: FindingOut[];
  dryRun: boolean;
  /** Resolve (or reopen) a stored finding with an optional note. */
  onReview?: (f: FindingOut, resolved: boolean, note: string | null) => Promise<void>;
}

export default function FindingsTab({ findings, dryRun, onReview }: FindingsTabProps) {
  const { t } = useTranslation('settlements');
  const [reviewing, setReviewing] = useState<{ f: FindingOut; resolved: boolean } | null>(null);
  const [note, setNote] = useState('');
  const [saving, setSaving] = useState(false);
  const { lang } = useSession();
  const money = (v: number | null, f: FindingOut) => (v === null ? '—' : formatMoney(v, f.currency, lang));

  const counts = new Map<string, { name: string; explain: string; n: number }>();
  for (const f of findings) {
    const c = counts.get(f.class) ?? { ...findingText(f, lang), n: 0 };
    c.n += 1;
    counts.set(f.class, c);
  }

  const columns: ColumnsType<FindingOut> = [
    {
      title: t('col.class'),
      key: 'class',
      width: 280,
      render: (_: unknown, f) => {
        const { name, explain } = findingText(f, lang);
        return (
          <div>
            <Tag color="orange" data-testid={`finding-class-${f.class}`}>
              {name}
            </Tag>
            <div>
              <Typography.Text type="secondary" style={small} data-testid="finding-explain">
                {explain}
              </Typography.Text>
            </div>
          </div>
        );
      },
    },
    { title: t('col.date'), dataIndex: 'date', key: 'date', render: (d: string) => formatDate(d, lang) },
    { title: t('col.expected'), key: 'expected', align: 'right', render: (_: unknown, f) => <span style={amountText}>{money(f.expected, f)}</span> },
    { title: t('col.actual'), key: 'actual', align: 'right', render: (_: unknown, f) => <span style={amountText}>{money(f.actual, f)}</span> },
    {
      title: t('col.difference'),
      key: 'difference',
      align: 'right',
      render: (_: unknown, f) =>
        f.expected !== null && f.actual !== null ? <span style={amountText}>{formatMoney(f.actual - f.expected, f.currency, lang)}</span> : '—',
    },
    { title: t('col.detail'), dataIndex: 'detail', key: 'detail' },
    {
      title: t('col.review'),
      key: 'review',
      width: 200,
      render: (_: unknown, f) => {
        const resolved = f.review_state === 'resolved';
        return (
          <div data-testid={f.id !== null ? `finding-review-${f.id}` : undefined}>
            {resolved && <Tag color="green">{t('findings.resolved')}</Tag>}
            {f.review_note && (
              <Typography.Text type="secondary" style={small}>
                {f.review_note}
              </Typography.Text>
            )}
            {f.id !== null && !dryRun && onReview && (
              <div>
                <Button
                  size="small"
                  data-testid={`finding-${resolved ? 'reopen' : 'resolve'}-${f.id}`}
                  onClick={() => {
                    setNote('');
                    setReviewing({ f, resolved: !resolved });
                  }}
                >
                  {resolved ? t('findings.reopen') : t('findings.resolve')}
                </Button>
              </div>
            )}
          </div>
        );
      },
    },
  ];

  return (
    <div data-testid="findings">
      {dryRun && findings.length > 0 && <Alert type="info" showIcon style={below.md} message={t('findings.dry_run')} />}
      {counts.size > 0 && (
        <Space wrap style={below.md} data-testid="finding-counts">
          {Array.from(counts.entries()).map(([cls, c]) => (
            <Tooltip key={cls} title={c.explain}>
              <Tag data-testid={`finding-count-${cls}`}>
                {c.name}: {c.n}
              </Tag>
            </Tooltip>
          ))}
        </Space>
      )}
      {findings.length === 0 ? (
        <Empty description={t('findings.none')} data-testid="findings-empty" />
      ) : (
        <Table<FindingOut>
          size="small"
          rowKey={(f) => (f.id !== null ? String(f.id) : `${f.class}:${f.date}:${f.detail}`)}
          columns={columns}
          dataSource={findings}
          pagination={{ pageSize: 50, hideOnSinglePage: true }}
          scroll={{ x: true }}
        />
      )}
      <Modal
        open={reviewing !== null}
        title={reviewing?.resolved ? t('findings.resolve') : t('findings.reopen')}
        okText={reviewing?.resolved ? t('findings.resolve') : t('findings.reopen')}
        confirmLoading={saving}
        okButtonProps={{ 'data-testid': 'finding-review-ok' } as never}
        onCancel={() => setReviewing(null)}
        onOk={async () => {
          if (!reviewing || !onReview) return;
          setSaving(true);
          try {
            await onReview(reviewing.f, reviewing.resolved, note.trim() === '' ? null : note.trim());
            setReviewing(null);
          } finally {
            setSaving(false);
          }
        }}
        destroyOnHidden
      >
        <Input.TextArea
          data-testid="finding-review-note"
          rows={3}
          maxLength={2000}
          placeholder={t('findings.note_placeholder')}
          value={note}
          onChange={(e) => setNote(e.target.value)}
        />
      </Modal>
    </div>
  );
}

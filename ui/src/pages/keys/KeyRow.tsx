// One credential of an account: its versions (state, fingerprint, dates, expiry, last test),
// its warnings, and the actions on it (rotate, import, activate, retire, public key).
import { Alert, Badge, Button, Space, Table, Tag, Tooltip, Typography } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { CheckCircleTwoTone, CloseCircleTwoTone, ImportOutlined, SyncOutlined, WarningOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { formatDateTime, shortHash } from '../../format';
import { useSession } from '../../session';
import { below, monoSmall, small, spread, SPACE } from '../../styles';
import { useColorValues } from '../../theme';
import type { KeyListing, Purpose, VersionListing, VersionState } from '../../types';
import { expiryLevel, rotationMode, splitOutcome } from './keyMeta';
import { useKeyWarningText, warningKey } from './keyWarnings';
import LastDownload from './LastDownload';

const STATE_COLORS: Record<VersionState, string> = { pending: 'blue', active: 'green', retired: 'default' };

export default function KeyRow({
  account,
  purpose,
  listing,
  manage,
  onImport,
  onRotate,
  onAction,
  onShowPublic,
}: {
  account: string;
  purpose: Purpose;
  listing: KeyListing | null;
  manage: boolean;
  onImport: () => void;
  onRotate: () => void;
  onAction: (kind: 'activate' | 'retire', version: number) => void;
  onShowPublic: (version: number) => void;
}) {
  const { t } = useTranslation('keys');
  const { lang } = useSession();
  const warningText = useKeyWarningText();
  // Two-tone icons need colour values (their second tone is computed), not CSS variables.
  const color = useColorValues();
  const now = Date.now();
  const mode = rotationMode(purpose);
  const versions = (listing?.versions ?? []).slice().sort((a, b) => b.version - a.version);
  const usable = versions.some((v) => v.usable);

  const columns: ColumnsType<VersionListing> = [
    { title: t('versions.version'), dataIndex: 'version', width: 56, render: (v: number) => `v${v}` },
    {
      title: t('versions.state'),
      dataIndex: 'state',
      render: (_: VersionState, v) => (
        <Space size={4}>
          <Tag color={STATE_COLORS[v.state]}>{t(`common:key_state.${v.state}`)}</Tag>
          <Tooltip title={v.usable ? t('versions.usable') : t('versions.not_usable')}>
            {v.usable ? (
              <CheckCircleTwoTone twoToneColor={color.success} aria-label={t('versions.usable')} />
            ) : (
              <CloseCircleTwoTone twoToneColor={color.muted} aria-label={t('versions.not_usable')} />
            )}
          </Tooltip>
        </Space>
      ),
    },
    {
      title: t('versions.fingerprint'),
      key: 'fingerprint',
      render: (_: unknown, v) => (
        <div>
          <Typography.Text
            copyable={{ text: v.info.fingerprint, tooltips: [t('common:actions.copy'), t('common:actions.copied')] }}
            style={monoSmall}
            title={v.info.fingerprint}
          >
            {shortHash(v.info.fingerprint, 12, 6)}
          </Typography.Text>
          <div>
            <Typography.Text type="secondary" style={small}>
              {[
                v.info.key_bits ? t('versions.bits', { bits: v.info.key_bits }) : null,
                v.info.serial ? t('versions.serial', { serial: v.info.serial }) : null,
                v.info.key_id ?? null,
                v.info.hint ?? null,
              ]
                .filter(Boolean)
                .join(' · ')}
            </Typography.Text>
          </div>
        </div>
      ),
    },
    {
      title: t('versions.created'),
      dataIndex: 'created_at',
      render: (_: string, v) => (
        <span>
          {formatDateTime(v.created_at, lang)}
          <br />
          <Typography.Text type="secondary">
            {t('versions.created_by', { user: v.created_by, source: t(`versions.source.${v.source}`, { defaultValue: v.source }) })}
          </Typography.Text>
        </span>
      ),
    },
    {
      title: t('versions.activated_retired'),
      key: 'dates',
      render: (_: unknown, v) => (
        <span>
          {v.activated_at ? t('versions.activated_at', { at: formatDateTime(v.activated_at, lang) }) : '—'}
          {v.retired_at && (
            <>
              <br />
              {t('versions.retired_at', { at: formatDateTime(v.retired_at, lang) })}
            </>
          )}
          {v.usable_until && (
            <>
              <br />
              <Typography.Text type="secondary">
                {t('versions.usable_until', { at: formatDateTime(v.usable_until, lang) })}
              </Typography.Text>
            </>
          )}
        </span>
      ),
    },
    {
      title: t('versions.expires'),
      key: 'expires',
      render: (_: unknown, v) => {
        if (!v.info.not_after) return '—';
        const level = expiryLevel(v, now);
        return (
          <Typography.Text
            type={level === 'expired' ? 'danger' : level === 'soon' ? 'warning' : undefined}
            strong={level !== null}
            data-testid={`key-expiry-${account}-${purpose}-${v.version}`}
            data-level={level ?? 'ok'}
          >
            {level && <WarningOutlined style={{ marginRight: SPACE.xs }} />}
            {formatDateTime(v.info.not_after, lang)}
          </Typography.Text>
        );
      },
    },
    {
      title: t('versions.last_test'),
      key: 'test',
      render: (_: unknown, v) => {
        if (!v.tested_at) return <Typography.Text type="secondary">{t('versions.never_tested')}</Typography.Text>;
        const o = splitOutcome(v.test_outcome);
        return (
          <span>
            <Tag color={o.ok === true ? 'green' : o.ok === false ? 'red' : 'default'}>
              {o.ok === true ? t('versions.test_ok') : o.ok === false ? t('versions.test_failed') : t('versions.tested')}
            </Tag>
            <Typography.Text type="secondary" style={small}>
              {formatDateTime(v.tested_at, lang)}
            </Typography.Text>
            {o.text && (
              <div>
                <Typography.Text type={o.ok === false ? 'danger' : 'secondary'} style={small}>
                  {o.text}
                </Typography.Text>
              </div>
            )}
          </span>
        );
      },
    },
    {
      title: '',
      key: 'actions',
      align: 'right',
      render: (_: unknown, v) => (
        <Space size={4} wrap>
          {purpose === 'alipay_app_key' && (
            <Button size="small" onClick={() => onShowPublic(v.version)} data-testid={`key-public-${account}-${purpose}-${v.version}`}>
              {t('versions.public_key')}
            </Button>
          )}
          {manage && v.state === 'pending' && (
            <Button
              size="small"
              type="primary"
              onClick={() => onAction('activate', v.version)}
              data-testid={`activate-${account}-${purpose}-${v.version}`}
            >
              {t('versions.activate')}
            </Button>
          )}
          {manage && v.state !== 'retired' && (
            <Button
              size="small"
              danger
              onClick={() => onAction('retire', v.version)}
              data-testid={`retire-${account}-${purpose}-${v.version}`}
            >
              {t('versions.retire')}
            </Button>
          )}
        </Space>
      ),
    },
  ];

  return (
    <div
      data-testid={`key-row-${account}-${purpose}`}
      data-configured={listing !== null}
      style={below.lg}
    >
      <Space style={{ ...spread, marginBottom: 6 }} wrap>
        <Space>
          <Typography.Text strong>{t(`common:purpose.${purpose}`)}</Typography.Text>
          {listing ? (
            <Badge status={usable ? 'success' : 'error'} text={usable ? t('versions.in_use') : t('versions.none_usable')} />
          ) : (
            <Typography.Text type="secondary">{t('not_set_up')}</Typography.Text>
          )}
          {listing && purpose === 'wechat_platform_cert' && <LastDownload account={account} refresh={listing.refresh} />}
        </Space>
        {manage && (
          <Space size={4}>
            {/* A key Paydesk generates itself can be started from nothing: the wizard's first
                version is active as soon as it is stored. Keys that come from the provider are
                imported first. */}
            {mode && (listing || mode === 'generate') && (
              <Button size="small" type="primary" ghost icon={<SyncOutlined />} onClick={onRotate} data-testid={`rotate-${account}-${purpose}`}>
                {mode === 'generate' ? (listing ? t('rotate') : t('wizard.generate')) : t('roll')}
              </Button>
            )}
            <Button size="small" icon={<ImportOutlined />} onClick={onImport} data-testid={`import-${account}-${purpose}`}>
              {listing ? t('import.new_version') : t('import.open')}
            </Button>
          </Space>
        )}
      </Space>
      {listing?.warnings.map((w) => (
        <Alert
          key={warningKey(w)}
          type="warning"
          showIcon
          style={{ marginBottom: 6 }}
          message={warningText(w, purpose)}
          // A failed download: the provider's (or the vault's) own error, under the title.
          description={w.code === 'refresh_failed' ? (listing.refresh?.last_error ?? w.message) : undefined}
          data-testid={`key-warning-${account}-${purpose}`}
          data-code={w.code}
        />
      ))}
      {listing && (
        <Table<VersionListing>
          size="small"
          rowKey="version"
          columns={columns}
          dataSource={versions}
          pagination={false}
          onRow={(v) =>
            ({
              'data-testid': `key-version-${account}-${purpose}-${v.version}`,
              'data-state': v.state,
              'data-usable': String(v.usable),
            }) as React.HTMLAttributes<HTMLElement>
          }
        />
      )}
    </div>
  );
}

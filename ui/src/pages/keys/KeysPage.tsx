// Keys (admin): the vault (create / unlock), every credential's versions with fingerprints,
// states, tests and expiry, import, rotation, retiring, and WeChat platform certificates.
import { useCallback, useEffect, useMemo, useState } from 'react';
import {
  Alert,
  Badge,
  Button,
  Card,
  Empty,
  InputNumber,
  Modal,
  Space,
  Spin,
  Table,
  Tag,
  Tooltip,
  Typography,
} from 'antd';
import type { ColumnsType } from 'antd/es/table';
import {
  CheckCircleTwoTone,
  CloseCircleTwoTone,
  ImportOutlined,
  ReloadOutlined,
  SafetyCertificateOutlined,
  SyncOutlined,
  WarningOutlined,
} from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { call, toAppError } from '../../api';
import { ErrorAlert, showError } from '../../components/ErrorNotice';
import { formatDateTime, shortHash } from '../../format';
import { useSession } from '../../session';
import type {
  AccountInfo,
  Endpoint,
  KeyListing,
  Provider,
  PublicExport,
  Purpose,
  VaultRefresh,
  VaultStatus,
  VersionListing,
  VersionState,
} from '../../types';
import ImportDialog from './ImportDialog';
import { expiryLevel, providerOf, purposeOrder, PURPOSES_BY_PROVIDER, rotationMode, splitOutcome } from './keyMeta';
import { useKeyWarningText, warningKey } from './keyWarnings';
import RotationWizard from './RotationWizard';
import { VaultInit, VaultUnlock } from './VaultGate';

const STATE_COLORS: Record<VersionState, string> = { pending: 'blue', active: 'green', retired: 'default' };
const mono: React.CSSProperties = { fontFamily: 'ui-monospace, SFMono-Regular, Menlo, monospace', fontSize: 12 };

export default function KeysPage() {
  const { t } = useTranslation('keys');
  const { can } = useSession();
  const [status, setStatus] = useState<VaultStatus | null>(null);
  const [statusError, setStatusError] = useState<unknown>(null);

  const loadStatus = useCallback(async () => {
    setStatusError(null);
    try {
      setStatus(await call<VaultStatus>('vault_status'));
    } catch (e) {
      setStatusError(e);
    }
  }, []);

  useEffect(() => {
    void loadStatus();
  }, [loadStatus]);

  if (!can('key_view')) {
    return <Alert type="warning" showIcon message={t('no_permission')} />;
  }

  return (
    <div>
      <Space style={{ width: '100%', justifyContent: 'space-between' }} align="center">
        <Typography.Title level={3}>{t('title')}</Typography.Title>
        {status && (
          <Space data-testid="vault-status" data-configured={status.configured} data-unlocked={status.unlocked}>
            <Tag color={status.unlocked ? 'green' : status.configured ? 'orange' : 'default'}>
              {status.unlocked ? t('vault.unlocked') : status.configured ? t('vault.locked') : t('vault.not_configured')}
            </Tag>
            {status.source && <Typography.Text type="secondary">{t(`vault.source.${status.source}`)}</Typography.Text>}
          </Space>
        )}
      </Space>
      <ErrorAlert error={statusError} onRetry={() => void loadStatus()} />
      {!status && !statusError && <Spin />}
      {status && !status.configured && <VaultInit canManage={can('key_manage')} onDone={setStatus} />}
      {status && status.configured && !status.unlocked && <VaultUnlock onDone={setStatus} />}
      {status && status.configured && status.unlocked && <KeyList onLocked={() => void loadStatus()} />}
    </div>
  );
}

interface WizardTarget {
  account: string;
  purpose: Purpose;
  hasActive: boolean;
}
interface VersionAction {
  kind: 'activate' | 'retire';
  account: string;
  purpose: Purpose;
  version: number;
}

function KeyList({ onLocked }: { onLocked: () => void }) {
  const { t } = useTranslation('keys');
  const { can, appInfo } = useSession();
  const manage = can('key_manage');
  const [listings, setListings] = useState<KeyListing[] | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [importTarget, setImportTarget] = useState<{ account?: string; purpose?: Purpose } | null>(null);
  const [wizard, setWizard] = useState<WizardTarget | null>(null);
  const [action, setAction] = useState<VersionAction | null>(null);
  const [refreshing, setRefreshing] = useState<string | null>(null);
  const [certResults, setCertResults] = useState<Record<string, string[]>>({});
  const [publicKey, setPublicKey] = useState<PublicExport | null>(null);

  const load = useCallback(async () => {
    setLoading(true);
    setError(null);
    try {
      setListings(await call<KeyListing[]>('keys_list'));
    } catch (e) {
      if (toAppError(e).kind === 'vault_locked') onLocked();
      else setError(e);
    } finally {
      setLoading(false);
    }
  }, [onLocked]);

  useEffect(() => {
    void load();
  }, [load]);

  const accounts: AccountInfo[] = useMemo(() => {
    const known = (appInfo?.accounts ?? []).filter((a) => a.provider !== 'manual');
    const names = new Set(known.map((a) => a.name));
    const extra: AccountInfo[] = [];
    for (const l of listings ?? []) {
      if (!names.has(l.account)) {
        names.add(l.account);
        const provider: Provider = providerOf(l.purpose);
        extra.push({ name: l.account, provider, currency: '', endpoint: 'url' });
      }
    }
    return [...known, ...extra];
  }, [appInfo, listings]);

  async function refreshCerts(account: string) {
    setRefreshing(account);
    try {
      const serials = await call<string[]>('keys_refresh_wechat_certs', { account });
      setCertResults((prev) => ({ ...prev, [account]: serials }));
    } catch (e) {
      showError(e);
    } finally {
      // Success or failure, the listing shows the download's outcome (last download, warning).
      void load();
      setRefreshing(null);
    }
  }

  async function showPublic(account: string, purpose: Purpose, version: number) {
    try {
      setPublicKey(await call<PublicExport>('keys_export_public', { account, purpose, version }));
    } catch (e) {
      showError(e);
    }
  }

  const endpointOf = (name: string): Endpoint | null => accounts.find((a) => a.name === name)?.endpoint ?? null;

  return (
    <div>
      <Space style={{ marginBottom: 12 }} wrap>
        <Button icon={<ReloadOutlined />} loading={loading} onClick={() => void load()} data-testid="keys-refresh">
          {t('common:actions.refresh')}
        </Button>
        {manage && (
          <Button icon={<ImportOutlined />} onClick={() => setImportTarget({})} data-testid="key-import">
            {t('import.open')}
          </Button>
        )}
      </Space>
      <ErrorAlert error={error} onRetry={() => void load()} style={{ marginBottom: 12 }} />
      {listings === null && loading && <Spin />}
      {listings !== null && accounts.length === 0 && <Empty description={t('no_accounts')} />}
      {listings !== null &&
        accounts.map((a) => {
          const purposes = PURPOSES_BY_PROVIDER[a.provider]
            .slice()
            .sort((x, y) => purposeOrder(x) - purposeOrder(y));
          return (
            <Card
              key={a.name}
              size="small"
              style={{ marginBottom: 16 }}
              data-testid={`key-account-${a.name}`}
              title={
                <Space wrap>
                  <span>{a.name}</span>
                  <Tag>{t(`common:provider.${a.provider}`)}</Tag>
                  {a.currency && <Tag>{a.currency}</Tag>}
                  <Tag color={a.endpoint === 'sandbox' ? 'purple' : a.endpoint === 'url' ? 'blue' : 'default'}>
                    {t(`common:endpoint.${a.endpoint}`)}
                  </Tag>
                </Space>
              }
              extra={
                manage &&
                a.provider === 'wechat' && (
                  <Button
                    size="small"
                    icon={<SafetyCertificateOutlined />}
                    loading={refreshing === a.name}
                    onClick={() => void refreshCerts(a.name)}
                    data-testid={`refresh-certs-${a.name}`}
                  >
                    {t('certs.refresh')}
                  </Button>
                )
              }
            >
              {certResults[a.name] && (
                <Alert
                  closable
                  type={certResults[a.name].length ? 'success' : 'info'}
                  showIcon
                  style={{ marginBottom: 12 }}
                  data-testid={`refresh-certs-result-${a.name}`}
                  message={
                    certResults[a.name].length
                      ? t('certs.new', { count: certResults[a.name].length })
                      : t('certs.none_new')
                  }
                  description={
                    certResults[a.name].length ? (
                      <Space wrap>
                        {certResults[a.name].map((s) => (
                          <code key={s}>{s}</code>
                        ))}
                      </Space>
                    ) : undefined
                  }
                  onClose={() =>
                    setCertResults((prev) => {
                      const next = { ...prev };
                      delete next[a.name];
                      return next;
                    })
                  }
                />
              )}
              {purposes.map((p) => {
                const l = listings.find((x) => x.account === a.name && x.purpose === p);
                return (
                  <KeyRow
                    key={p}
                    account={a.name}
                    purpose={p}
                    listing={l ?? null}
                    manage={manage}
                    onImport={() => setImportTarget({ account: a.name, purpose: p })}
                    onRotate={() =>
                      setWizard({
                        account: a.name,
                        purpose: p,
                        hasActive: !!l?.versions.some((v) => v.state === 'active'),
                      })
                    }
                    onAction={(kind, version) => setAction({ kind, account: a.name, purpose: p, version })}
                    onShowPublic={(version) => void showPublic(a.name, p, version)}
                  />
                );
              })}
            </Card>
          );
        })}

      <ImportDialog
        open={importTarget !== null}
        accounts={accounts}
        account={importTarget?.account}
        purpose={importTarget?.purpose}
        onClose={() => setImportTarget(null)}
        onImported={() => void load()}
      />
      {wizard && (
        <RotationWizard
          open
          account={wizard.account}
          purpose={wizard.purpose}
          endpoint={endpointOf(wizard.account)}
          hasActive={wizard.hasActive}
          onClose={() => {
            setWizard(null);
            void load();
          }}
          onChanged={() => void load()}
        />
      )}
      <VersionActionDialog action={action} onClose={() => setAction(null)} onDone={() => void load()} />
      <Modal
        open={publicKey !== null}
        title={publicKey ? t('versions.public_key_of', { version: publicKey.version }) : ''}
        onCancel={() => setPublicKey(null)}
        footer={null}
        width={720}
      >
        {publicKey && (
          <div>
            <Typography.Paragraph copyable={{ text: publicKey.public_key_pem }}>
              <pre style={{ ...mono, whiteSpace: 'pre-wrap' }} data-testid="key-public-pem">
                {publicKey.public_key_pem}
              </pre>
            </Typography.Paragraph>
            <Typography.Text type="secondary">{t('wizard.tab_base64')}</Typography.Text>
            <Typography.Paragraph copyable={{ text: publicKey.public_key_base64 }}>
              <code style={{ ...mono, wordBreak: 'break-all' }}>{publicKey.public_key_base64}</code>
            </Typography.Paragraph>
          </div>
        )}
      </Modal>
    </div>
  );
}

function KeyRow({
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
              <CheckCircleTwoTone twoToneColor="#52c41a" aria-label={t('versions.usable')} />
            ) : (
              <CloseCircleTwoTone twoToneColor="#bfbfbf" aria-label={t('versions.not_usable')} />
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
            style={mono}
            title={v.info.fingerprint}
          >
            {shortHash(v.info.fingerprint, 12, 6)}
          </Typography.Text>
          <div>
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
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
            {level && <WarningOutlined style={{ marginRight: 4 }} />}
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
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              {formatDateTime(v.tested_at, lang)}
            </Typography.Text>
            {o.text && (
              <div>
                <Typography.Text type={o.ok === false ? 'danger' : 'secondary'} style={{ fontSize: 12 }}>
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
      style={{ marginBottom: 16 }}
    >
      <Space style={{ width: '100%', justifyContent: 'space-between', marginBottom: 6 }} wrap>
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

/** When the platform certificates were last downloaded, and whether the last attempt failed. */
function LastDownload({ account, refresh }: { account: string; refresh?: VaultRefresh }) {
  const { t } = useTranslation('keys');
  const { lang } = useSession();
  const failed = !!refresh?.last_error;
  const date = refresh?.last_ok_at ? formatDateTime(refresh.last_ok_at, lang) : t('certs.never');
  return (
    <Space size={4} data-testid={`key-refresh-${account}`} data-failed={failed}>
      <Typography.Text type="secondary" style={{ fontSize: 12 }}>
        {t('certs.last_downloaded', { date })}
      </Typography.Text>
      {refresh && failed && (
        <Tooltip
          title={t('certs.last_failed_at', {
            date: formatDateTime(refresh.last_attempt_at, lang),
            error: refresh.last_error,
          })}
        >
          <Tag color="error" style={{ marginInlineEnd: 0 }}>
            {t('certs.last_failed')}
          </Tag>
        </Tooltip>
      )}
    </Space>
  );
}

function VersionActionDialog({
  action,
  onClose,
  onDone,
}: {
  action: VersionAction | null;
  onClose: () => void;
  onDone: () => void;
}) {
  const { t } = useTranslation('keys');
  const [grace, setGrace] = useState<number | null>(0);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<unknown>(null);

  useEffect(() => {
    if (action) {
      setGrace(action.kind === 'activate' ? 24 : 0);
      setFailure(null);
    }
  }, [action]);

  async function confirm() {
    if (!action || busy) return;
    setBusy(true);
    setFailure(null);
    try {
      await call<null>(action.kind === 'activate' ? 'keys_activate' : 'keys_retire', {
        account: action.account,
        purpose: action.purpose,
        version: action.version,
        graceHours: grace ?? 0,
      });
      onDone();
      onClose();
    } catch (e) {
      setFailure(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Modal
      open={action !== null}
      title={
        action
          ? t(action.kind === 'activate' ? 'versions.confirm_activate' : 'versions.confirm_retire', {
              version: action.version,
              purpose: t(`common:purpose.${action.purpose}`),
              account: action.account,
            })
          : ''
      }
      onCancel={onClose}
      destroyOnHidden
      footer={[
        <Button key="cancel" onClick={onClose}>
          {t('common:actions.cancel')}
        </Button>,
        <Button
          key="ok"
          type="primary"
          danger={action?.kind === 'retire'}
          loading={busy}
          onClick={() => void confirm()}
          data-testid="version-confirm"
        >
          {action?.kind === 'activate' ? t('versions.activate') : t('versions.retire')}
        </Button>,
      ]}
    >
      {action && (
        <div>
          <Typography.Paragraph>
            {action.kind === 'activate' ? t('versions.activate_help') : t('versions.retire_help')}
          </Typography.Paragraph>
          <Space>
            <span>{action.kind === 'activate' ? t('versions.grace_previous') : t('versions.grace')}</span>
            <InputNumber
              min={0}
              max={720}
              precision={0}
              value={grace}
              onChange={(v) => setGrace(v)}
              addonAfter={t('wizard.hours')}
              data-testid="version-grace"
            />
          </Space>
          <ErrorAlert error={failure} style={{ marginTop: 12 }} />
        </div>
      )}
    </Modal>
  );
}

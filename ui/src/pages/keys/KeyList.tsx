// The unlocked vault: one card per account with its credentials, and the dialogs that change them.
import { useCallback, useEffect, useMemo, useState } from 'react';
import { Alert, Button, Card, Empty, Space, Spin, Tag } from 'antd';
import { ImportOutlined, ReloadOutlined, SafetyCertificateOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import * as commands from '../../commands';
import { ErrorAlert, showError } from '../../components/ErrorNotice';
import { useCommand } from '../../hooks/useCommand';
import { useSession } from '../../session';
import { below } from '../../styles';
import type { AccountInfo, Endpoint, KeyListing, Provider, PublicExport, Purpose } from '../../types';
import ImportDialog from './ImportDialog';
import { providerOf, purposeOrder, PURPOSES_BY_PROVIDER } from './keyMeta';
import KeyRow from './KeyRow';
import PublicKeyDialog from './PublicKeyDialog';
import RotationWizard from './RotationWizard';
import VersionActionDialog from './VersionActionDialog';
import type { VersionAction } from './VersionActionDialog';

interface WizardTarget {
  account: string;
  purpose: Purpose;
  hasActive: boolean;
}

export default function KeyList({ onLocked }: { onLocked: () => void }) {
  const { t } = useTranslation('keys');
  const { can, appInfo } = useSession();
  const manage = can('key_manage');
  const [listings, setListings] = useState<KeyListing[] | null>(null);
  const [importTarget, setImportTarget] = useState<{ account?: string; purpose?: Purpose } | null>(null);
  const [wizard, setWizard] = useState<WizardTarget | null>(null);
  const [action, setAction] = useState<VersionAction | null>(null);
  const [refreshing, setRefreshing] = useState<string | null>(null);
  const [certResults, setCertResults] = useState<Record<string, string[]>>({});
  const [publicKey, setPublicKey] = useState<PublicExport | null>(null);

  const {
    run: list,
    loading,
    error,
  } = useCommand(() => commands.keysList(), {
    // The vault was locked meanwhile: back to the unlock form instead of an error.
    onError: (e) => {
      if (e.kind !== 'vault_locked') return false;
      onLocked();
      return true;
    },
  });

  const load = useCallback(async () => {
    const r = await list();
    if (r.status === 'ok') setListings(r.value);
  }, [list]);

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
      const serials = await commands.keysRefreshWechatCerts(account);
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
      setPublicKey(await commands.keysExportPublic(account, purpose, version));
    } catch (e) {
      showError(e);
    }
  }

  const endpointOf = (name: string): Endpoint | null => accounts.find((a) => a.name === name)?.endpoint ?? null;

  return (
    <div>
      <Space style={below.md} wrap>
        <Button icon={<ReloadOutlined />} loading={loading} onClick={() => void load()} data-testid="keys-refresh">
          {t('common:actions.refresh')}
        </Button>
        {manage && (
          <Button icon={<ImportOutlined />} onClick={() => setImportTarget({})} data-testid="key-import">
            {t('import.open')}
          </Button>
        )}
      </Space>
      <ErrorAlert error={error} onRetry={() => void load()} style={below.md} />
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
              style={below.lg}
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
                  style={below.md}
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
      <PublicKeyDialog publicKey={publicKey} onClose={() => setPublicKey(null)} />
    </div>
  );
}

// Keys (admin): the vault (create / unlock), every credential's versions with fingerprints,
// states, tests and expiry, import, rotation, retiring, and WeChat platform certificates.
//
// This file is the page (the router's entry); its parts:
//   VaultGate            create / unlock the vault
//   KeyList              one card per account: its credentials, dialogs
//   KeyRow               one credential: versions table, warnings, actions
//   LastDownload         WeChat platform certificates: last download
//   VersionActionDialog  activate / retire one version
//   PublicKeyDialog      an Alipay app key's public key
//   ImportDialog, RotationWizard
import { useCallback, useEffect, useState } from 'react';
import { Alert, Space, Spin, Tag, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import * as commands from '../../commands';
import { ErrorAlert } from '../../components/ErrorNotice';
import { useCommand } from '../../hooks/useCommand';
import { useSession } from '../../session';
import { spread } from '../../styles';
import type { VaultStatus } from '../../types';
import KeyList from './KeyList';
import { VaultInit, VaultUnlock } from './VaultGate';

export default function KeysPage() {
  const { t } = useTranslation('keys');
  const { can } = useSession();
  const [status, setStatus] = useState<VaultStatus | null>(null);
  const { run: readStatus, error: statusError } = useCommand(() => commands.vaultStatus());

  const loadStatus = useCallback(async () => {
    const r = await readStatus();
    if (r.status === 'ok') setStatus(r.value);
  }, [readStatus]);

  useEffect(() => {
    void loadStatus();
  }, [loadStatus]);

  if (!can('key_view')) {
    return <Alert type="warning" showIcon message={t('no_permission')} />;
  }

  return (
    <div>
      <Space style={spread} align="center">
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

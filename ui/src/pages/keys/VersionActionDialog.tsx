// Activate or retire one version of a credential, with a grace period for the version it replaces.
import { useEffect, useState } from 'react';
import { Button, InputNumber, Modal, Space, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import * as commands from '../../commands';
import { ErrorAlert } from '../../components/ErrorNotice';
import { useCommand } from '../../hooks/useCommand';
import { above } from '../../styles';
import type { Purpose } from '../../types';

export interface VersionAction {
  kind: 'activate' | 'retire';
  account: string;
  purpose: Purpose;
  version: number;
}

export default function VersionActionDialog({
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
  const {
    run,
    loading: busy,
    error: failure,
    setError: setFailure,
  } = useCommand((a: VersionAction, graceHours: number) =>
    (a.kind === 'activate' ? commands.keysActivate : commands.keysRetire)(
      a.account,
      a.purpose,
      a.version,
      graceHours,
    ),
  );

  useEffect(() => {
    if (action) {
      setGrace(action.kind === 'activate' ? 24 : 0);
      setFailure(null);
    }
  }, [action, setFailure]);

  async function confirm() {
    if (!action || busy) return;
    const r = await run(action, grace ?? 0);
    if (r.status === 'ok') {
      onDone();
      onClose();
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
          <ErrorAlert error={failure} style={above.md} />
        </div>
      )}
    </Modal>
  );
}

// An Alipay app key's public key, as PEM and as the base64 line the Alipay console asks for.
import { Modal, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { monoSmall, WIDTH } from '../../styles';
import type { PublicExport } from '../../types';

export default function PublicKeyDialog({
  publicKey,
  onClose,
}: {
  publicKey: PublicExport | null;
  onClose: () => void;
}) {
  const { t } = useTranslation('keys');
  return (
    <Modal
      open={publicKey !== null}
      title={publicKey ? t('versions.public_key_of', { version: publicKey.version }) : ''}
      onCancel={onClose}
      footer={null}
      width={WIDTH.dialogText}
    >
      {publicKey && (
        <div>
          <Typography.Paragraph copyable={{ text: publicKey.public_key_pem }}>
            <pre style={{ ...monoSmall, whiteSpace: 'pre-wrap' }} data-testid="key-public-pem">
              {publicKey.public_key_pem}
            </pre>
          </Typography.Paragraph>
          <Typography.Text type="secondary">{t('wizard.tab_base64')}</Typography.Text>
          <Typography.Paragraph copyable={{ text: publicKey.public_key_base64 }}>
            <code style={{ ...monoSmall, wordBreak: 'break-all' }}>{publicKey.public_key_base64}</code>
          </Typography.Paragraph>
        </div>
      )}
    </Modal>
  );
}

import { Space, Tag, Tooltip, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { formatDateTime } from '../../format';
import { useSession } from '../../session';
import { small } from '../../styles';
import type { VaultRefresh } from '../../types';

/** When the platform certificates were last downloaded, and whether the last attempt failed. */
export default function LastDownload({ account, refresh }: { account: string; refresh?: VaultRefresh }) {
  const { t } = useTranslation('keys');
  const { lang } = useSession();
  const failed = !!refresh?.last_error;
  const date = refresh?.last_ok_at ? formatDateTime(refresh.last_ok_at, lang) : t('certs.never');
  return (
    <Space size={4} data-testid={`key-refresh-${account}`} data-failed={failed}>
      <Typography.Text type="secondary" style={small}>
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

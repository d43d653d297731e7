// The words for a key warning, chosen by its stable `code` (Keys page and dashboard). The
// backend's English `message` is the fallback for a code this UI does not know yet, or when
// a detail the sentence needs is missing.
import { useCallback } from 'react';
import { useTranslation } from 'react-i18next';
import { formatDate, formatDateTime } from '../../format';
import { useSession } from '../../session';
import type { KeyWarningCode, Purpose } from '../../types';

/** A KeyWarning, or what the dashboard knows of one (AttentionKey). */
export interface WarningLike {
  code: KeyWarningCode | string;
  version?: number | null;
  serial?: string | null;
  /** RFC 3339: the expiry (expires_soon) or the last download (refresh_*). */
  at?: string | null;
  message: string;
}

/** A stable React key for a warning of one credential. */
export function warningKey(w: WarningLike): string {
  return `${w.code}-${w.version ?? ''}-${w.serial ?? ''}`;
}

/** Returns (warning, purpose) → the warning in the UI language. */
export function useKeyWarningText(): (w: WarningLike, purpose: Purpose) => string {
  const { t } = useTranslation('keys');
  const { lang } = useSession();
  return useCallback(
    (w: WarningLike, purpose: Purpose): string => {
      switch (w.code) {
        case 'expires_soon': {
          if (w.version == null || !w.at) return w.message;
          const advice =
            purpose === 'wechat_platform_cert' || purpose === 'wechat_merchant_key'
              ? t(`warning.advice.${purpose}`)
              : t('warning.advice.default');
          const date = formatDate(w.at, lang);
          return w.serial
            ? t('warning.expires_soon_serial', { version: w.version, serial: w.serial, date, advice })
            : t('warning.expires_soon', { version: w.version, date, advice });
        }
        case 'expired_no_successor':
          return t('warning.expired_no_successor');
        case 'no_active':
          return t('warning.no_active');
        case 'refresh_failed':
          return w.at
            ? t('warning.refresh_failed', { date: formatDateTime(w.at, lang) })
            : t('warning.refresh_failed_undated');
        case 'refresh_overdue':
          return w.at
            ? t('warning.refresh_overdue', { date: formatDateTime(w.at, lang) })
            : t('warning.refresh_overdue_undated');
        default:
          return w.message;
      }
    },
    [t, lang],
  );
}

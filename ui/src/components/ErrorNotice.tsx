// Errors in plain words: a translated title per AppError.kind, the backend's message, and
// what to do next.
import { useEffect } from 'react';
import { Alert, App, notification } from 'antd';
import { useTranslation } from 'react-i18next';
import i18n from '../i18n';
import { toAppError } from '../api';
import type { AppError } from '../types';

function title(err: AppError): string {
  return i18n.t(`common:error.${err.kind}`);
}

function hint(err: AppError): string {
  return i18n.t(`common:error.hint.${err.kind}`);
}

type NotificationApi = Pick<typeof notification, 'error'>;
let notifier: NotificationApi = notification;

/** Rendered inside antd's <App> (App.tsx): lets showError use the themed, localized instance. */
export function NotificationBridge() {
  const { notification: api } = App.useApp();
  useEffect(() => {
    notifier = api;
    return () => {
      notifier = notification;
    };
  }, [api]);
  return null;
}

/** Shows a failed command as a notification (title per kind + message + what to do). */
export function showError(err: unknown): void {
  const e = toAppError(err);
  notifier.error({
    key: `${e.kind}:${e.message}`,
    message: title(e),
    description: (
      <div data-testid="error-notice" data-kind={e.kind}>
        <div>{e.message}</div>
        <div style={{ opacity: 0.75, marginTop: 4 }}>{hint(e)}</div>
      </div>
    ),
    duration: e.kind === 'bad_input' ? 6 : 10,
    placement: 'topRight',
  });
}

export interface ErrorAlertProps {
  error: unknown;
  /** Shown as a "Retry" action when given. */
  onRetry?: () => void;
  style?: React.CSSProperties;
  'data-testid'?: string;
}

/** Inline error box; renders nothing when `error` is null/undefined. */
export function ErrorAlert({ error, onRetry, style, 'data-testid': testId }: ErrorAlertProps) {
  const { t } = useTranslation('common');
  if (error === null || error === undefined) return null;
  const e = toAppError(error);
  return (
    <Alert
      type={e.kind === 'cancelled' ? 'warning' : 'error'}
      showIcon
      style={style}
      data-testid={testId ?? 'error-alert'}
      data-kind={e.kind}
      message={t(`error.${e.kind}`)}
      description={
        <div>
          <div>{e.message}</div>
          <div style={{ opacity: 0.75, marginTop: 4 }}>{t(`error.hint.${e.kind}`)}</div>
        </div>
      }
      action={
        onRetry ? (
          <a onClick={onRetry} role="button">
            {t('actions.retry')}
          </a>
        ) : undefined
      }
    />
  );
}

export default ErrorAlert;

// Sign-in screen: username, password, language switch, workspace, demo users.
import { useState } from 'react';
import type { FormEvent } from 'react';
import { Alert, Button, Card, Input, Space, Typography } from 'antd';
import { LockOutlined, UserOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { useSession } from '../session';
import { toAppError } from '../api';
import { LangSwitch } from '../components/LangSwitch';
import { themed } from '../styles';

const DEMO_USERS: { username: string; password: string; role: string }[] = [
  { username: 'admin', password: 'orchid-harbor-2026', role: 'admin' },
  { username: 'finance', password: 'ledger-maple-2026', role: 'finance' },
  { username: 'support', password: 'helpdesk-river-2026', role: 'support' },
  { username: 'approver', password: 'signoff-cedar-2026', role: 'approver' },
];

export default function LoginPage() {
  const { t } = useTranslation('login');
  const { login, appInfo, loadError } = useSession();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ title: string; message: string } | null>(null);

  const submit = async (e?: FormEvent) => {
    e?.preventDefault();
    if (busy) return;
    if (!username.trim()) {
      setError({ title: t('invalid'), message: t('username_required') });
      return;
    }
    if (!password) {
      setError({ title: t('invalid'), message: t('password_required') });
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await login(username.trim(), password);
    } catch (err) {
      const ae = toAppError(err);
      // A refused sign-in is not "session ended": say what happened.
      const title = ['unauthenticated', 'denied', 'bad_input'].includes(ae.kind) ? t('failed') : t(`common:error.${ae.kind}`);
      setError({ title, message: ae.message });
      setPassword('');
    } finally {
      setBusy(false);
    }
  };

  const fillDemo = (u: (typeof DEMO_USERS)[number]) => {
    setUsername(u.username);
    setPassword(u.password);
    setError(null);
  };

  return (
    <div
      style={{
        // The padding inside the window's height: no outer scrollbar.
        boxSizing: 'border-box',
        minHeight: '100vh',
        display: 'grid',
        placeItems: 'center',
        background: themed('page-bg', 'linear-gradient(160deg, #f0f5ff 0%, #fafafa 60%)'),
        padding: 16,
      }}
    >
      <div style={{ position: 'fixed', top: 16, right: 16 }}>
        <LangSwitch />
      </div>
      <Card style={{ width: 380, maxWidth: '100%' }}>
        <Typography.Title level={3} style={{ marginTop: 0, marginBottom: 4 }}>
          {t('title')}
        </Typography.Title>
        <Typography.Paragraph type="secondary" style={{ marginBottom: 20 }}>
          {t('subtitle')}
        </Typography.Paragraph>
        {appInfo && (
          <Typography.Paragraph type="secondary" style={{ fontSize: 12 }} data-testid="login-workspace">
            {t('workspace', { workspace: appInfo.workspace })}
            {' · '}
            {t('common:app.version', { version: appInfo.version })}
          </Typography.Paragraph>
        )}
        {loadError && (
          <Alert type="warning" showIcon style={{ marginBottom: 12 }} message={t('common:app.not_running_in_app')} />
        )}
        <form onSubmit={(e) => void submit(e)} noValidate>
          <Space direction="vertical" style={{ width: '100%' }} size="middle">
            <label style={{ display: 'block' }}>
              <span style={{ display: 'block', marginBottom: 4 }}>{t('username')}</span>
              <Input
                autoFocus
                autoComplete="username"
                prefix={<UserOutlined />}
                value={username}
                onChange={(e) => setUsername(e.target.value)}
                data-testid="login-username"
                disabled={busy}
              />
            </label>
            <label style={{ display: 'block' }}>
              <span style={{ display: 'block', marginBottom: 4 }}>{t('password')}</span>
              <Input.Password
                autoComplete="current-password"
                prefix={<LockOutlined />}
                value={password}
                onChange={(e) => setPassword(e.target.value)}
                onPressEnter={() => void submit()}
                data-testid="login-password"
                disabled={busy}
              />
            </label>
            {error && (
              <Alert
                type="error"
                showIcon
                data-testid="login-error"
                message={error.title}
                description={error.message}
              />
            )}
            <Button type="primary" htmlType="submit" block loading={busy} data-testid="login-submit">
              {t('submit')}
            </Button>
          </Space>
        </form>
        {appInfo?.demo && (
          <Alert
            style={{ marginTop: 16 }}
            type="info"
            data-testid="login-demo-hint"
            message={t('demo_title')}
            description={
              <div>
                <div style={{ marginBottom: 6 }}>{t('demo_hint')}</div>
                <table style={{ fontFamily: 'monospace', fontSize: 12 }}>
                  <tbody>
                    {DEMO_USERS.map((u) => (
                      <tr key={u.username}>
                        <td style={{ paddingRight: 12 }}>
                          <a onClick={() => fillDemo(u)} role="button" data-testid={`login-demo-${u.username}`}>
                            {u.username}
                          </a>
                        </td>
                        <td style={{ paddingRight: 12 }}>{u.password}</td>
                        <td style={{ fontFamily: 'inherit', opacity: 0.7 }}>{t(`common:role.${u.role}`)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            }
          />
        )}
      </Card>
    </div>
  );
}

// The vault's front door: create it (once per workspace) or unlock it for this session.
import { useEffect, useRef, useState } from 'react';
import type { InputRef } from 'antd';
import { Alert, Button, Card, Form, Input, Typography } from 'antd';
import { LockOutlined, UnlockOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import * as commands from '../../commands';
import { ErrorAlert } from '../../components/ErrorNotice';
import { useCommand } from '../../hooks/useCommand';
import { below, WIDTH } from '../../styles';
import type { VaultStatus } from '../../types';

export const MIN_PASSPHRASE = 12;

export function VaultInit({ canManage, onDone }: { canManage: boolean; onDone: (s: VaultStatus) => void }) {
  const { t } = useTranslation('keys');
  const [pass, setPass] = useState('');
  const [again, setAgain] = useState('');
  const [errors, setErrors] = useState<{ pass?: string; again?: string }>({});
  const {
    run: init,
    loading: busy,
    error: failure,
  } = useCommand((passphrase: string) => commands.vaultInit(passphrase));
  const first = useRef<InputRef>(null);

  useEffect(() => {
    first.current?.focus();
  }, []);

  async function submit() {
    if (busy) return;
    const errs: typeof errors = {};
    if ([...pass].length < MIN_PASSPHRASE) errs.pass = t('vault.errors.too_short', { min: MIN_PASSPHRASE });
    if (again !== pass) errs.again = t('vault.errors.mismatch');
    setErrors(errs);
    if (errs.pass || errs.again) return;
    const r = await init(pass);
    if (r.status === 'ok') {
      setPass('');
      setAgain('');
      onDone(r.value);
    }
  }

  if (!canManage) {
    return <Alert type="info" showIcon data-testid="vault-not-configured" message={t('vault.not_configured_ask')} />;
  }
  return (
    <Card title={t('vault.init_title')} style={{ maxWidth: WIDTH.formCard }} data-testid="vault-init-card">
      <Typography.Paragraph>{t('vault.init_help')}</Typography.Paragraph>
      <Alert type="warning" showIcon style={below.lg} message={t('vault.init_warning')} />
      <Form layout="vertical" component="div">
        <Form.Item
          label={t('vault.passphrase')}
          required
          validateStatus={errors.pass ? 'error' : undefined}
          help={errors.pass ?? t('vault.passphrase_rule', { min: MIN_PASSPHRASE })}
        >
          <Input.Password
            ref={first}
            value={pass}
            autoComplete="new-password"
            onChange={(e) => setPass(e.target.value)}
            onPressEnter={() => void submit()}
            data-testid="vault-passphrase"
          />
        </Form.Item>
        <Form.Item
          label={t('vault.passphrase_again')}
          required
          validateStatus={errors.again ? 'error' : undefined}
          help={errors.again}
        >
          <Input.Password
            value={again}
            autoComplete="new-password"
            onChange={(e) => setAgain(e.target.value)}
            onPressEnter={() => void submit()}
            data-testid="vault-passphrase-confirm"
          />
        </Form.Item>
        <ErrorAlert error={failure} style={below.md} data-testid="vault-error" />
        <Button type="primary" icon={<LockOutlined />} loading={busy} onClick={() => void submit()} data-testid="vault-init">
          {t('vault.init')}
        </Button>
      </Form>
    </Card>
  );
}

export function VaultUnlock({ onDone }: { onDone: (s: VaultStatus) => void }) {
  const { t } = useTranslation('keys');
  const [pass, setPass] = useState('');
  const {
    run: unlock,
    loading: busy,
    error: failure,
  } = useCommand((passphrase: string) => commands.vaultUnlock(passphrase));
  const [empty, setEmpty] = useState(false);
  const input = useRef<InputRef>(null);

  useEffect(() => {
    input.current?.focus();
  }, []);

  async function submit() {
    if (busy) return;
    if (pass === '') {
      setEmpty(true);
      return;
    }
    setEmpty(false);
    const r = await unlock(pass);
    if (r.status === 'ok') {
      setPass('');
      onDone(r.value);
    } else if (r.status === 'failed') {
      setPass('');
      setTimeout(() => input.current?.focus(), 0);
    }
  }

  return (
    <Card title={t('vault.unlock_title')} style={{ maxWidth: WIDTH.formCard }} data-testid="vault-unlock-card">
      <Typography.Paragraph>{t('vault.unlock_help')}</Typography.Paragraph>
      <Form layout="vertical" component="div">
        <Form.Item
          label={t('vault.passphrase')}
          required
          validateStatus={empty ? 'error' : undefined}
          help={empty ? t('vault.errors.empty') : undefined}
        >
          <Input.Password
            ref={input}
            value={pass}
            autoComplete="current-password"
            onChange={(e) => setPass(e.target.value)}
            onPressEnter={() => void submit()}
            data-testid="vault-passphrase"
          />
        </Form.Item>
        <ErrorAlert error={failure} style={below.md} data-testid="vault-error" />
        <Button type="primary" icon={<UnlockOutlined />} loading={busy} onClick={() => void submit()} data-testid="vault-unlock">
          {t('vault.unlock')}
        </Button>
      </Form>
    </Card>
  );
}

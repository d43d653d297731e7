// Settings (admin): what paydesk.toml says (read-only, passwords redacted), a database
// connection test, and the daily reconciliation time.
import { useCallback, useEffect, useState } from 'react';
import { Alert, Button, Card, Col, Descriptions, Input, Row, Space, Spin, Table, Tag, Typography, message } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { ApiOutlined, ClockCircleOutlined, ReloadOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import * as commands from '../../commands';
import { ErrorAlert } from '../../components/ErrorNotice';
import { useCommand } from '../../hooks/useCommand';
import { useSession } from '../../session';
import { above, below, mono, spread, tabular } from '../../styles';
import type { ConnectionTest, Settings, SettingsAccount } from '../../types';

/** The settings view as the backend sends it (SettingsView also carries these). */
export type SettingsView = Settings & {
  config_file?: string;
  accounts: (SettingsAccount & { address?: string | null })[];
};

/** null when `text` is a valid "HH:MM" (or empty = off), else an i18n key of the problem. */
export function scheduleProblem(text: string): string | null {
  const s = text.trim();
  if (s === '') return null;
  const m = /^(\d{1,2}):(\d{2})$/.exec(s);
  if (!m) return 'settings.errors.schedule_format';
  const h = Number(m[1]);
  const min = Number(m[2]);
  if (h > 23 || min > 59) return 'settings.errors.schedule_range';
  return null;
}

/** "7:05" → "07:05"; "" → null. */
export function normalizeSchedule(text: string): string | null {
  const s = text.trim();
  if (s === '') return null;
  const [h, m] = s.split(':');
  return `${h.padStart(2, '0')}:${m}`;
}

export default function SettingsPage() {
  const { t } = useTranslation('admin');
  const { setAppInfo } = useSession();
  const [settings, setSettings] = useState<SettingsView | null>(null);
  const { run: readSettings, loading, error: loadError } = useCommand(() => commands.settings());

  const [url, setUrl] = useState('');
  const [urlError, setUrlError] = useState<string | null>(null);
  const [testResult, setTestResult] = useState<ConnectionTest | null>(null);
  const {
    run: testUrl,
    loading: testing,
    error: testError,
  } = useCommand((u: string) => commands.testConnection(u));

  const [schedule, setSchedule] = useState('');
  const [scheduleError, setScheduleError] = useState<string | null>(null);
  const {
    run: saveTime,
    loading: saving,
    error: saveError,
  } = useCommand((text: string) => commands.saveSchedule(normalizeSchedule(text)));

  const load = useCallback(async () => {
    const r = await readSettings();
    if (r.status !== 'ok') return;
    setSettings(r.value);
    setSchedule(r.value.schedule ?? '');
  }, [readSettings]);

  useEffect(() => {
    void load();
  }, [load]);

  async function testConnection() {
    if (testing) return;
    const u = url.trim();
    if (u === '') {
      setUrlError(t('settings.errors.url_required'));
      return;
    }
    if (!/^(sqlite|postgres|postgresql):\/\//.test(u)) {
      setUrlError(t('settings.errors.url_scheme'));
      return;
    }
    setUrlError(null);
    setTestResult(null);
    const r = await testUrl(u);
    if (r.status === 'ok') setTestResult(r.value);
  }

  async function saveSchedule() {
    if (saving) return;
    const problem = scheduleProblem(schedule);
    setScheduleError(problem ? t(problem) : null);
    if (problem) return;
    const r = await saveTime(schedule);
    if (r.status !== 'ok') return;
    const info = r.value;
    setAppInfo(info);
    setSchedule(info.schedule ?? '');
    setSettings((prev) => (prev ? { ...prev, schedule: info.schedule } : prev));
    void message.success(info.schedule ? t('settings.schedule_saved', { time: info.schedule }) : t('settings.schedule_off_saved'));
  }

  const accountColumns: ColumnsType<SettingsView['accounts'][number]> = [
    { title: t('settings.account_name'), dataIndex: 'name', render: (v: string) => <Typography.Text strong>{v}</Typography.Text> },
    { title: t('common:labels.provider'), dataIndex: 'provider', render: (v: string) => t(`common:provider.${v}`) },
    { title: t('common:labels.currency'), dataIndex: 'currency' },
    { title: t('settings.timezone'), dataIndex: 'timezone' },
    {
      title: t('settings.endpoint'),
      dataIndex: 'endpoint',
      render: (v: string, a) => (
        <span>
          <Tag color={v === 'sandbox' ? 'purple' : v === 'url' ? 'blue' : 'default'}>
            {t(`common:endpoint.${v}`, { defaultValue: v })}
          </Tag>
          {a.address && <code style={mono}>{a.address}</code>}
        </span>
      ),
    },
  ];

  return (
    <div>
      <Space style={spread} align="center">
        <Typography.Title level={3}>{t('settings.title')}</Typography.Title>
        <Button icon={<ReloadOutlined />} loading={loading} onClick={() => void load()} data-testid="settings-refresh">
          {t('common:actions.refresh')}
        </Button>
      </Space>
      <ErrorAlert error={loadError} onRetry={() => void load()} style={below.md} />
      {!settings && loading && <Spin />}

      {settings && (
        <>
          <Alert
            type="info"
            showIcon
            style={below.lg}
            data-testid="settings-config-file"
            message={t('settings.edit_in_file')}
            description={
              <Typography.Text copyable style={mono}>
                {settings.config_file ?? `${settings.workspace}/paydesk.toml`}
              </Typography.Text>
            }
          />
          <Row gutter={[16, 16]}>
            <Col xs={24} xl={12}>
              <Card size="small" title={t('settings.workspace_section')} data-testid="settings-workspace">
                <Descriptions size="small" column={1}>
                  <Descriptions.Item label={t('settings.workspace')}>
                    <span style={mono}>{settings.workspace}</span>
                  </Descriptions.Item>
                  <Descriptions.Item label={t('settings.database')}>
                    <span style={mono}>{settings.database}</span>
                  </Descriptions.Item>
                  <Descriptions.Item label={t('settings.mirror')}>
                    <span style={mono}>{settings.mirror}</span>
                  </Descriptions.Item>
                  <Descriptions.Item label={t('settings.timezone')}>{settings.timezone}</Descriptions.Item>
                </Descriptions>
              </Card>
            </Col>
            <Col xs={24} xl={12}>
              <Card size="small" title={t('settings.rules_section')}>
                <Descriptions size="small" column={1}>
                  <Descriptions.Item label={t('settings.tolerance_amount')}>{String(settings.tolerances.amount)}</Descriptions.Item>
                  <Descriptions.Item label={t('settings.tolerance_fee')}>{String(settings.tolerances.fee)}</Descriptions.Item>
                  <Descriptions.Item label={t('settings.timing_window')}>
                    {t('settings.minutes', { count: settings.tolerances.timing_window_minutes })}
                  </Descriptions.Item>
                  <Descriptions.Item label={t('settings.sla_days')}>
                    {t('settings.days', { count: settings.sla.days })}
                  </Descriptions.Item>
                  <Descriptions.Item label={t('settings.sla_large')}>
                    {t('settings.sla_large_value', { amount: String(settings.sla.large_amount), days: settings.sla.large_days })}
                  </Descriptions.Item>
                  <Descriptions.Item label={t('settings.support_limit')}>{settings.refunds.support_limit}</Descriptions.Item>
                  <Descriptions.Item label={t('settings.admin_limit')}>
                    {settings.refunds.admin_limit ?? t('settings.no_limit')}
                  </Descriptions.Item>
                  <Descriptions.Item label={t('settings.daily_count')}>{settings.refunds.daily_count}</Descriptions.Item>
                </Descriptions>
                <Typography.Text type="secondary">{t('settings.limits_note')}</Typography.Text>
              </Card>
            </Col>
            <Col xs={24} xl={12}>
              <Card size="small" title={t('settings.vault_section')} data-testid="settings-vault">
                <Descriptions size="small" column={1}>
                  <Descriptions.Item label={t('settings.vault_master')}>
                    {settings.vault.key_file ? (
                      <span style={mono}>{t('settings.vault_key_file', { path: settings.vault.key_file })}</span>
                    ) : (
                      t('settings.vault_passphrase')
                    )}
                  </Descriptions.Item>
                  <Descriptions.Item label={t('settings.vault_grace')}>
                    {t('settings.hours', { count: settings.vault.grace_hours })}
                  </Descriptions.Item>
                  <Descriptions.Item label={t('settings.vault_refresh')}>
                    {t('settings.hours', { count: settings.vault.certificate_refresh_hours })}
                  </Descriptions.Item>
                  <Descriptions.Item label={t('settings.vault_warning')}>
                    {t('settings.days', { count: settings.vault.expiry_warning_days })}
                  </Descriptions.Item>
                </Descriptions>
                <Typography.Text type="secondary">{t('settings.vault_note')}</Typography.Text>
              </Card>
            </Col>
            <Col xs={24}>
              <Card size="small" title={t('settings.accounts_section')}>
                <Table
                  size="small"
                  rowKey="name"
                  columns={accountColumns}
                  dataSource={settings.accounts}
                  pagination={false}
                  onRow={(a) => ({ 'data-testid': `settings-account-${a.name}` }) as React.HTMLAttributes<HTMLElement>}
                />
              </Card>
            </Col>
            <Col xs={24} xl={12}>
              <Card size="small" title={<Space><ClockCircleOutlined />{t('settings.schedule_section')}</Space>}>
                <Typography.Paragraph type="secondary">{t('settings.schedule_help')}</Typography.Paragraph>
                <Space align="start" wrap>
                  <div>
                    <Input
                      value={schedule}
                      placeholder="HH:MM"
                      allowClear
                      status={scheduleError ? 'error' : undefined}
                      onChange={(e) => {
                        setSchedule(e.target.value);
                        setScheduleError(null);
                      }}
                      onPressEnter={() => void saveSchedule()}
                      style={{ width: 140, ...tabular }}
                      data-testid="settings-schedule"
                      aria-label={t('settings.schedule_label')}
                    />
                    {scheduleError && (
                      <div>
                        <Typography.Text type="danger" data-testid="settings-schedule-error">
                          {scheduleError}
                        </Typography.Text>
                      </div>
                    )}
                  </div>
                  <Button type="primary" loading={saving} onClick={() => void saveSchedule()} data-testid="settings-save-schedule">
                    {t('common:actions.save')}
                  </Button>
                </Space>
                <div style={above.sm}>
                  <Typography.Text data-testid="settings-schedule-current">
                    {settings.schedule
                      ? t('settings.schedule_current', { time: settings.schedule, tz: settings.timezone })
                      : t('settings.schedule_off')}
                  </Typography.Text>
                </div>
                <ErrorAlert error={saveError} style={above.sm} />
              </Card>
            </Col>
            <Col xs={24} xl={12}>
              <Card size="small" title={<Space><ApiOutlined />{t('settings.test_section')}</Space>}>
                <Typography.Paragraph type="secondary">{t('settings.test_help')}</Typography.Paragraph>
                <Space.Compact style={{ width: '100%' }}>
                  <Input
                    value={url}
                    placeholder="postgres://user:password@host:5432/db"
                    status={urlError ? 'error' : undefined}
                    onChange={(e) => {
                      setUrl(e.target.value);
                      setUrlError(null);
                    }}
                    onPressEnter={() => void testConnection()}
                    data-testid="settings-test-url"
                    aria-label={t('settings.test_url')}
                    autoComplete="off"
                    spellCheck={false}
                  />
                  <Button type="primary" loading={testing} onClick={() => void testConnection()} data-testid="settings-test-connection">
                    {t('settings.test')}
                  </Button>
                </Space.Compact>
                {urlError && <Typography.Text type="danger">{urlError}</Typography.Text>}
                {testResult && (
                  <Alert
                    style={above.sm}
                    type={testResult.ok ? 'success' : 'error'}
                    showIcon
                    data-testid="settings-test-result"
                    data-ok={String(testResult.ok)}
                    message={testResult.ok ? t('settings.test_ok') : t('settings.test_failed')}
                    description={testResult.message}
                  />
                )}
                <ErrorAlert error={testError} style={above.sm} />
              </Card>
            </Col>
          </Row>
        </>
      )}
    </div>
  );
}

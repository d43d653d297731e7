import { afterEach, describe, expect, it, vi } from 'vitest';
import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { makeAppInfo, makeMe, renderWithSession } from '../../test-utils';
import { clearMocks, fakeBackend, fill, findReady, lastCall } from '../orders/fixtures';
import type { SettingsView } from './SettingsPage';
import SettingsPage, { normalizeSchedule, scheduleProblem } from './SettingsPage';

afterEach(() => clearMocks());

const SETTINGS: SettingsView = {
  workspace: '/srv/paydesk',
  config_file: '/srv/paydesk/paydesk.toml',
  database: 'postgres://paydesk:***@db:5432/paydesk',
  mirror: 'sqlite://mirror.db',
  timezone: 'Asia/Shanghai',
  schedule: '07:30',
  tolerances: { amount: '0.00', timing_window_minutes: 30, fee: '0.01' },
  sla: { days: 3, large_amount: '10000.00', large_days: 1 },
  refunds: { support_limit: '500.00', admin_limit: null, daily_count: 20 },
  vault: { key_file: '/srv/paydesk/vault.key', grace_hours: 48, certificate_refresh_hours: 12, expiry_warning_days: 60 },
  accounts: [
    { name: 'alipay-main', provider: 'alipay', currency: 'CNY', endpoint: 'sandbox', timezone: 'Asia/Shanghai', address: null },
    {
      name: 'stripe-us',
      provider: 'stripe',
      currency: 'USD',
      endpoint: 'url',
      timezone: 'UTC',
      address: 'https://api.stripe.com',
    },
  ],
};

function setup() {
  const setAppInfo = vi.fn();
  const calls = fakeBackend({
    settings: () => SETTINGS,
    save_schedule: (a) => makeAppInfo({ schedule: (a.time as string | null) ?? null }),
    test_connection: (a) =>
      String(a.url).startsWith('sqlite://')
        ? { ok: true, message: 'connected to sqlite://paydesk.db: SQLite, 14 tables' }
        : { ok: false, message: 'cannot connect to postgres://u:***@nowhere/db: connection refused' },
  });
  renderWithSession(<SettingsPage />, { me: makeMe(), setAppInfo });
  return { calls, setAppInfo };
}

describe('schedule rules', () => {
  it('accepts HH:MM or empty', () => {
    expect(scheduleProblem('')).toBeNull();
    expect(scheduleProblem('7:05')).toBeNull();
    expect(scheduleProblem('23:59')).toBeNull();
    expect(scheduleProblem('24:00')).toBe('settings.errors.schedule_range');
    expect(scheduleProblem('12:60')).toBe('settings.errors.schedule_range');
    expect(scheduleProblem('7.30')).toBe('settings.errors.schedule_format');
    expect(scheduleProblem('0730')).toBe('settings.errors.schedule_format');
    expect(normalizeSchedule('7:05')).toBe('07:05');
    expect(normalizeSchedule('  ')).toBeNull();
  });
});

describe('SettingsPage', () => {
  it('shows the settings read-only with the config file path', async () => {
    setup();
    expect(await screen.findByTestId('settings-config-file')).toHaveTextContent('/srv/paydesk/paydesk.toml');
    expect(screen.getByText('postgres://paydesk:***@db:5432/paydesk')).toBeInTheDocument();
    expect(screen.getByTestId('settings-account-stripe-us')).toHaveTextContent('https://api.stripe.com');
    expect(screen.getByTestId('settings-account-alipay-main')).toHaveTextContent('Sandbox');
    expect(screen.getByTestId('settings-schedule')).toHaveValue('07:30');
    expect(screen.getByTestId('settings-schedule-current')).toHaveTextContent('Runs every day at 07:30 (Asia/Shanghai).');
    const vault = screen.getByTestId('settings-vault');
    expect(vault).toHaveTextContent('key file /srv/paydesk/vault.key');
    expect(vault).toHaveTextContent('A replaced key stays usable for48 h');
    expect(vault).toHaveTextContent('WeChat Pay certificates downloaded every12 h');
    expect(vault).toHaveTextContent('Warn before a key expires60 days');
  });

  it('validates the schedule before saving it', async () => {
    const u = userEvent.setup({ delay: null });
    const { calls, setAppInfo } = setup();
    const input = await screen.findByTestId('settings-schedule');
    await fill(u, input, '25:00');
    await u.click(screen.getByTestId('settings-save-schedule'));
    expect(await screen.findByTestId('settings-schedule-error')).toHaveTextContent(
      'Daily run time: hours 00–23 and minutes 00–59.',
    );
    await fill(u, input, 'seven');
    await u.keyboard('{Enter}');
    expect(await screen.findByTestId('settings-schedule-error')).toHaveTextContent('Daily run time: use HH:MM');
    expect(calls.some((c) => c.cmd === 'save_schedule')).toBe(false);

    await fill(u, input, '6:45');
    await u.click(screen.getByTestId('settings-save-schedule'));
    await waitFor(() => expect(lastCall(calls, 'save_schedule')?.args).toEqual({ time: '06:45' }));
    await waitFor(() => expect(setAppInfo).toHaveBeenCalledWith(expect.objectContaining({ schedule: '06:45' })));
    expect(screen.getByTestId('settings-schedule-current')).toHaveTextContent('Runs every day at 06:45');

    // Empty turns the daily run off.
    await fill(u, input, '');
    await u.click(screen.getByTestId('settings-save-schedule'));
    await waitFor(() => expect(lastCall(calls, 'save_schedule')?.args).toEqual({ time: null }));
    await waitFor(() => expect(screen.getByTestId('settings-schedule-current')).toHaveTextContent('No daily run is scheduled.'));
  });

  it('tests a connection and shows the outcome', async () => {
    const u = userEvent.setup({ delay: null });
    const { calls } = setup();
    await u.click(await findReady('settings-test-connection'));
    expect(await screen.findByText('Connection URL: enter a URL to test.')).toBeInTheDocument();
    await fill(u, screen.getByTestId('settings-test-url'), 'mysql://x');
    await u.click(screen.getByTestId('settings-test-connection'));
    expect(await screen.findByText('Connection URL: it must start with sqlite:// or postgres://.')).toBeInTheDocument();
    expect(calls.some((c) => c.cmd === 'test_connection')).toBe(false);

    await fill(u, screen.getByTestId('settings-test-url'), 'sqlite://paydesk.db');
    await u.click(screen.getByTestId('settings-test-connection'));
    let result = await screen.findByTestId('settings-test-result');
    expect(result).toHaveAttribute('data-ok', 'true');
    expect(result).toHaveTextContent('SQLite, 14 tables');
    expect(lastCall(calls, 'test_connection')?.args).toEqual({ url: 'sqlite://paydesk.db' });

    await fill(u, screen.getByTestId('settings-test-url'), 'postgres://u:secret@nowhere/db');
    await u.keyboard('{Enter}');
    await waitFor(() => expect(screen.getByTestId('settings-test-result')).toHaveAttribute('data-ok', 'false'));
    result = screen.getByTestId('settings-test-result');
    expect(result).toHaveTextContent('connection refused');
  });
});

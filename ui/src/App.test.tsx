import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { act, render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { theme } from 'antd';
import App from './App';
import { DARK_QUERY, themeConfig } from './theme';
import { setLanguage } from './i18n';
import { makeAppInfo } from './test-utils';
import type { Me, RefundRecord } from './types';
import { makeRefund } from './pages/orders/fixtures';
import { APPROVAL_POLL_MS } from './hooks/useApprovalQueue';

// The pages themselves are tested on their own; here they are stand-ins.
vi.mock('./pages/DashboardPage', () => ({ default: () => <div data-testid="page-dashboard">dashboard page</div> }));
vi.mock('./pages/ReconcilePage', () => ({ default: () => <div data-testid="page-reconcile">reconcile page</div> }));
vi.mock('./pages/discrepancies/DiscrepanciesPage', () => ({ default: () => <div data-testid="page-discrepancies" /> }));
vi.mock('./pages/orders/OrdersPage', () => ({ default: () => <div data-testid="page-orders" /> }));
vi.mock('./pages/orders/ApprovalsPage', () => ({ default: () => <div data-testid="page-approvals" /> }));
vi.mock('./pages/keys/KeysPage', () => ({ default: () => <div data-testid="page-keys" /> }));
vi.mock('./pages/admin/UsersPage', () => ({ default: () => <div data-testid="page-users" /> }));
vi.mock('./pages/admin/AuditPage', () => ({ default: () => <div data-testid="page-audit" /> }));
vi.mock('./pages/admin/SettingsPage', () => ({ default: () => <div data-testid="page-settings" /> }));

const FINANCE: Me = {
  username: 'finance',
  roles: ['finance'],
  permissions: ['reconcile_run', 'discrepancy_view', 'discrepancy_review', 'report_export'],
};
const SUPPORT: Me = { username: 'support', roles: ['support'], permissions: ['order_view', 'refund_request'] };

interface Backend {
  me: Me | null;
  calls: { cmd: string; args: unknown }[];
  /** What `refunds` answers (the approval queue). */
  refunds: RefundRecord[];
}

function backend(users: Record<string, { password: string; me: Me }>, initial: Me | null = null): Backend {
  const state: Backend = { me: initial, calls: [], refunds: [] };
  mockIPC((cmd, args) => {
    state.calls.push({ cmd, args });
    switch (cmd) {
      case 'app_info':
        return makeAppInfo({ workspace: '/srv/paydesk-demo' });
      case 'me':
        return state.me;
      case 'login': {
        const { username, password } = args as { username: string; password: string };
        const u = users[username];
        if (!u || u.password !== password) {
          throw { kind: 'unauthenticated', message: 'Wrong username or password.' };
        }
        state.me = u.me;
        return u.me;
      }
      case 'logout':
        state.me = null;
        return null;
      case 'refunds':
        return state.refunds;
      default:
        throw { kind: 'unauthenticated', message: 'Please sign in.' };
    }
  });
  return state;
}

beforeEach(async () => {
  window.localStorage.clear();
  window.history.replaceState(null, '', '/');
  await setLanguage('en');
});

afterEach(() => {
  clearMocks();
});

describe('login', () => {
  it('signs in and shows only the menu entries the permissions allow', async () => {
    const be = backend({ finance: { password: 'ledger-maple-2026', me: FINANCE } });
    const user = userEvent.setup();
    render(<App />);

    expect(await screen.findByTestId('login-username')).toBeInTheDocument();
    expect(screen.getByTestId('login-workspace')).toHaveTextContent('/srv/paydesk-demo');
    // Demo workspace: the demo users are listed.
    expect(screen.getByTestId('login-demo-hint')).toHaveTextContent('ledger-maple-2026');

    await user.type(screen.getByTestId('login-username'), 'finance');
    await user.type(screen.getByTestId('login-password'), 'ledger-maple-2026{Enter}');

    expect(await screen.findByTestId('header-user')).toHaveTextContent('finance');
    expect(screen.getByTestId('header-roles')).toHaveTextContent('Finance');
    expect(screen.getByTestId('header-roles')).toHaveAttribute('data-roles', 'finance');
    expect(be.calls.find((c) => c.cmd === 'login')?.args).toEqual({
      username: 'finance',
      password: 'ledger-maple-2026',
    });

    for (const key of ['dashboard', 'reconcile', 'discrepancies']) {
      expect(screen.getByTestId(`nav-${key}`)).toBeInTheDocument();
    }
    for (const key of ['orders', 'approvals', 'keys', 'users', 'audit', 'settings']) {
      expect(screen.queryByTestId(`nav-${key}`)).toBeNull();
    }
    expect(await screen.findByTestId('page-dashboard')).toBeInTheDocument();
  });

  it('shows another menu for support and opens its first page', async () => {
    backend({ support: { password: 'helpdesk-river-2026', me: SUPPORT } });
    const user = userEvent.setup();
    render(<App />);
    await user.type(await screen.findByTestId('login-username'), 'support');
    await user.type(screen.getByTestId('login-password'), 'helpdesk-river-2026');
    await user.click(screen.getByTestId('login-submit'));

    expect(await screen.findByTestId('nav-orders')).toBeInTheDocument();
    expect(screen.queryByTestId('nav-dashboard')).toBeNull();
    expect(screen.queryByTestId('nav-reconcile')).toBeNull();
    expect(screen.queryByTestId('nav-approvals')).toBeNull();
    expect(await screen.findByTestId('page-orders')).toBeInTheDocument();
  });

  it('shows the error for a wrong password and stays on the login screen', async () => {
    backend({ finance: { password: 'ledger-maple-2026', me: FINANCE } });
    const user = userEvent.setup();
    render(<App />);
    await user.type(await screen.findByTestId('login-username'), 'finance');
    await user.type(screen.getByTestId('login-password'), 'wrong{Enter}');

    const err = await screen.findByTestId('login-error');
    expect(err).toHaveTextContent('Wrong username or password.');
    expect(err).toHaveTextContent('Sign-in failed');
    expect(screen.queryByTestId('header-user')).toBeNull();
    // The password is cleared for the next try.
    expect(screen.getByTestId('login-password')).toHaveValue('');
  });

  it('names the missing field before calling the backend', async () => {
    const be = backend({});
    const user = userEvent.setup();
    render(<App />);
    await user.click(await screen.findByTestId('login-submit'));
    expect(await screen.findByTestId('login-error')).toHaveTextContent('Enter your username.');
    expect(be.calls.some((c) => c.cmd === 'login')).toBe(false);
  });

  it('switches the language on the login screen', async () => {
    backend({});
    const user = userEvent.setup();
    render(<App />);
    const submit = await screen.findByTestId('login-submit');
    expect(submit).toHaveTextContent('Sign in');
    const sw = screen.getByTestId('lang-switch');
    expect(sw).toHaveTextContent('简体中文');

    await user.click(sw);
    await waitFor(() => expect(screen.getByTestId('login-submit')).toHaveTextContent('登录'));
    expect(screen.getByTestId('lang-switch')).toHaveTextContent('English');
    expect(window.localStorage.getItem('paydesk.lang')).toBe('zh');

    await user.click(screen.getByTestId('lang-switch'));
    await waitFor(() => expect(screen.getByTestId('login-submit')).toHaveTextContent('Sign in'));
  });
});

describe('shell', () => {
  it('keeps the page in the hash, switches with Alt+digit and the menu, and logs out', async () => {
    const admin: Me = {
      username: 'admin',
      roles: ['admin'],
      permissions: [
        'reconcile_run',
        'discrepancy_view',
        'order_view',
        'refund_approve',
        'key_view',
        'user_manage',
        'audit_view',
        'settings_manage',
      ],
    };
    window.history.replaceState(null, '', '/#/keys');
    backend({}, admin);
    const user = userEvent.setup();
    render(<App />);

    // Restored from the hash.
    expect(await screen.findByTestId('page-keys')).toBeInTheDocument();

    // Alt+2 → the second entry (reconcile).
    await act(async () => {
      window.dispatchEvent(new KeyboardEvent('keydown', { key: '2', code: 'Digit2', altKey: true }));
    });
    expect(await screen.findByTestId('page-reconcile')).toBeInTheDocument();
    expect(window.location.hash).toBe('#/reconcile');

    await user.click(screen.getByTestId('nav-settings'));
    expect(await screen.findByTestId('page-settings')).toBeInTheDocument();
    expect(window.location.hash).toBe('#/settings');

    // The menu labels follow the language.
    expect(screen.getByTestId('nav-audit')).toHaveTextContent('Audit log');
    await user.click(screen.getByTestId('lang-switch'));
    await waitFor(() => expect(screen.getByTestId('nav-audit')).toHaveTextContent('审计日志'));
    expect(screen.getByTestId('header-roles')).toHaveTextContent('管理员');

    await user.click(screen.getByTestId('logout'));
    expect(await screen.findByTestId('login-username')).toBeInTheDocument();
  });

  it('an approver lands on Approvals with the count of refunds waiting for them, and hears of new ones', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      const approver: Me = { username: 'approver', roles: ['approver'], permissions: ['order_view', 'refund_approve', 'discrepancy_view'] };
      const be = backend({}, approver);
      const waiting = (id: number, by: string) => makeRefund({ id, refund_no: `RF-${id}`, state: 'awaiting_approval', requested_by: by });
      // Their own request does not count: they may not approve it.
      be.refunds = [waiting(1, 'support'), waiting(2, 'approver')];
      render(<App />);
      expect(await screen.findByTestId('page-approvals')).toBeInTheDocument();
      await waitFor(() => expect(screen.getByTestId('nav-approvals-count')).toHaveAttribute('data-count', '1'));

      // A request from another console or the CLI: the next poll shows it and says so.
      be.refunds = [...be.refunds, waiting(3, 'support2')];
      await act(async () => {
        await vi.advanceTimersByTimeAsync(APPROVAL_POLL_MS + 100);
      });
      await waitFor(() => expect(screen.getByTestId('nav-approvals-count')).toHaveAttribute('data-count', '2'));
      expect(await screen.findByText('1 refund waits for your approval')).toBeInTheDocument();
      expect(screen.getByText('Requested by support2.')).toBeInTheDocument();
    } finally {
      vi.useRealTimers();
    }
  });

  it('returns to the login screen when a command says the session ended', async () => {
    backend({}, FINANCE);
    render(<App />);
    expect(await screen.findByTestId('header-user')).toHaveTextContent('finance');
    const { call } = await import('./api');
    await act(async () => {
      await expect(call('dashboard', { days: 30 })).rejects.toEqual({
        kind: 'unauthenticated',
        code: 'unauthenticated',
        message: 'Please sign in.',
      });
    });
    expect(await screen.findByTestId('login-username')).toBeInTheDocument();
  });
});

describe('colour scheme', () => {
  /** A system whose dark preference the test sets, telling the app as a browser would. */
  function systemScheme(dark: boolean) {
    const listeners = new Set<(e: { matches: boolean }) => void>();
    let prefersDark = dark;
    const original = window.matchMedia;
    window.matchMedia = ((query: string) => {
      const isDarkQuery = query === DARK_QUERY;
      return {
        get matches() {
          return isDarkQuery && prefersDark;
        },
        media: query,
        onchange: null,
        addEventListener: (_: string, l: (e: { matches: boolean }) => void) => isDarkQuery && listeners.add(l),
        removeEventListener: (_: string, l: (e: { matches: boolean }) => void) => listeners.delete(l),
        addListener: (l: (e: { matches: boolean }) => void) => isDarkQuery && listeners.add(l),
        removeListener: (l: (e: { matches: boolean }) => void) => listeners.delete(l),
        dispatchEvent: () => false,
      } as unknown as MediaQueryList;
    }) as typeof window.matchMedia;
    return {
      listening: () => listeners.size,
      set(d: boolean) {
        prefersDark = d;
        for (const l of [...listeners]) l({ matches: d });
      },
      restore() {
        window.matchMedia = original;
      },
    };
  }

  const root = document.documentElement;
  let system: ReturnType<typeof systemScheme> | null = null;
  afterEach(() => {
    system?.restore();
    system = null;
  });

  it('is dark when the system prefers dark, and follows the system when it changes', async () => {
    system = systemScheme(true);
    backend({}, SUPPORT);
    const { unmount } = render(<App />);
    const header = (await screen.findByTestId('header-user')).closest('header')!;

    // antd's dark algorithm: the header has its dark container colour, and our own colours
    // (CSS variables) take antd's dark tokens.
    expect(header.style.backgroundColor).toBe('rgb(20, 20, 20)');
    expect(root.dataset.colorScheme).toBe('dark');
    expect(root.style.colorScheme).toBe('dark');
    expect(root.style.getPropertyValue('--pd-border')).toBe('#303030');
    expect(root.style.getPropertyValue('--pd-bg')).toBe('#141414');

    // The system turns light: so does the app, and the variables are gone (the light values apply).
    act(() => system!.set(false));
    await waitFor(() => expect(header.style.backgroundColor).toBe('rgb(255, 255, 255)'));
    expect(root.dataset.colorScheme).toBe('light');
    expect(root.style.colorScheme).toBe('');
    expect(root.style.getPropertyValue('--pd-border')).toBe('');

    act(() => system!.set(true));
    await waitFor(() => expect(header.style.backgroundColor).toBe('rgb(20, 20, 20)'));
    expect(root.style.getPropertyValue('--pd-border')).toBe('#303030');

    // Leaving stops listening and takes the dark colours away.
    unmount();
    expect(system.listening()).toBe(0);
    expect(root.style.getPropertyValue('--pd-border')).toBe('');
  });

  it('is light, as before, when the system does not prefer dark', async () => {
    system = systemScheme(false);
    backend({}, SUPPORT);
    render(<App />);
    const header = (await screen.findByTestId('header-user')).closest('header')!;
    expect(header.style.backgroundColor).toBe('rgb(255, 255, 255)');
    expect(header.style.borderBottom).toBe('1px solid rgb(240, 240, 240)');
    expect(root.dataset.colorScheme).toBe('light');
    expect(root.style.getPropertyValue('--pd-bg')).toBe('');
    expect(themeConfig('light').algorithm).toBeUndefined();
    expect(themeConfig('dark').algorithm).toBe(theme.darkAlgorithm);
  });
});

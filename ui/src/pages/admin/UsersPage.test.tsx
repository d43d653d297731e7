import { afterEach, describe, expect, it } from 'vitest';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { makeMe, renderWithSession } from '../../test-utils';
import type { Role, UserRecord } from '../../types';
import { clearMocks, fakeBackend, fill, findReady, lastCall } from '../orders/fixtures';
import type { Handler } from '../orders/fixtures';
import UsersPage from './UsersPage';
import { passwordProblem, usernameProblem } from './userRules';

afterEach(() => clearMocks());

function user(over: Partial<UserRecord> = {}): UserRecord {
  return {
    id: 1,
    username: 'admin',
    display_name: 'admin',
    roles: ['admin'],
    disabled: false,
    failed_attempts: 0,
    locked_until: null,
    created_at: '2026-01-01T00:00:00Z',
    password_changed_at: '2026-01-01T00:00:00Z',
    ...over,
  };
}

const LOCKED_UNTIL = new Date(Date.now() + 3600_000).toISOString();
const USERS = [
  user(),
  user({ id: 2, username: 'li.na', display_name: 'Li Na', roles: ['finance', 'approver'], failed_attempts: 5, locked_until: LOCKED_UNTIL }),
  user({ id: 3, username: 'old.temp', roles: ['support'], disabled: true }),
];

function setup(handlers: Record<string, Handler> = {}) {
  const calls = fakeBackend({ users: () => USERS, ...handlers });
  renderWithSession(<UsersPage />, { me: makeMe() });
  return calls;
}

async function pickRole(u: ReturnType<typeof userEvent.setup>, testId: string, label: string) {
  const select = screen.getByTestId(testId);
  await u.click(within(select).getByRole('combobox'));
  const option = await waitFor(() => {
    const el = document.querySelector(`.ant-select-item-option[title="${label}"]`);
    if (!el) throw new Error(`no option ${label}`);
    return el as HTMLElement;
  });
  await u.click(option);
}

describe('user rules', () => {
  it('match the backend rules', () => {
    expect(usernameProblem('a')).toBe('users.errors.username_format');
    expect(usernameProblem('zhang wei')).toBe('users.errors.username_format');
    expect(usernameProblem('zhang.wei@shop')).toBeNull();
    expect(passwordProblem('bob', 'abc123')).toBe('users.errors.password_short');
    expect(passwordProblem('bob', 'abcdefghijk')).toBe('users.errors.password_mix');
    expect(passwordProblem('bob', '12345678901')).toBe('users.errors.password_mix');
    expect(passwordProblem('bob', 'xxBOB1234567')).toBe('users.errors.password_username');
    expect(passwordProblem('bob', '密码安全性很重要2026')).toBeNull();
  });
});

describe('UsersPage', () => {
  it('lists users with roles, disabled and locked state', async () => {
    setup();
    const li = await screen.findByTestId('user-row-li.na');
    expect(li).toHaveTextContent('Li Na');
    expect(li).toHaveTextContent('Finance');
    expect(li).toHaveTextContent('Approver');
    expect(li).toHaveTextContent('Locked until');
    expect(screen.getByTestId('user-row-old.temp')).toHaveAttribute('data-disabled', 'true');
    expect(screen.getByTestId('user-row-old.temp')).toHaveTextContent('Disabled');
    expect(screen.getByTestId('user-row-admin')).toHaveTextContent('You');
  });

  it('validates the create form before sending create_user', async () => {
    const u = userEvent.setup({ delay: null });
    const calls = setup({
      create_user: (a) => user({ id: 9, username: String(a.username), display_name: String(a.username), roles: a.roles as Role[] }),
    });
    await u.click(await findReady('user-create'));
    await u.click(await screen.findByTestId('user-form-submit'));
    expect(await screen.findByText('Username: required.')).toBeInTheDocument();
    expect(screen.getByText('Password: required.')).toBeInTheDocument();
    expect(screen.getByText('Roles: choose at least one role.')).toBeInTheDocument();

    await fill(u, screen.getByTestId('user-form-username'), 'zhang.wei');
    await fill(u, screen.getByTestId('user-form-password'), 'abc123');
    await u.click(screen.getByTestId('user-form-submit'));
    expect(await screen.findByText('Password: use at least 10 characters.')).toBeInTheDocument();

    await fill(u, screen.getByTestId('user-form-password'), 'abcdefghijkl');
    await u.click(screen.getByTestId('user-form-submit'));
    expect(await screen.findByText('Password: include at least one letter and one digit.')).toBeInTheDocument();

    await fill(u, screen.getByTestId('user-form-password'), 'Zhang.Wei2026');
    await u.click(screen.getByTestId('user-form-submit'));
    expect(await screen.findByText('Password: must not contain the username.')).toBeInTheDocument();
    expect(calls.some((c) => c.cmd === 'create_user')).toBe(false);

    await fill(u, screen.getByTestId('user-form-password'), 'Sunny-day-2026');
    await pickRole(u, 'user-form-roles', 'Support');
    await u.click(screen.getByTestId('user-form-submit'));
    expect(await screen.findByTestId('user-row-zhang.wei')).toHaveTextContent('Support');
    expect(lastCall(calls, 'create_user')?.args).toEqual({
      username: 'zhang.wei',
      password: 'Sunny-day-2026',
      roles: ['support'],
    });
  });

  it("shows the backend's refusal in the form", async () => {
    const u = userEvent.setup({ delay: null });
    setup({
      create_user: () => {
        throw { kind: 'bad_input', message: 'user li.na already exists' };
      },
    });
    await u.click(await findReady('user-create'));
    await fill(u, await screen.findByTestId('user-form-username'), 'li.na');
    await fill(u, screen.getByTestId('user-form-password'), 'Another-pass-99');
    await pickRole(u, 'user-form-roles', 'Finance');
    await u.click(screen.getByTestId('user-form-submit'));
    expect(await screen.findByTestId('user-form-error')).toHaveTextContent('user li.na already exists');
  });

  it('changes roles, disables and resets passwords with the right commands', async () => {
    const u = userEvent.setup({ delay: null });
    const calls = setup({
      set_roles: (a) => user({ ...USERS[1], roles: a.roles as Role[] }),
      set_disabled: (a) => user({ ...USERS[1], disabled: Boolean(a.disabled) }),
      reset_password: () => null,
    });
    await u.click(await findReady('user-roles-li.na'));
    await pickRole(u, 'user-roles-select', 'Support');
    await u.click(screen.getByTestId('user-roles-submit'));
    await waitFor(() =>
      expect(lastCall(calls, 'set_roles')?.args).toEqual({ username: 'li.na', roles: ['finance', 'approver', 'support'] }),
    );

    await u.click(screen.getByTestId('user-disable-li.na'));
    await u.click(await screen.findByTestId('user-disable-confirm'));
    await waitFor(() => expect(lastCall(calls, 'set_disabled')?.args).toEqual({ username: 'li.na', disabled: true }));
    await waitFor(() => expect(screen.getByTestId('user-row-li.na')).toHaveAttribute('data-disabled', 'true'));

    await u.click(screen.getByTestId('user-reset-li.na'));
    await fill(u, await screen.findByTestId('user-reset-password'), 'short');
    await u.click(screen.getByTestId('user-reset-submit'));
    expect(await screen.findByText('Password: use at least 10 characters.')).toBeInTheDocument();
    expect(calls.some((c) => c.cmd === 'reset_password')).toBe(false);
    await fill(u, screen.getByTestId('user-reset-password'), 'Fresh-start-2026');
    await u.click(screen.getByTestId('user-reset-submit'));
    await waitFor(() =>
      expect(lastCall(calls, 'reset_password')?.args).toEqual({ username: 'li.na', password: 'Fresh-start-2026' }),
    );
  });
});

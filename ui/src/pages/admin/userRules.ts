// Input checks for user forms, the same rules the backend applies (it checks again).
import type { Role } from '../../types';

export const PASSWORD_MIN = 10;
export const PASSWORD_MAX = 256;

/** An i18n key (admin namespace) naming the problem with the username, or null. */
export function usernameProblem(username: string): string | null {
  const u = username.trim();
  if (u === '') return 'users.errors.username_required';
  const n = [...u].length;
  if (n < 2 || n > 64 || !/^[A-Za-z0-9._@-]+$/.test(u)) return 'users.errors.username_format';
  return null;
}

/** An i18n key naming the problem with the password, or null. */
export function passwordProblem(username: string, password: string): string | null {
  if (password === '') return 'users.errors.password_required';
  const n = [...password].length;
  if (n < PASSWORD_MIN) return 'users.errors.password_short';
  if (n > PASSWORD_MAX) return 'users.errors.password_long';
  if (!/\p{L}/u.test(password) || !/[0-9]/.test(password)) return 'users.errors.password_mix';
  const u = username.trim().toLowerCase();
  if (u !== '' && password.toLowerCase().includes(u)) return 'users.errors.password_username';
  return null;
}

export function rolesProblem(roles: Role[]): string | null {
  return roles.length === 0 ? 'users.errors.roles_required' : null;
}

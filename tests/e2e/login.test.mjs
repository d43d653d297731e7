// Sign-in: every role sees exactly its menu; a wrong password is refused on screen and in
// the audit log; the language switch turns the menu Chinese and back.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { makeWorkspace, shotOnFailure, startApp } from './lib.mjs';

const ALL_PAGES = ['dashboard', 'reconcile', 'discrepancies', 'settlements', 'orders', 'approvals', 'keys', 'users', 'audit', 'settings'];

// What each demo user must see, from the backend's permission matrix
// (paydesk-core ROLE_PERMISSIONS: finance also has order_view; approver = approver + support).
const MENUS = {
  finance: ['dashboard', 'reconcile', 'discrepancies', 'settlements', 'orders'],
  support: ['orders'],
  approver: ['orders', 'approvals'],
  admin: ALL_PAGES,
};

const ROLES = {
  finance: ['finance'],
  support: ['support'],
  approver: ['approver', 'support'],
  admin: ['admin'],
};

describe('login and menus', () => {
  let app;
  let workspace;

  before(async () => {
    workspace = makeWorkspace('login');
    app = await startApp(workspace);
  });

  after(async () => {
    await app?.quit();
  });

  for (const user of ['finance', 'support', 'approver', 'admin']) {
    it(
      `${user} signs in and sees exactly its menu`,
      shotOnFailure(() => app, `login-${user}`, async () => {
        await app.login(user);
        const roles = (await app.attr('header-roles', 'data-roles')).split(',').sort();
        assert.deepEqual(roles, [...ROLES[user]].sort(), 'header-roles');
        // The menu is rendered at once with the shell: wait for the first entry, then compare.
        await app.byTestId(`nav-${MENUS[user][0]}`);
        const shown = [];
        for (const key of ALL_PAGES) if (await app.exists(`nav-${key}`)) shown.push(key);
        assert.deepEqual(shown, MENUS[user], `menu of ${user}`);
        if (user === 'admin') {
          await app.screenshot('menu-admin');
          // Settings, as the admin reads them: the demo's vault opens with a passphrase.
          await app.nav('settings');
          await app.waitForText('settings-vault', /passphrase/);
          await app.scrollTo('settings-vault', 'center');
          await app.screenshot('settings');
        }
        if (user === 'support') await app.screenshot('menu-support');
        await app.logout();
      }),
    );
  }

  it(
    'a wrong password is refused on screen and recorded in the audit log',
    shotOnFailure(() => app, 'login-wrong-password', async () => {
      await app.type('login-username', 'finance');
      await app.type('login-password', 'not-the-password');
      await app.clickTestId('login-submit');
      const err = await app.byTestId('login-error');
      const text = await err.getText();
      assert.match(text, /Sign-in failed/);
      assert.match(text, /wrong username or password/);
      assert.equal(await app.exists('header-user'), false, 'nobody is signed in');
      await app.screenshot('login-error');

      const rows = app.dbRows(
        "SELECT actor, action, outcome, details FROM audit_log WHERE action = 'login' AND actor = 'finance' ORDER BY seq",
      );
      const failed = rows.filter((r) => r.outcome === 'failed');
      assert.equal(failed.length, 1, `one failed login row for finance, got ${JSON.stringify(rows)}`);
      assert.match(failed[0].details, /wrong password/);
      // The successful sign-ins of the first tests were audited too.
      assert.ok(rows.some((r) => r.outcome === 'ok'), 'successful login rows exist');
    }),
  );

  it(
    'the language switch turns the screens Chinese and back',
    shotOnFailure(() => app, 'login-language', async () => {
      // On the login screen.
      assert.equal(await app.text('login-submit'), 'Sign in');
      await app.clickTestId('lang-switch');
      await app.waitForText('login-submit', (t) => t.replace(/\s/g, '') === '登录');
      assert.equal(await app.text('lang-switch'), 'English');
      await app.screenshot('login-zh');

      // Signed in: the menu is Chinese.
      await app.login('finance');
      await app.waitForText('nav-dashboard', '概览');
      assert.equal(await app.text('nav-reconcile'), '对账');
      assert.equal(await app.text('nav-discrepancies'), '差异处理');
      await app.byTestId('dashboard-chart');
      await app.screenshot('dashboard-zh');

      // And back.
      await app.clickTestId('lang-switch');
      await app.waitForText('nav-dashboard', 'Dashboard');
      assert.equal(await app.text('nav-reconcile'), 'Reconcile');
      assert.equal(await app.text('lang-switch'), '简体中文');
      await app.logout();
      assert.equal(await app.text('login-submit'), 'Sign in');
    }),
  );
});

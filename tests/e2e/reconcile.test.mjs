// Reconciliation: finance starts a run for all accounts for the app's default date
// (yesterday = the demo's second day), watches the per-account progress reach "done", and the
// runs land in the database; the dashboard then shows the accounts and what is open.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { By, appYesterday, makeWorkspace, shotOnFailure, startApp } from './lib.mjs';

const ACCOUNTS = ['alipay-main', 'wechat-main', 'stripe-main'];

describe('reconciliation', () => {
  let app;
  let workspace;

  before(async () => {
    workspace = makeWorkspace('reconcile');
    app = await startApp(workspace);
    await app.login('finance');
  });

  after(async () => {
    await app?.quit();
  });

  it(
    'runs all accounts for yesterday with live progress and records the runs',
    shotOnFailure(() => app, 'reconcile', async () => {
      const yesterday = await appYesterday(app);
      const before = app.dbRows('SELECT COALESCE(MAX(id), 0) AS max FROM runs')[0].max;
      const demoDay = app.dbRows('SELECT MAX(bill_date) AS d FROM runs')[0].d;
      assert.equal(yesterday, demoDay, "the app's yesterday is the demo's second day");

      await app.nav('reconcile');
      // Defaults: all accounts, yesterday.
      await app.waitForAttr('reconcile-date', 'value', yesterday);
      assert.equal(await app.selectedLabel('reconcile-account'), 'All accounts');

      await app.clickTestId('reconcile-start');

      // Catch the run while it is going, if it is not over already.
      let sawRunning = false;
      await app.driver.wait(async () => {
        const cards = await app.driver.findElements(By.css('[data-testid^="run-progress-"]'));
        for (const c of cards) {
          if ((await c.getAttribute('data-state').catch(() => null)) === 'running') {
            sawRunning = true;
            return true;
          }
        }
        return (await app.all('run-finished')).length > 0;
      }, 30000);
      await app.screenshot('reconcile-progress');

      for (const a of ACCOUNTS) {
        await app.waitForAttr(`run-progress-${a}`, 'data-state', 'done', 60000);
        assert.equal(await app.attr(`run-progress-${a}`, 'data-stage'), 'save', `${a} ended at the save stage`);
      }
      const finished = await app.byTestId('run-finished', 30000);
      assert.equal(await finished.getAttribute('data-cancelled'), 'false');
      assert.match(await finished.getText(), /3 of 3 accounts done/);
      assert.equal(await app.exists('run-error-alipay-main'), false);
      await app.screenshot('reconcile-done');

      // The database: one new run per account for that date, started by finance.
      const runs = app.dbRows('SELECT account, bill_date, started_by, counts_json FROM runs WHERE id > ? ORDER BY id', [before]);
      assert.deepEqual(
        runs.map((r) => r.account).sort(),
        [...ACCOUNTS].sort(),
        `new runs: ${JSON.stringify(runs.map((r) => [r.account, r.bill_date]))}`,
      );
      for (const r of runs) {
        assert.equal(r.bill_date, yesterday, `${r.account} bill date`);
        assert.equal(r.started_by, 'finance', `${r.account} started_by`);
      }

      // The history table lists them (newest first; the demo's six runs plus these three).
      const table = await app.byTestId('runs-table');
      await app.driver.wait(async () => (await table.findElements(By.css('tbody tr.ant-table-row'))).length >= 9, 15000);
      sawRunning || console.log('# note: the run was over before a running state could be seen');
    }),
  );

  it(
    'the dashboard shows every account and the open discrepancies the database holds',
    shotOnFailure(() => app, 'dashboard', async () => {
      await app.nav('dashboard');
      for (const a of ACCOUNTS) {
        await app.waitForAttr(`dashboard-account-${a}`, 'data-state', 'done');
      }
      await app.byTestId('dashboard-chart');
      const open = app.dbRows(
        "SELECT COUNT(*) AS n FROM discrepancies WHERE state IN ('open', 'investigating') AND present = 1",
      )[0].n;
      assert.ok(open > 0, 'the demo leaves open discrepancies');
      await app.waitForAttr('attention-open', 'data-count', String(open));
      assert.equal(await app.attr('attention-approvals', 'data-count'), '0');
      const card = await app.text('dashboard-account-alipay-main');
      assert.match(card, /finance/);
      await app.screenshot('dashboard-en');
    }),
  );
});

// Settlements (资金对账): finance opens the Settlements screen on the demo workspace, runs
// settlement for the CNY bank account as of the default date (yesterday = the demo's second
// day), sees the payouts by day, opens one, and accepts one grouped suggestion (the demo
// batches several payouts into one bank credit): the link is accepted in the database and
// the decision is audited.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { By, WAIT, appYesterday, makeWorkspace, shotOnFailure, startApp } from './lib.mjs';

describe('settlements', () => {
  let app;
  let workspace;

  before(async () => {
    workspace = makeWorkspace('settlements');
    app = await startApp(workspace);
    await app.login('finance');
  });

  after(async () => {
    await app?.quit();
  });

  it(
    'runs settlement for the CNY bank account and accepts a suggestion',
    shotOnFailure(() => app, 'settlements', async () => {
      const yesterday = await appYesterday(app);
      const banks = await app.invoke('settlement_bank_accounts');
      assert.ok(banks.ok, `settlement_bank_accounts: ${JSON.stringify(banks.err)}`);
      const cny = banks.ok.find((b) => b.currency === 'CNY');
      assert.ok(cny, `the demo has a CNY bank account: ${JSON.stringify(banks.ok)}`);

      await app.nav('settlements');
      await app.byTestId('page-settlements');
      await app.waitForAttr('settle-date', 'value', yesterday);
      // The picker's option title is its label: "<name> (<currency>) · <accounts>".
      await app.selectAntdOption('settle-bank', `${cny.name} (${cny.currency}) · ${cny.accounts.join(', ')}`);

      const runsBefore = app.dbRows('SELECT COUNT(*) AS n FROM settlement_runs WHERE bank_account = ?', [cny.name])[0].n;
      await app.clickTestId('settle-run');
      const summary = await app.byTestId('settle-summary', 60000);
      assert.equal(await summary.getAttribute('data-dry-run'), 'false');
      const runId = Number(await summary.getAttribute('data-run-id'));
      assert.ok(runId > 0, 'the run was saved');
      const runs = app.dbRows('SELECT id, as_of, actor FROM settlement_runs WHERE bank_account = ? ORDER BY id', [cny.name]);
      assert.equal(runs.length, runsBefore + 1, 'one new settlement run');
      assert.deepEqual(runs.at(-1), { id: runId, as_of: yesterday, actor: 'finance' });

      // Payouts by day, each with its status chip; the screen's count is the run's.
      const table = await app.byTestId('payouts-table');
      const rows = await table.findElements(By.css('[data-testid^="payout-arrival-"]'));
      assert.ok(rows.length > 0, 'the demo pays out into the CNY bank account');
      // The trade bills against the fund flows: the demo's 收款码 payment on Alipay is on the
      // balance and in no trade bill; WeChat's movements all agree.
      const alipayCheck = await app.byTestId('settle-trade-check-alipay-main');
      assert.equal(await alipayCheck.getAttribute('data-findings'), '1', 'the 收款码 payment no trade bill lists');
      const wechatCheck = await app.byTestId('settle-trade-check-wechat-main');
      assert.equal(await wechatCheck.getAttribute('data-findings'), '0');
      await app.screenshot('settlements-run');

      // A payout opens in the drawer with the bank side beside it.
      const firstOpen = await table.findElement(By.css('[data-testid^="payout-open-"]'));
      const payoutId = (await firstOpen.getAttribute('data-testid')).slice('payout-open-'.length);
      await app.clickEl(firstOpen, 'first payout');
      await app.byTestId(`payout-drawer-${payoutId}`);
      await app.driver.wait(
        async () => (await app.exists('payout-bank')) || (await app.exists('payout-no-bank')),
        WAIT,
        'the drawer shows the bank side',
      );
      await app.screenshot('settlements-payout');
      await app.driver.findElement(By.css('.ant-drawer-close')).click();
      await app.waitGone(`payout-drawer-${payoutId}`);

      // Suggestions: accept the first one.
      await app.clickTestId('settle-tab-suggestions');
      await app.byTestId('suggestions');
      const accepts = await app.driver.findElements(By.css('[data-testid^="suggestion-accept-"]'));
      assert.ok(accepts.length > 0, 'the demo batches payouts into one credit: at least one grouped suggestion');
      const linkId = Number((await accepts[0].getAttribute('data-testid')).slice('suggestion-accept-'.length));
      const stored = app.dbRows('SELECT state FROM settlement_links WHERE id = ?', [linkId]);
      assert.deepEqual(stored, [{ state: 'suggested' }]);
      await app.screenshot('settlements-suggestions');
      await app.clickEl(accepts[0], `accept suggestion ${linkId}`);
      await app.waitGone(`suggestion-${linkId}`);

      const decided = app.dbRows('SELECT state, decided_by FROM settlement_links WHERE id = ?', [linkId]);
      assert.deepEqual(decided, [{ state: 'accepted', decided_by: 'finance' }]);
      const audit = app.dbRows(
        "SELECT actor, outcome, target FROM audit_log WHERE action = 'settlement.accept' AND actor = 'finance'",
      );
      assert.ok(
        audit.some((a) => a.outcome === 'ok' && a.target === `settlement link ${linkId}`),
        `settlement.accept audited: ${JSON.stringify(audit)}`,
      );
      await app.screenshot('settlements-accepted');
    }),
  );
});

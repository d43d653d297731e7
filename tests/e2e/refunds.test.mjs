// Refunds: support asks for a refund over its limit, it waits for approval; the approver
// approves it and watches it succeed live. Support cannot call an admin command by going
// around the UI.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { dbQuery, makeWorkspace, mirrorDb, shotOnFailure, startApp } from './lib.mjs';

describe('refunds and approvals', () => {
  let app;
  let workspace;
  let order; // the mirror order refunded below
  let other; // a second one, for the approver's own refund
  let refund; // its refund row
  const AMOUNT = '600.00'; // over support's 500.00 limit
  const REASON = 'e2e: customer returned the goods';

  before(async () => {
    workspace = makeWorkspace('refunds');
    app = await startApp(workspace);
    // Alipay orders paid on a reconciled demo day (the newest first), over 800.00, with no
    // refund yet and no open question in reconciliation. Which orders a demo day has
    // depends on its date, so one day alone may not have two.
    const days = app.dbRows('SELECT DISTINCT bill_date AS d FROM runs ORDER BY bill_date DESC').map((r) => r.d);
    const discrepant = new Set(app.dbRows('SELECT DISTINCT order_no FROM discrepancies WHERE order_no IS NOT NULL').map((r) => r.order_no));
    const candidates = days.flatMap((day) =>
      dbQuery(
        mirrorDb(workspace),
        `SELECT order_no, amount, currency FROM orders o
          WHERE provider = 'alipay' AND status = 'paid' AND currency = 'CNY' AND amount > 80000
            AND order_no LIKE ?
            AND NOT EXISTS (SELECT 1 FROM refunds r WHERE r.order_no = o.order_no)
          ORDER BY order_no`,
        [`AP${day.replace(/-/g, '')}%`],
      ).filter((o) => !discrepant.has(o.order_no)),
    );
    assert.ok(candidates.length > 1, 'two such orders');
    [order, other] = candidates;
  });

  after(async () => {
    await app?.quit();
  });

  it(
    'support requests a refund over its limit: it waits for approval',
    shotOnFailure(() => app, 'refund-request', async () => {
      await app.login('support');
      await app.nav('orders');
      await app.type('order-search', order.order_no, { enter: true });
      // One hit opens the order at once.
      await app.byTestId('order-detail');
      await app.waitForAttr('order-refundable', 'data-minor', String(order.amount));

      await app.clickTestId('refund-open');
      await app.waitForText('refund-limit', '500.00');
      await app.type('refund-amount', AMOUNT);
      await app.type('refund-reason', REASON);
      await app.clickTestId('refund-submit');
      await app.waitForAttr('refund-result', 'data-state', 'awaiting_approval');
      await app.screenshot('refund-requested');

      const rows = app.dbRows('SELECT * FROM refunds WHERE order_no = ?', [order.order_no]);
      assert.equal(rows.length, 1, 'one refund row');
      refund = rows[0];
      assert.equal(refund.state, 'awaiting_approval');
      assert.equal(refund.requested_by, 'support');
      assert.equal(refund.amount, 60000);
      assert.equal(refund.currency, 'CNY');
      assert.equal(refund.reason, REASON);
      assert.equal(refund.account, 'alipay-main');
      assert.equal(refund.decided_by, null);

      await app.clickTestId('refund-close');
      await app.waitForAttr(`refund-row-${refund.refund_no}`, 'data-state', 'awaiting_approval');
    }),
  );

  it(
    'support cannot create a user by calling the command directly',
    shotOnFailure(() => app, 'refund-denied', async () => {
      const res = await app.invoke('create_user', { username: 'mallory', password: 'Password12345', roles: ['admin'] });
      assert.ok(res.err, `create_user must reject, got ${JSON.stringify(res)}`);
      assert.equal(res.err.kind, 'denied', JSON.stringify(res.err));
      assert.equal(app.dbRows("SELECT COUNT(*) AS n FROM users WHERE username = 'mallory'")[0].n, 0);
      const audit = app.dbRows("SELECT actor, outcome FROM audit_log WHERE actor = 'support' AND outcome = 'denied'");
      assert.ok(audit.length >= 1, 'the refused attempt is in the audit log');
    }),
  );

  it(
    'the approver approves it and sees it succeed live',
    shotOnFailure(() => app, 'refund-approve', async () => {
      await app.logout();
      await app.login('approver');
      // An approver lands on the approval queue, the menu counting what waits for them.
      await app.byTestId('approvals-refresh');
      assert.match(await app.driver.getCurrentUrl(), /#\/approvals/);
      await app.forEachLangAndSize(async (lang, width) => {
        await app.waitForAttr('nav-approvals-count', 'data-count', '1');
        await app.waitForAttr(`queue-row-${refund.id}`, 'data-state', 'awaiting_approval');
        await app.screenshot(`approvals-${lang}-${width}`);
      });
      await app.nav('approvals');
      await app.waitForAttr(`queue-row-${refund.id}`, 'data-state', 'awaiting_approval');
      await app.clickTestId(`approve-${refund.id}`);
      await app.type('approval-note', 'e2e: checked with the customer');
      await app.clickTestId('approval-confirm');
      // Out of the queue, and the recent list follows it to "succeeded" (refund-updated events).
      await app.waitGone(`queue-row-${refund.id}`);
      await app.waitForAttr(`approval-row-${refund.id}`, 'data-state', 'succeeded', 30000);
      await app.screenshot('refund-approval');

      const row = app.dbRows('SELECT state, decided_by, decision_note, requested_by, provider_refund_id FROM refunds WHERE id = ?', [
        refund.id,
      ])[0];
      assert.equal(row.state, 'succeeded');
      assert.equal(row.decided_by, 'approver');
      assert.equal(row.requested_by, 'support');
      assert.equal(row.decision_note, 'e2e: checked with the customer');
      assert.ok(row.provider_refund_id, 'the provider gave a refund id');
      const events = app.dbRows('SELECT actor, from_state, to_state FROM refund_events WHERE refund_id = ? ORDER BY id', [refund.id]);
      assert.ok(
        events.some((e) => e.actor === 'approver' && e.from_state === 'awaiting_approval'),
        `an approval event by approver: ${JSON.stringify(events)}`,
      );
      assert.equal(events.at(-1).to_state, 'succeeded');
      const audit = app.dbRows("SELECT outcome FROM audit_log WHERE action = 'refund.approve' AND actor = 'approver'");
      assert.ok(audit.length >= 1, 'refund.approve audited');
    }),
  );

  it(
    'nobody approves their own refund',
    shotOnFailure(() => app, 'refund-own', async () => {
      // The approver also has the support role: its own refund over the limit waits, the page
      // offers no decision on it, and the backend refuses one made around the page.
      await app.nav('orders');
      await app.type('order-search', other.order_no, { enter: true });
      await app.waitForAttr('order-refundable', 'data-minor', String(other.amount));
      await app.clickTestId('refund-open');
      await app.type('refund-amount', AMOUNT);
      await app.type('refund-reason', 'e2e: own refund');
      await app.clickTestId('refund-submit');
      await app.waitForAttr('refund-result', 'data-state', 'awaiting_approval');
      await app.clickTestId('refund-close');
      const own = app.dbRows("SELECT * FROM refunds WHERE requested_by = 'approver'");
      assert.equal(own.length, 1);

      await app.nav('approvals');
      await app.waitForAttr(`queue-row-${own[0].id}`, 'data-state', 'awaiting_approval');
      // The page offers no decision on one's own request...
      const approve = await app.byTestId(`approve-${own[0].id}`);
      assert.equal(await approve.isEnabled(), false, 'approve is disabled on an own request');
      assert.equal(await (await app.byTestId(`reject-${own[0].id}`)).isEnabled(), false);
      await app.screenshot('refund-own-approval-refused');
      // ...and the backend refuses it when the page is bypassed.
      const answer = await app.invoke('decide_refund', { id: own[0].id, approve: true, note: null });
      assert.ok(answer.err, JSON.stringify(answer));
      assert.match(answer.err.message, /cannot approve/);
      const row = app.dbRows('SELECT state, decided_by FROM refunds WHERE id = ?', [own[0].id])[0];
      assert.deepEqual(row, { state: 'awaiting_approval', decided_by: null }, `after: ${answer.err.message}`);
    }),
  );
});

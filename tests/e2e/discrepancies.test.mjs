// Discrepancies: finance filters the list (class, text), the count on screen equals the
// database's (and the CLI's) for the same condition, then resolves one with a resolution and a
// note; the row, its history and the audit log are written.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { By, cli, makeWorkspace, shotOnFailure, startApp } from './lib.mjs';

const OPEN_STATES = "state IN ('open', 'investigating') AND present = 1";

describe('discrepancies', () => {
  let app;
  let workspace;
  let target; // the discrepancy resolved below

  before(async () => {
    workspace = makeWorkspace('discrepancies');
    app = await startApp(workspace);
    await app.login('finance');
    await app.nav('discrepancies');
    await app.byTestId('disc-page');
  });

  after(async () => {
    await app?.quit();
  });

  it(
    'the default view (open + investigating) counts what the database holds',
    shotOnFailure(() => app, 'disc-default', async () => {
      const n = app.dbRows(`SELECT COUNT(*) AS n FROM discrepancies WHERE ${OPEN_STATES}`)[0].n;
      assert.ok(n > 0);
      await app.waitForAttr('disc-total', 'data-total', String(n));
    }),
  );

  it(
    'amounts carry their own currency and a currency mismatch is not comparable, at 1280×800 and 1920×1080 in both languages',
    shotOnFailure(() => app, 'disc-currency', async () => {
      const cm = app.dbRows(
        `SELECT id, order_no, provider_currency, local_currency, provider_amount, local_amount, abs_difference
           FROM discrepancies WHERE class = 'currency_mismatch' AND ${OPEN_STATES} ORDER BY id LIMIT 1`,
      )[0];
      assert.ok(cm?.order_no, 'the demo has a currency mismatch (a Stripe charge settled in EUR)');
      assert.notEqual(cm.provider_currency, cm.local_currency);
      // Stored at stake: the amount in question, not a difference of 0.
      assert.equal(cm.abs_difference, Math.abs(cm.provider_amount));
      await app.type('disc-filter-text', cm.order_no, { enter: true });
      await app.waitForAttr('disc-total', 'data-total', '1');
      const symbol = { EUR: '€', USD: '$', CNY: '¥', JPY: '¥' };
      const notComparable = { en: 'Not comparable', zh: '不可比' };
      await app.forEachLangAndSize(async (lang, width) => {
        const row = await app.byTestId(`disc-row-${cm.id}`);
        // The cells' text whether or not the row is scrolled into view.
        const text = await row.getAttribute('textContent');
        assert.ok(text.includes(symbol[cm.provider_currency]), `${lang} ${width}: provider side in ${cm.provider_currency}: ${text}`);
        assert.ok(text.includes(symbol[cm.local_currency]), `${lang} ${width}: our side in ${cm.local_currency}: ${text}`);
        const diff = await row.findElement(By.css('[data-comparable="false"]'));
        assert.equal(await diff.getAttribute('textContent'), notComparable[lang]);
        await app.clickEl(row, `disc-row-${cm.id}`);
        await app.waitForAttr('disc-detail', 'data-id', String(cm.id));
        await app.waitForText('disc-detail-difference', notComparable[lang]);
        await app.screenshot(`currency-mismatch-${lang}-${width}`);
        await app.clickTestId('disc-detail-close');
      });
      await app.type('disc-filter-text', '');
      await app.clickTestId('disc-refresh');
      const all = app.dbRows(`SELECT COUNT(*) AS n FROM discrepancies WHERE ${OPEN_STATES}`)[0].n;
      await app.waitForAttr('disc-total', 'data-total', String(all));
    }),
  );

  it(
    'the table fits: every column is reachable beside the frozen key columns, and no header, date, tag or amount is clipped, at both sizes and languages, with and without the detail pane',
    shotOnFailure(() => app, 'disc-layout', async () => {
      // Run in the page: scroll each column into the space between the frozen ones and
      // measure. Returns what does not fit, as text.
      // `paneOpen`: in a window too narrow for it the difference may scroll with the middle
      // columns (every column must still fit between the frozen ones).
      const problems = (paneOpen) =>
        app.driver.executeScript(`
          const paneOpen = arguments[0];
          const scroll = document.querySelector('[data-testid="disc-table"]');
          const box = scroll.getBoundingClientRect();
          const headers = [...scroll.querySelectorAll('[role="columnheader"]')];
          const frozenLeft = headers.filter((h) => h.dataset.frozen === 'left');
          const frozenRight = headers.filter((h) => h.dataset.frozen === 'right');
          const leftW = frozenLeft.reduce((a, h) => a + h.offsetWidth, 0);
          const rightW = frozenRight.reduce((a, h) => a + h.offsetWidth, 0);
          const out = [];
          // finance reviews: the row check boxes come first.
          if (frozenLeft.map((h) => h.dataset.col).join() !== 'select,order_no,class') out.push('frozen left: ' + frozenLeft.map((h) => h.dataset.col));
          const right = frozenRight.map((h) => h.dataset.col).join();
          if (right !== 'difference' && !(paneOpen && right === '')) out.push('frozen right: ' + right);
          for (const h of headers) {
            if (!h.dataset.frozen) scroll.scrollLeft = Math.max(0, h.offsetLeft - leftW);
            const r = h.getBoundingClientRect();
            const lo = h.dataset.frozen ? box.left : box.left + leftW;
            const hi = h.dataset.frozen ? box.right : box.right - rightW;
            if (r.left < lo - 1 || r.right > hi + 1) out.push(h.dataset.col + ' not reachable: ' + [r.left, r.right, lo, hi].map(Math.round));
            for (const f of [...frozenLeft, ...frozenRight]) {
              const fr = f.getBoundingClientRect();
              if (fr.left < box.left - 1 || fr.right > box.right + 1) out.push(f.dataset.col + ' (frozen) scrolled away while showing ' + h.dataset.col);
            }
            if (h.scrollWidth > h.clientWidth + 1) out.push('header clipped: ' + h.dataset.col + ' ' + h.textContent);
          }
          scroll.scrollLeft = 0;
          // The window itself never scrolls: only the table and the panes do.
          const page = document.documentElement;
          if (page.scrollHeight > window.innerHeight + 1 || page.scrollWidth > window.innerWidth + 1) {
            out.push('outer scrollbar: page ' + [page.scrollWidth, page.scrollHeight] + ' in window ' + [window.innerWidth, window.innerHeight]);
          }
          const unclipped = ['bill_date', 'class', 'provider_amount', 'local_amount', 'difference', 'state', 'due_at'];
          for (const cell of scroll.querySelectorAll('.disc-row[data-index] [role="gridcell"]')) {
            if (!unclipped.includes(cell.dataset.col)) continue;
            if (cell.scrollWidth > cell.clientWidth + 1) out.push('cell clipped: ' + cell.dataset.col + ' ' + cell.textContent);
            const tag = cell.querySelector('.ant-tag');
            if (tag && tag.getBoundingClientRect().right > cell.getBoundingClientRect().right + 1) out.push('tag clipped: ' + tag.textContent);
          }
          return out;
        `, paneOpen);
      // The layout follows the window a frame or two after a resize: measure until it settles
      // (at most 5 s), then report what is still wrong.
      const settled = async (paneOpen) => {
        let last = [];
        try {
          await app.driver.wait(async () => (last = await problems(paneOpen)).length === 0, 5000);
        } catch {
          // `last` says what did not settle.
        }
        return last;
      };
      const firstRow = app.dbRows(
        `SELECT id FROM discrepancies WHERE ${OPEN_STATES} ORDER BY bill_date DESC, id LIMIT 1`,
      )[0];
      await app.forEachLangAndSize(async (lang, width) => {
        assert.deepEqual(await settled(false), [], `${lang} ${width}, no detail pane`);
        await app.screenshot(`discrepancies-${lang}-${width}`);
        await app.clickTestId(`disc-row-${firstRow.id}`);
        await app.waitForAttr('disc-detail', 'data-id', String(firstRow.id));
        assert.deepEqual(await settled(true), [], `${lang} ${width}, with the detail pane`);
        // Times are the workspace's business timezone (the demo's Asia/Shanghai), named, not
        // the machine's (UTC here).
        await app.waitForText('disc-detail', 'GMT+8');
        await app.screenshot(`discrepancies-detail-${lang}-${width}`);
        if (lang === 'zh') {
          // Chinese all the way: the table and the details pane (identifiers aside).
          assert.deepEqual(await app.englishWords(['finance', 'charge', 'refund', 'payout', 'adjustment']), [], 'English words on the Chinese screen');
        }
        await app.clickTestId('disc-detail-close');
      });
    }),
  );

  it(
    'filtering by class shows the database count for that class',
    shotOnFailure(() => app, 'disc-class', async () => {
      const klass = 'amount_mismatch';
      const n = app.dbRows(`SELECT COUNT(*) AS n FROM discrepancies WHERE class = ? AND ${OPEN_STATES}`, [klass])[0].n;
      const viaCli = cli(workspace, ['discrepancies', 'list', '--class', klass, '--state', 'open', '--state', 'investigating'], {
        user: 'finance',
      });
      assert.equal(viaCli.total, n, 'CLI and database agree');
      assert.ok(n >= 2, `the demo has amount mismatches on both days (got ${n})`);

      await app.selectAntdOption('disc-filter-class', 'Amount mismatch', { close: true });
      await app.waitForAttr('disc-total', 'data-total', String(n));
      // Every rendered row is one of the database's ids for that class.
      const ids = app
        .dbRows(`SELECT id FROM discrepancies WHERE class = ? AND ${OPEN_STATES}`, [klass])
        .map((r) => r.id);
      for (const id of ids) await app.byTestId(`disc-row-${id}`);
      await app.screenshot('discrepancies');
    }),
  );

  it(
    'filtering by text narrows to the matching order',
    shotOnFailure(() => app, 'disc-text', async () => {
      target = app.dbRows(
        `SELECT id, order_no, class FROM discrepancies WHERE class = 'amount_mismatch' AND ${OPEN_STATES} ORDER BY bill_date DESC, id LIMIT 1`,
      )[0];
      assert.ok(target?.order_no, 'an amount mismatch with an order number');
      const n = app.dbRows(
        `SELECT COUNT(*) AS n FROM discrepancies WHERE class = 'amount_mismatch' AND ${OPEN_STATES}
           AND (order_no LIKE ? OR provider_txn_id LIKE ? OR refund_no LIKE ?)`,
        Array(3).fill(`%${target.order_no}%`),
      )[0].n;
      assert.equal(n, 1);
      await app.type('disc-filter-text', target.order_no, { enter: true });
      await app.waitForAttr('disc-total', 'data-total', '1');
      await app.byTestId(`disc-row-${target.id}`);
    }),
  );

  it(
    'resolving one with a resolution and a note updates the screen, the row and its history',
    shotOnFailure(() => app, 'disc-resolve', async () => {
      const note = `e2e: booked the missing ${target.order_no} correction`;
      await app.clickTestId(`disc-row-${target.id}`);
      await app.waitForAttr('disc-detail', 'data-id', String(target.id));
      assert.equal(await app.attr('disc-state', 'data-state'), 'open');

      await app.selectAntdOption('disc-resolution', 'Corrected in our records');
      await app.type('disc-note', note);
      await app.clickTestId('disc-resolve');
      await app.waitForAttr('disc-state', 'data-state', 'resolved');
      // The history on screen shows the change (reloaded after the save).
      await app.waitForText('disc-history', 'finance');
      await app.waitForText('disc-history', note);
      await app.scrollTo('disc-state', 'center');
      await app.screenshot('discrepancy-detail');

      // The database row.
      const row = app.dbRows('SELECT state, resolution, note FROM discrepancies WHERE id = ?', [target.id])[0];
      assert.deepEqual(row, { state: 'resolved', resolution: 'corrected_locally', note });

      // Its history: state, resolution and note changes by finance.
      const hist = app.dbRows(
        'SELECT actor, field, old_value, new_value FROM discrepancy_history WHERE discrepancy_id = ? ORDER BY id',
        [target.id],
      );
      const byField = Object.fromEntries(hist.map((h) => [h.field, h]));
      assert.equal(byField.state?.new_value, 'resolved', JSON.stringify(hist));
      assert.equal(byField.state?.old_value, 'open');
      assert.equal(byField.resolution?.new_value, 'corrected_locally');
      assert.equal(byField.note?.new_value, note);
      assert.ok(hist.every((h) => h.actor === 'finance'), 'every history entry by finance');

      // And the audit log.
      const audit = app.dbRows(
        "SELECT actor, outcome FROM audit_log WHERE action = 'discrepancy.update' AND actor = 'finance'",
      );
      assert.ok(audit.some((a) => a.outcome === 'ok'), `discrepancy.update audited: ${JSON.stringify(audit)}`);
    }),
  );

  it(
    'after a refresh the resolved one leaves the open view and the count drops',
    shotOnFailure(() => app, 'disc-after', async () => {
      await app.type('disc-filter-text', '');
      const n = app.dbRows(`SELECT COUNT(*) AS n FROM discrepancies WHERE class = 'amount_mismatch' AND ${OPEN_STATES}`)[0].n;
      await app.clickTestId('disc-refresh');
      await app.waitForAttr('disc-total', 'data-total', String(n));
      await app.waitGone(`disc-row-${target.id}`);
    }),
  );
});

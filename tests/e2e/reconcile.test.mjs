// Reconciliation: finance starts a run for all accounts for the app's default date
// (yesterday = the demo's second day), watches the per-account progress reach "done", and the
// runs land in the database; the dashboard then shows the accounts and what is open.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { By, WAIT, appYesterday, makeWorkspace, shotOnFailure, startApp } from './lib.mjs';

const ACCOUNTS = ['alipay-main', 'wechat-main', 'wechat-shop2', 'stripe-main'];
const STAGES = ['download', 'verify', 'parse', 'match', 'save'];

describe('reconciliation', () => {
  let app;
  let workspace;
  let runEvents = null; // the run-event payloads of the run started below

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

      // Listen to the backend's run-event stream next to the page, to check what it sends.
      await app.driver.executeAsyncScript(`
        const done = arguments[arguments.length - 1];
        const T = window.__TAURI_INTERNALS__;
        window.__e2eEvents = [];
        const handler = T.transformCallback((e) => window.__e2eEvents.push(e.payload));
        T.invoke('plugin:event|listen', { event: 'run-event', target: { kind: 'Any' }, handler }).then(
          () => done(true),
          (e) => done(String(e)),
        );
      `);
      // And every progress state the page shows (informational: the sandbox run is quick, so
      // React may batch several stages into one render).
      await app.driver.executeScript(`
        window.__e2eProgress = [];
        const seen = (el) => {
          const id = el.getAttribute('data-testid') || '';
          if (!id.startsWith('run-progress-')) return;
          const entry = id.slice('run-progress-'.length) + ':' + el.getAttribute('data-stage') + ':' + el.getAttribute('data-state');
          const log = window.__e2eProgress;
          if (log[log.length - 1] !== entry) log.push(entry);
        };
        window.__e2eObserver = new MutationObserver((muts) => {
          for (const m of muts) {
            if (m.type === 'attributes') seen(m.target);
            for (const n of m.addedNodes || []) {
              if (n.nodeType !== 1) continue;
              seen(n);
              n.querySelectorAll('[data-testid^="run-progress-"]').forEach(seen);
            }
          }
        });
        window.__e2eObserver.observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-stage', 'data-state'] });
      `);
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
      assert.match(await finished.getText(), new RegExp(`${ACCOUNTS.length} of ${ACCOUNTS.length} accounts done`));
      assert.equal(await app.exists('run-error-alipay-main'), false);
      const seenStates = await app.driver.executeScript('window.__e2eObserver.disconnect(); return window.__e2eProgress;');
      console.log(`# progress shown: ${seenStates.join(' ')}`);

      // The run-event stream: started (every account, that date, manual), every stage per account,
      // account_done for each, finished (not cancelled). (The order of the stages: next test.)
      await app.driver.wait(
        async () => app.driver.executeScript("return window.__e2eEvents.some((e) => e.kind === 'finished')"),
        WAIT,
        'no finished run-event',
      );
      const events = await app.driver.executeScript('return window.__e2eEvents;');
      if (process.env.E2E_DUMP_EVENTS) console.log('# events ' + JSON.stringify(events.map((e) => [e.kind, e.account, e.stage, e.done, e.total])));
      const started = events.filter((e) => e.kind === 'started');
      assert.equal(started.length, 1, `one started event: ${JSON.stringify(events.map((e) => e.kind))}`);
      assert.deepEqual([...started[0].accounts].sort(), [...ACCOUNTS].sort());
      assert.equal(started[0].date, yesterday);
      assert.equal(started[0].trigger, 'manual');
      runEvents = events;
      for (const a of ACCOUNTS) {
        const stageEvents = events.filter((e) => e.kind === 'stage' && e.account === a);
        assert.deepEqual([...new Set(stageEvents.map((e) => e.stage))].sort(), [...STAGES].sort(), `${a} reports every stage`);
        const last = stageEvents.at(-1);
        assert.equal(last.stage, 'save', `${a} ends saving`);
        assert.equal(last.done, last.total, `${a} saved everything`);
        const doneEv = events.filter((e) => e.kind === 'account_done' && e.account === a);
        assert.equal(doneEv.length, 1, `${a} account_done`);
        assert.equal(doneEv[0].report.date, yesterday);
      }
      const fin = events.filter((e) => e.kind === 'finished');
      assert.equal(fin.length, 1);
      assert.equal(fin[0].cancelled, false);
      assert.equal(events.at(-1).kind, 'finished', 'finished comes last');
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
    'run-event stages of each account arrive in pipeline order (download → verify → parse → match → save)',
    shotOnFailure(() => app, 'reconcile-stage-order', async () => {
      assert.ok(runEvents, 'the run above recorded its events');
      // The progress card's Steps assume this order: a stage that goes back makes the steps
      // already shown as finished turn to "waiting" again.
      for (const a of ACCOUNTS) {
        const seq = [];
        for (const e of runEvents) {
          if (e.kind === 'stage' && e.account === a && seq.at(-1) !== e.stage) seq.push(e.stage);
        }
        const detail = runEvents
          .filter((e) => e.kind === 'stage' && e.account === a)
          .map((e) => `${e.stage} ${e.done}/${e.total ?? '?'}`)
          .join(', ');
        assert.deepEqual(seq, STAGES, `${a} stage events: ${detail}`);
      }
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

  it(
    'the dashboard agrees with itself at 1280×800 and 1920×1080 in both languages: at stake is what is open, the open link opens exactly the rows it counts',
    shotOnFailure(() => app, 'dashboard-agrees', async () => {
      // At stake per account and currency: the amounts of the open discrepancies now.
      const atStake = app.dbRows(
        `SELECT account, currency, SUM(abs_difference) AS minor FROM discrepancies
          WHERE state IN ('open', 'investigating') AND present = 1 AND abs_difference <> 0
          GROUP BY account, currency`,
      );
      assert.ok(atStake.some((r) => r.currency !== 'CNY'), `a second currency is at stake: ${JSON.stringify(atStake)}`);
      const open = Number(await app.attr('attention-open', 'data-count'));
      await app.forEachLangAndSize(async (lang, width) => {
        for (const r of atStake) {
          const el = await app.byTestId(`dashboard-at-stake-${r.account}-${r.currency}`);
          const text = await el.getText();
          const exp = ['JPY', 'KRW'].includes(r.currency) ? 0 : 2;
          const major = (r.minor / 10 ** exp).toFixed(exp).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
          assert.ok(text.replace(/[^0-9.,]/g, '').endsWith(major), `${lang} ${width} ${r.account} ${r.currency}: ${text} shows ${major}`);
          // The amount fits its card: not wider than the card's body.
          const fits = await app.driver.executeScript(
            'const el = arguments[0]; const card = el.closest(".ant-card-body"); return el.scrollWidth <= el.clientWidth + 1 && el.getBoundingClientRect().right <= card.getBoundingClientRect().right + 1;',
            el,
          );
          assert.ok(fits, `${lang} ${width}: ${text} fits its card`);
        }
        // Counts carry thousands separators when they need them, and say the count.
        assert.ok((await app.text('attention-open')).includes(open.toLocaleString(lang === 'zh' ? 'zh-CN' : 'en-US')));
        await app.screenshot(`dashboard-${lang}-${width}`);
        if (lang === 'zh') {
          assert.deepEqual(await app.englishWords(['finance']), [], 'English words on the Chinese dashboard');
        }
      });
      // The open link: exactly the rows it counts (open and investigating).
      await app.clickTestId('attention-open');
      await app.waitForAttr('disc-total', 'data-total', String(open));
    }),
  );
});

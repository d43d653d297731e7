// Keys: the admin creates the vault, generates the first Alipay app key through the rotation
// wizard (active at once), then rotates it: generate → public key → upload to the sandbox →
// test → activate. The vault tables and the audit log agree; no private key is ever on screen.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { makeWorkspace, shotOnFailure, startApp } from './lib.mjs';

const ACCOUNT = 'alipay-main';
const PURPOSE = 'alipay_app_key';
const KEY = `${ACCOUNT}-${PURPOSE}`;
const PASSPHRASE = 'e2e vault passphrase 2026';

describe('keys: vault and Alipay app key rotation', () => {
  let app;
  let workspace;

  before(async () => {
    workspace = makeWorkspace('keys');
    app = await startApp(workspace);
    await app.login('admin');
    await app.nav('keys');
  });

  after(async () => {
    await app?.quit();
  });

  const versions = () =>
    app.dbRows(
      `SELECT v.version, v.state, v.created_by, v.tested_at, v.test_outcome, v.activated_at, v.retired_at, v.usable_until
         FROM vault_versions v JOIN vault_credentials c ON c.id = v.credential_id
        WHERE c.account = ? AND c.purpose = ? ORDER BY v.version`,
      [ACCOUNT, PURPOSE],
    );

  const assertNoPrivateKeyOnScreen = async () => {
    const src = await app.pageSource();
    assert.equal(src.includes('PRIVATE KEY'), false, 'page source contains "PRIVATE KEY"');
  };

  /** Walks the wizard: generate, check the public key, upload, test; returns the new version. */
  const generateAndTest = async () => {
    await app.clickTestId(`rotate-${KEY}`);
    await app.clickTestId('wizard-generate');
    const pem = await app.waitForText('wizard-public-key', 'BEGIN PUBLIC KEY', 30000);
    assert.match(pem, /-----END PUBLIC KEY-----/);
    const version = Number(await app.attr('wizard-version', 'data-version'));
    await assertNoPrivateKeyOnScreen();
    await app.clickTestId('wizard-upload-sandbox');
    await app.waitForText('wizard-upload-sandbox', 'Uploaded');
    await app.clickTestId('wizard-test');
    await app.waitForAttr('wizard-test-result', 'data-ok', 'true', 30000);
    assert.match(await app.text('wizard-test-result'), /accepted/);
    return version;
  };

  it(
    'creates the vault',
    shotOnFailure(() => app, 'keys-vault', async () => {
      await app.waitForAttr('vault-status', 'data-configured', 'false');
      await app.type('vault-passphrase', PASSPHRASE);
      await app.type('vault-passphrase-confirm', PASSPHRASE);
      await app.clickTestId('vault-init');
      await app.waitForAttr('vault-status', 'data-unlocked', 'true');
      assert.equal(await app.attr('vault-status', 'data-configured'), 'true');
      await app.byTestId(`key-row-${KEY}`);
      assert.equal(app.dbRows('SELECT COUNT(*) AS n FROM vault_meta')[0].n, 1);
      // A fresh demo has no Alipay app key in the vault.
      assert.equal(await app.attr(`key-row-${KEY}`, 'data-configured'), 'false');
      assert.equal(versions().length, 0);
    }),
  );

  it(
    'generates the first version: active at once',
    shotOnFailure(() => app, 'keys-first', async () => {
      const v = await generateAndTest();
      assert.equal(v, 1);
      // The first version needs no activation: the wizard is done after the test.
      await app.byTestId('wizard-done');
      assert.equal(await app.exists('wizard-activate'), false);
      await app.clickTestId('wizard-close');
      await app.waitGone('wizard-done');
      await app.waitForAttr(`key-version-${KEY}-1`, 'data-state', 'active');
      assert.deepEqual(
        versions().map((r) => [r.version, r.state]),
        [[1, 'active']],
      );
    }),
  );

  it(
    'rotates to version 2: generate, upload, test, activate; version 1 retires',
    shotOnFailure(() => app, 'keys-rotation', async () => {
      const v = await generateAndTest();
      assert.equal(v, 2);
      // Pending until activated.
      assert.deepEqual(
        versions().map((r) => [r.version, r.state]),
        [
          [1, 'active'],
          [2, 'pending'],
        ],
      );
      await app.clickTestId('wizard-activate');
      await app.waitForAttr('wizard-done', 'data-version', '2');
      await assertNoPrivateKeyOnScreen();
      await app.screenshot('keys-rotation');
      await app.clickTestId('wizard-close');
      await app.waitGone('wizard-done');

      await app.waitForAttr(`key-version-${KEY}-2`, 'data-state', 'active');
      await app.waitForAttr(`key-version-${KEY}-1`, 'data-state', 'retired');
      await assertNoPrivateKeyOnScreen();
      await app.screenshot('keys-list');

      // The vault tables agree.
      const rows = versions();
      assert.deepEqual(
        rows.map((r) => [r.version, r.state, r.created_by]),
        [
          [1, 'retired', 'admin'],
          [2, 'active', 'admin'],
        ],
      );
      assert.ok(rows[1].activated_at, 'version 2 has an activation time');
      assert.ok(rows[1].tested_at && /accepted/.test(rows[1].test_outcome ?? ''), `version 2 tested: ${rows[1].test_outcome}`);
      assert.ok(rows[0].retired_at, 'version 1 has a retirement time');
      // Default grace of 24 hours for the old key.
      const graceH = (rows[0].usable_until - rows[1].activated_at) / 3_600_000;
      assert.ok(Math.abs(graceH - 24) < 0.1, `version 1 usable for 24 h after the switch (got ${graceH} h)`);

      // And the audit log: generate (twice), test (twice), activate, by admin.
      const audit = app.dbRows(
        "SELECT actor, action, outcome, details FROM audit_log WHERE action LIKE 'key.%' ORDER BY seq",
      );
      const count = (action) => audit.filter((a) => a.action === action && a.actor === 'admin').length;
      assert.equal(count('key.generate'), 2, JSON.stringify(audit.map((a) => a.action)));
      assert.ok(count('key.test') >= 2, 'key.test audited');
      assert.equal(count('key.activate'), 1);
      assert.ok(audit.every((a) => !a.details.includes('PRIVATE KEY')), 'no private key in the audit details');
    }),
  );

  it(
    'shows when WeChat Pay platform certificates were last downloaded, and a failed download with its reason',
    shotOnFailure(() => app, 'keys-wechat-certs', async () => {
      // The demo vault holds the sandbox's platform certificate but no WeChat merchant key:
      // a download cannot be signed, so it fails, and the page says so.
      await app.scrollTo('refresh-certs-wechat-main');
      assert.match(await app.text('key-refresh-wechat-main'), /never/i);
      await app.clickTestId('refresh-certs-wechat-main');
      await app.waitForAttr('key-refresh-wechat-main', 'data-failed', 'true');
      const warning = await app.waitForText(
        'key-warning-wechat-main-wechat_platform_cert',
        (t) => /download/i.test(t) && /wechat_merchant_key/.test(t),
      );
      assert.match(warning, /failed/i);
      const rows = app.dbRows('SELECT last_error, last_ok_at FROM vault_refresh WHERE account = ?', ['wechat-main']);
      assert.equal(rows.length, 1);
      assert.ok(rows[0].last_error && rows[0].last_ok_at === null, JSON.stringify(rows));
      const audit = app.dbRows(
        "SELECT actor, outcome FROM audit_log WHERE action = 'key.refresh_wechat_certs' ORDER BY seq",
      );
      assert.deepEqual(audit, [{ actor: 'admin', outcome: 'failed' }]);
      await app.scrollTo('key-warning-wechat-main-wechat_platform_cert', 'center');
      await app.screenshot('keys-wechat-certs');
    }),
  );
});

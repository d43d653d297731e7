import { afterEach, describe, expect, it } from 'vitest';
import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import i18n from '../../i18n';
import { formatDate, formatDateTime } from '../../format';
import { makeAppInfo, makeMe, renderWithSession } from '../../test-utils';
import type { KeyListing, Lang, VaultRefresh, VaultStatus, VersionListing } from '../../types';
import { clearMocks, commands, fakeBackend, fill, findReady, lastCall } from '../orders/fixtures';
import type { Handler } from '../orders/fixtures';
import KeysPage from './KeysPage';

afterEach(() => clearMocks());

const UNLOCKED: VaultStatus = { configured: true, unlocked: true, source: 'passphrase' };
const FP1 = 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90';

function version(over: Partial<VersionListing> = {}): VersionListing {
  return {
    version: 1,
    state: 'active',
    usable: true,
    source: 'import',
    created_at: '2026-01-02T03:04:05Z',
    created_by: 'admin',
    activated_at: '2026-01-02T03:04:05Z',
    retired_at: null,
    usable_until: null,
    tested_at: '2026-01-03T00:00:00Z',
    test_outcome: 'ok: accepted',
    info: { kind: 'rsa_private_key', fingerprint: FP1, key_bits: 2048 },
    ...over,
  };
}

const soon = new Date(Date.now() + 10 * 86_400_000).toISOString();
const SERIAL = '5157F09EFDC096DE15EBE81A47057A72';
const DOWNLOADED = '2026-03-14T07:30:00Z';
const REFRESH_OK: VaultRefresh = {
  account: 'wechat-main',
  last_attempt_at: DOWNLOADED,
  last_ok_at: DOWNLOADED,
  last_error: null,
};

const LISTINGS: KeyListing[] = [
  { account: 'alipay-main', purpose: 'alipay_app_key', versions: [version()], warnings: [] },
  {
    account: 'wechat-main',
    purpose: 'wechat_platform_cert',
    versions: [
      version({
        info: { kind: 'certificate', fingerprint: 'ffee', serial: SERIAL, not_after: soon },
        test_outcome: null,
        tested_at: null,
      }),
    ],
    warnings: [
      {
        code: 'expires_soon',
        version: 1,
        serial: SERIAL,
        at: soon,
        message: `version 1 (${SERIAL}) expires on ${soon.slice(0, 10)}, 9 days from now, and nothing replaces it yet; refresh the platform certificates`,
      },
    ],
    refresh: REFRESH_OK,
  },
  {
    account: 'stripe-us',
    purpose: 'stripe_secret_key',
    versions: [
      version({ info: { kind: 'api_key', fingerprint: '0123456789abcdef', hint: 'rk_test_…wxyz' } }),
      version({ version: 2, state: 'pending', usable: false, activated_at: null, tested_at: null, test_outcome: null }),
    ],
    warnings: [],
  },
];

const PEM = '-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n-----END PUBLIC KEY-----\n';
const B64 = 'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA';

function setup(handlers: Record<string, Handler> = {}, me = makeMe(), lang: Lang = 'en') {
  const calls = fakeBackend({
    vault_status: () => UNLOCKED,
    keys_list: () => LISTINGS,
    ...handlers,
  });
  renderWithSession(<KeysPage />, { me, appInfo: makeAppInfo(), lang });
  return calls;
}

describe('KeysPage', () => {
  it('unlocks the vault, showing a wrong passphrase error, then lists the keys', async () => {
    const user = userEvent.setup({ delay: null });
    let status: VaultStatus = { configured: true, unlocked: false, source: null };
    const calls = setup({
      vault_status: () => status,
      vault_unlock: (a) => {
        if (a.passphrase !== 'correct horse battery staple') {
          throw { kind: 'bad_input', message: 'wrong vault passphrase' };
        }
        status = UNLOCKED;
        return status;
      },
    });
    const pass = await screen.findByTestId('vault-passphrase');
    await fill(user, pass, 'wrong one');
    await user.keyboard('{Enter}');
    const err = await screen.findByTestId('vault-error');
    expect(err).toHaveTextContent('wrong vault passphrase');
    expect(lastCall(calls, 'vault_unlock')?.args).toEqual({ passphrase: 'wrong one' });
    expect(calls.some((c) => c.cmd === 'keys_list')).toBe(false);
    await waitFor(() => expect(pass).toHaveValue(''));

    await fill(user, pass, 'correct horse battery staple');
    await user.click(screen.getByTestId('vault-unlock'));
    expect(await screen.findByTestId('key-row-alipay-main-alipay_app_key')).toBeInTheDocument();
    expect(commands(calls)).toEqual(['vault_status', 'vault_unlock', 'vault_unlock', 'keys_list']);
  });

  it('creates a vault only with a long enough, repeated passphrase', async () => {
    const user = userEvent.setup({ delay: null });
    const calls = setup({
      vault_status: () => ({ configured: false, unlocked: false, source: null }),
      vault_init: () => UNLOCKED,
    });
    await fill(user, await screen.findByTestId('vault-passphrase'), 'short');
    await fill(user, screen.getByTestId('vault-passphrase-confirm'), 'short');
    await user.click(screen.getByTestId('vault-init'));
    expect(await screen.findByText('Passphrase: use at least 12 characters.')).toBeInTheDocument();

    await fill(user, screen.getByTestId('vault-passphrase'), 'a long vault passphrase');
    await fill(user, screen.getByTestId('vault-passphrase-confirm'), 'a long vault passphrase!');
    await user.click(screen.getByTestId('vault-init'));
    expect(await screen.findByText('Passphrase again: the two passphrases differ.')).toBeInTheDocument();
    expect(calls.some((c) => c.cmd === 'vault_init')).toBe(false);

    await fill(user, screen.getByTestId('vault-passphrase-confirm'), 'a long vault passphrase');
    await user.click(screen.getByTestId('vault-init'));
    await screen.findByTestId('key-row-alipay-main-alipay_app_key');
    expect(lastCall(calls, 'vault_init')?.args).toEqual({ passphrase: 'a long vault passphrase' });
  });

  it('lists versions with states, short fingerprints, tests and expiry warnings', async () => {
    setup();
    const row = await screen.findByTestId('key-row-alipay-main-alipay_app_key');
    const v1 = within(row).getByTestId('key-version-alipay-main-alipay_app_key-1');
    expect(v1).toHaveAttribute('data-state', 'active');
    expect(v1).toHaveTextContent('a1b2c3d4e5f6…7e8f90');
    expect(v1).not.toHaveTextContent(FP1);
    expect(v1).toHaveTextContent('2048 bits');
    expect(v1).toHaveTextContent('Accepted');

    expect(screen.getByTestId('key-version-stripe-us-stripe_secret_key-2')).toHaveAttribute('data-state', 'pending');
    expect(screen.getByTestId('key-version-stripe-us-stripe_secret_key-1')).toHaveTextContent('rk_test_…wxyz');
    // The warning is worded by its code, with the serial and the expiry date.
    const warning = screen.getByTestId('key-warning-wechat-main-wechat_platform_cert');
    expect(warning).toHaveAttribute('data-code', 'expires_soon');
    expect(warning).toHaveTextContent(
      `Version 1 (serial ${SERIAL}) expires on ${formatDate(soon, 'en')} and nothing replaces it yet. Refresh the platform certificates`,
    );
    expect(warning).not.toHaveTextContent('9 days from now');
    expect(screen.getByTestId('key-refresh-wechat-main')).toHaveTextContent(
      `Last downloaded: ${formatDateTime(DOWNLOADED, 'en')}`,
    );
    expect(screen.getByTestId('key-refresh-wechat-main')).toHaveAttribute('data-failed', 'false');
    expect(screen.getByTestId('key-expiry-wechat-main-wechat_platform_cert-1')).toHaveAttribute('data-level', 'soon');
    // Purposes without a credential are offered for import.
    expect(screen.getByTestId('key-row-wechat-main-wechat_apiv3_key')).toHaveAttribute('data-configured', 'false');
    // Rotation where a wizard exists; none for certificates.
    expect(screen.getByTestId('rotate-alipay-main-alipay_app_key')).toBeInTheDocument();
    expect(screen.getByTestId('rotate-stripe-us-stripe_secret_key')).toBeInTheDocument();
    expect(screen.queryByTestId('rotate-wechat-main-wechat_platform_cert')).not.toBeInTheDocument();
  });

  it('shows a failed platform certificate download with the provider error', async () => {
    const attempt = '2026-03-14T07:30:00Z';
    const error = 'provider: HTTP 401 SIGN_ERROR: signature verification failed';
    const wechat: KeyListing = {
      ...LISTINGS[1],
      warnings: [
        {
          code: 'no_active',
          message: 'no active version: wechat_platform_cert of wechat-main is not usable',
        },
        {
          code: 'refresh_failed',
          at: attempt,
          message: `the last certificate download (2026-03-14 07:30 UTC) failed: ${error}`,
        },
      ],
      refresh: { account: 'wechat-main', last_attempt_at: attempt, last_ok_at: null, last_error: error },
    };
    setup({ keys_list: () => [wechat] });
    const row = await screen.findByTestId('key-row-wechat-main-wechat_platform_cert');
    const warnings = within(row).getAllByTestId('key-warning-wechat-main-wechat_platform_cert');
    expect(warnings.map((w) => w.getAttribute('data-code'))).toEqual(['no_active', 'refresh_failed']);
    expect(warnings[0]).toHaveTextContent('No active version: this key is not used until a version is activated.');
    expect(warnings[1]).toHaveTextContent(
      `The platform certificate download of ${formatDateTime(attempt, 'en')} failed.`,
    );
    expect(warnings[1]).toHaveTextContent(error);
    const refresh = within(row).getByTestId('key-refresh-wechat-main');
    expect(refresh).toHaveAttribute('data-failed', 'true');
    expect(refresh).toHaveTextContent('Last downloaded: never');
    expect(refresh).toHaveTextContent('Last attempt failed');
  });

  it('falls back to the backend text for a warning code it does not know', async () => {
    const stripe: KeyListing = {
      ...LISTINGS[2],
      warnings: [{ code: 'brand_new' as never, message: 'something the UI has no words for yet' }],
    };
    setup({ keys_list: () => [stripe] });
    expect(await screen.findByTestId('key-warning-stripe-us-stripe_secret_key')).toHaveTextContent(
      'something the UI has no words for yet',
    );
    // Only platform certificates are downloaded.
    expect(screen.queryByTestId('key-refresh-stripe-us')).not.toBeInTheDocument();
  });

  it('words the warnings and the last download in Chinese', async () => {
    await act(async () => {
      await i18n.changeLanguage('zh');
    });
    try {
      setup({}, makeMe(), 'zh');
      const warning = await screen.findByTestId('key-warning-wechat-main-wechat_platform_cert');
      expect(warning).toHaveTextContent(
        `版本 1（序列号 ${SERIAL}）将于 ${formatDate(soon, 'zh')} 到期，且尚无接替的版本。请更新平台证书`,
      );
      expect(screen.getByTestId('key-refresh-wechat-main')).toHaveTextContent(
        `上次下载：${formatDateTime(DOWNLOADED, 'zh')}`,
      );
    } finally {
      await act(async () => {
        await i18n.changeLanguage('en');
      });
    }
  });

  it('offers the generate wizard for an Alipay app key that is not set up yet', async () => {
    setup({ keys_list: () => [] });
    const row = await screen.findByTestId('key-row-alipay-main-alipay_app_key');
    expect(row).toHaveAttribute('data-configured', 'false');
    expect(within(row).getByTestId('rotate-alipay-main-alipay_app_key')).toHaveTextContent('Generate new key');
    // Keys that come from the provider are imported first: no wizard without a version.
    expect(screen.queryByTestId('rotate-stripe-us-stripe_secret_key')).not.toBeInTheDocument();
    expect(screen.getByTestId('import-stripe-us-stripe_secret_key')).toBeInTheDocument();
  });

  it('walks the rotation wizard: generate, public key, upload, test, activate', async () => {
    const user = userEvent.setup({ delay: null });
    const calls = setup({
      keys_generate: (a) => ({
        account: a.account,
        purpose: a.purpose,
        version: 2,
        fingerprint: 'f00d',
        key_bits: a.bits,
        public_key_pem: PEM,
        public_key_base64: B64,
      }),
      keys_register_with_sandbox: () => null,
      keys_test: () => 'accepted',
      keys_activate: () => null,
    });
    await user.click(await findReady('rotate-alipay-main-alipay_app_key'));
    await user.click(await screen.findByTestId('wizard-bits-4096'));
    await user.click(screen.getByTestId('wizard-generate'));

    const pem = await screen.findByTestId('wizard-public-key');
    expect(pem.textContent).toBe(PEM);
    await user.click(screen.getByTestId('wizard-copy'));
    await waitFor(async () => expect(await navigator.clipboard.readText()).toBe(PEM));
    await user.click(screen.getByRole('tab', { name: 'One line (Alipay console)' }));
    expect(await screen.findByTestId('wizard-public-key-base64')).toHaveTextContent(B64);
    await user.click(screen.getByTestId('wizard-copy'));
    await waitFor(async () => expect(await navigator.clipboard.readText()).toBe(B64));

    await user.click(screen.getByTestId('wizard-upload-sandbox'));
    await waitFor(() => expect(screen.getByTestId('wizard-upload-sandbox')).toBeDisabled());
    await user.click(screen.getByTestId('wizard-test'));
    const result = await screen.findByTestId('wizard-test-result');
    expect(result).toHaveAttribute('data-ok', 'true');
    expect(result).toHaveTextContent('accepted');

    await user.click(screen.getByTestId('wizard-activate'));
    expect(await screen.findByTestId('wizard-done')).toHaveTextContent('Version 2 is active');

    const key = { account: 'alipay-main', purpose: 'alipay_app_key' };
    expect(commands(calls, ['vault_status', 'keys_list'])).toEqual([
      'keys_generate',
      'keys_register_with_sandbox',
      'keys_test',
      'keys_activate',
    ]);
    expect(lastCall(calls, 'keys_generate')?.args).toEqual({ ...key, bits: 4096 });
    expect(lastCall(calls, 'keys_register_with_sandbox')?.args).toEqual({ ...key, version: 2 });
    expect(lastCall(calls, 'keys_test')?.args).toEqual({ ...key, version: 2 });
    expect(lastCall(calls, 'keys_activate')?.args).toEqual({ ...key, version: 2, graceHours: 24 });
  });

  it('does not offer activation when the provider refuses the new key', async () => {
    const user = userEvent.setup({ delay: null });
    setup({
      keys_generate: () => ({
        account: 'alipay-main',
        purpose: 'alipay_app_key',
        version: 2,
        fingerprint: 'f00d',
        key_bits: 2048,
        public_key_pem: PEM,
        public_key_base64: B64,
      }),
      keys_test: () => {
        throw { kind: 'provider', message: 'alipay_app_key version 2 of alipay-main was refused: invalid-signature' };
      },
    });
    await user.click(await findReady('rotate-alipay-main-alipay_app_key'));
    await user.click(await screen.findByTestId('wizard-generate'));
    await user.click(await screen.findByTestId('wizard-test'));
    const result = await screen.findByTestId('wizard-test-result');
    expect(result).toHaveAttribute('data-ok', 'false');
    expect(result).toHaveTextContent('invalid-signature');
    expect(screen.queryByTestId('wizard-activate')).not.toBeInTheDocument();
  });

  it('rolls a Stripe key by importing the new one, then test and activate', async () => {
    const user = userEvent.setup({ delay: null });
    const calls = setup({
      keys_import: () => version({ version: 3, state: 'pending', usable: false }),
      keys_test: () => 'accepted',
      keys_activate: () => null,
    });
    await user.click(await findReady('rotate-stripe-us-stripe_secret_key'));
    await fill(user, await screen.findByTestId('wizard-field-key'), 'pk_live_123456789');
    await user.click(screen.getByTestId('wizard-import'));
    expect(await screen.findByText(/this is a publishable key \(pk_\)/)).toBeInTheDocument();
    expect(calls.some((c) => c.cmd === 'keys_import')).toBe(false);

    await fill(user, screen.getByTestId('wizard-field-key'), 'rk_live_NEWKEY12345678');
    await user.click(screen.getByTestId('wizard-import'));
    await user.click(await screen.findByTestId('wizard-test'));
    await screen.findByTestId('wizard-test-result');
    await fill(user, screen.getByTestId('wizard-grace'), '48');
    await user.click(screen.getByTestId('wizard-activate'));
    await screen.findByTestId('wizard-done');
    const key = { account: 'stripe-us', purpose: 'stripe_secret_key' };
    expect(lastCall(calls, 'keys_import')?.args).toEqual({ ...key, fields: { key: 'rk_live_NEWKEY12345678' } });
    expect(lastCall(calls, 'keys_activate')?.args).toEqual({ ...key, version: 3, graceHours: 48 });
    // The secret is not shown anywhere once imported.
    expect(document.body.textContent).not.toContain('rk_live_NEWKEY12345678');
  });

  it('imports a WeChat merchant key with its certificate and merchant id', async () => {
    const user = userEvent.setup({ delay: null });
    const calls = setup({ keys_import: () => version({ version: 1, state: 'active' }) });
    await user.click(await findReady('import-wechat-main-wechat_merchant_key'));
    await user.click(await screen.findByTestId('import-submit'));
    expect(await screen.findByText('apiclient_key.pem: required.')).toBeInTheDocument();

    // A fake PEM (not a key), assembled so that secret scanners do not flag the file.
    const label = ['PRIVATE', 'KEY'].join(' ');
    const key = `-----BEGIN ${label}-----\nAAAA\n-----END ${label}-----`;
    const cert = '-----BEGIN CERTIFICATE-----\nBBBB\n-----END CERTIFICATE-----';
    await fill(user, screen.getByTestId('import-field-key'), key);
    // The certificate comes from a file.
    const file = new File([cert], 'apiclient_cert.pem', { type: 'application/x-pem-file' });
    await user.upload(screen.getByTestId('import-file-cert'), file);
    await waitFor(() => expect(screen.getByTestId('import-field-cert')).toHaveValue(cert));
    await fill(user, screen.getByTestId('import-field-mchid'), '1900000109');
    await user.click(screen.getByTestId('import-submit'));
    expect(await screen.findByTestId('import-result')).toHaveAttribute('data-state', 'active');
    expect(lastCall(calls, 'keys_import')?.args).toEqual({
      account: 'wechat-main',
      purpose: 'wechat_merchant_key',
      fields: { key: `${key}\n`, cert: `${cert}\n`, mchid: '1900000109' },
    });
  });

  it('refreshes WeChat platform certificates and shows the new serials', async () => {
    const user = userEvent.setup({ delay: null });
    const calls = setup({ keys_refresh_wechat_certs: () => ['7132D72A03E93CDDF8C03BBD1F37EEDF'] });
    await user.click(await findReady('refresh-certs-wechat-main'));
    const result = await screen.findByTestId('refresh-certs-result-wechat-main');
    expect(result).toHaveTextContent('7132D72A03E93CDDF8C03BBD1F37EEDF');
    expect(lastCall(calls, 'keys_refresh_wechat_certs')?.args).toEqual({ account: 'wechat-main' });
  });

  it('retires a version after confirmation', async () => {
    const user = userEvent.setup({ delay: null });
    const calls = setup({ keys_retire: () => null });
    await user.click(await findReady('retire-stripe-us-stripe_secret_key-2'));
    await user.click(await screen.findByTestId('version-confirm'));
    await waitFor(() =>
      expect(lastCall(calls, 'keys_retire')?.args).toEqual({
        account: 'stripe-us',
        purpose: 'stripe_secret_key',
        version: 2,
        graceHours: 0,
      }),
    );
  });

  it('shows no management buttons to viewers', async () => {
    setup({}, makeMe('auditor', ['finance'], ['key_view']));
    await screen.findByTestId('key-row-alipay-main-alipay_app_key');
    expect(screen.queryByTestId('rotate-alipay-main-alipay_app_key')).not.toBeInTheDocument();
    expect(screen.queryByTestId('key-import')).not.toBeInTheDocument();
    expect(screen.queryByTestId('refresh-certs-wechat-main')).not.toBeInTheDocument();
    expect(screen.queryByTestId('retire-stripe-us-stripe_secret_key-2')).not.toBeInTheDocument();
  });
});

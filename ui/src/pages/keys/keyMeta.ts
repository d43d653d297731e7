// What each credential purpose needs: which provider it belongs to, the import fields, and how
// it is rotated. Display and input checks only; the vault decides.
import type { KeyImportFields, Provider, Purpose, VersionListing } from '../../types';
import { PURPOSES } from '../../types';

export const PURPOSES_BY_PROVIDER: Record<Provider, Purpose[]> = {
  alipay: ['alipay_app_key', 'alipay_public_key'],
  wechat: ['wechat_merchant_key', 'wechat_apiv3_key', 'wechat_platform_cert', 'wechat_public_key'],
  stripe: ['stripe_secret_key', 'stripe_webhook_secret'],
  manual: [],
};

export function providerOf(p: Purpose): Provider {
  if (p.startsWith('alipay_')) return 'alipay';
  if (p.startsWith('wechat_')) return 'wechat';
  return 'stripe';
}

export function purposeOrder(p: Purpose): number {
  return PURPOSES.indexOf(p);
}

/** The import field names: the API's `fields` keys, plus `mchid` for WeChat merchant keys. */
export type FieldName = keyof KeyImportFields | 'mchid';

export interface FieldSpec {
  name: FieldName;
  /** pem: multi-line text area (a file can be read into it); secret: one-line hidden input;
   *  line: one-line visible input. */
  kind: 'pem' | 'secret' | 'line';
  required: boolean;
  /** The text holds a secret: never echoed anywhere else, cleared when the dialog closes. */
  secret: boolean;
  /** Returns an i18n key (keys namespace) of the problem, or null. */
  check?: (value: string) => string | null;
}

const apiv3 = (v: string) =>
  v.length === 32 && /^[\x20-\x7e]+$/.test(v) ? null : 'import.errors.apiv3_length';
const stripeKey = (v: string) => {
  if (v.startsWith('pk_')) return 'import.errors.stripe_publishable';
  return /^(sk|rk)_(live|test)_\S+$/.test(v) ? null : 'import.errors.stripe_prefix';
};
const whsec = (v: string) => (/^whsec_\S{8,}$/.test(v) ? null : 'import.errors.whsec_prefix');
const keyId = (v: string) => (v.startsWith('PUB_KEY_ID_') ? null : 'import.errors.key_id_prefix');
const mchid = (v: string) => (/^\d{6,20}$/.test(v) ? null : 'import.errors.mchid_digits');
const pemOrBase64 = (v: string) =>
  /-----BEGIN [A-Z0-9 ]+-----/.test(v) || /^[A-Za-z0-9+/=\s]{64,}$/.test(v) ? null : 'import.errors.not_pem';
const pem = (v: string) => (/-----BEGIN [A-Z0-9 ]+-----/.test(v) ? null : 'import.errors.not_pem');

export const IMPORT_FIELDS: Record<Purpose, FieldSpec[]> = {
  alipay_app_key: [
    { name: 'private_key', kind: 'pem', required: true, secret: true, check: pemOrBase64 },
    { name: 'public_key', kind: 'pem', required: false, secret: false, check: pemOrBase64 },
  ],
  alipay_public_key: [{ name: 'text', kind: 'pem', required: true, secret: false, check: pemOrBase64 }],
  wechat_merchant_key: [
    { name: 'key', kind: 'pem', required: true, secret: true, check: pem },
    { name: 'cert', kind: 'pem', required: true, secret: false, check: pem },
    { name: 'mchid', kind: 'line', required: true, secret: false, check: mchid },
  ],
  wechat_apiv3_key: [{ name: 'key', kind: 'secret', required: true, secret: true, check: apiv3 }],
  wechat_platform_cert: [{ name: 'pem', kind: 'pem', required: true, secret: false, check: pem }],
  wechat_public_key: [
    { name: 'text', kind: 'pem', required: true, secret: false, check: pemOrBase64 },
    { name: 'key_id', kind: 'line', required: true, secret: false, check: keyId },
  ],
  stripe_secret_key: [{ name: 'key', kind: 'secret', required: true, secret: true, check: stripeKey }],
  stripe_webhook_secret: [{ name: 'secret', kind: 'secret', required: true, secret: true, check: whsec }],
};

export type FieldValues = Partial<Record<FieldName, string>>;

/** Checks the fields of `purpose`; returns the problems (i18n keys) by field. */
export function checkFields(purpose: Purpose, values: FieldValues): Partial<Record<FieldName, string>> {
  const errors: Partial<Record<FieldName, string>> = {};
  for (const f of IMPORT_FIELDS[purpose]) {
    const v = (values[f.name] ?? '').trim();
    if (v === '') {
      if (f.required) errors[f.name] = 'import.errors.required';
      continue;
    }
    const problem = f.check?.(v);
    if (problem) errors[f.name] = problem;
  }
  return errors;
}

/** The `fields` argument of `keys_import`: only this purpose's non-empty fields. */
export function importArgs(purpose: Purpose, values: FieldValues): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of IMPORT_FIELDS[purpose]) {
    const v = (values[f.name] ?? '').trim();
    if (v !== '') out[f.name] = f.kind === 'pem' ? `${v}\n` : v;
  }
  return out;
}

/**
 * How a purpose is rotated in the wizard: `generate` (Paydesk makes the key pair, the public key
 * is uploaded to the provider console), `import` (the new key comes from the provider: WeChat
 * merchant key + certificate, a rolled Stripe key). null: no wizard (import a version instead).
 */
export function rotationMode(p: Purpose): 'generate' | 'import' | null {
  if (p === 'alipay_app_key') return 'generate';
  if (p === 'wechat_merchant_key' || p === 'stripe_secret_key') return 'import';
  return null;
}

/** Whether a version of this purpose can be checked with a call (`keys_test`). */
export function testable(p: Purpose): boolean {
  return p === 'alipay_app_key' || p === 'wechat_merchant_key' || p === 'stripe_secret_key';
}

export const EXPIRY_WARNING_DAYS = 30;

/** 'expired' | 'soon' | null for a version's certificate expiry. */
export function expiryLevel(v: VersionListing, now: number): 'expired' | 'soon' | null {
  if (!v.info.not_after) return null;
  const t = Date.parse(v.info.not_after);
  if (Number.isNaN(t)) return null;
  if (t <= now) return 'expired';
  if (t - now < EXPIRY_WARNING_DAYS * 86_400_000) return 'soon';
  return null;
}

/** Splits "ok: accepted" / "failed: reason" test outcomes. */
export function splitOutcome(o: string | null): { ok: boolean | null; text: string } {
  if (!o) return { ok: null, text: '' };
  const m = /^(ok|failed):\s*(.*)$/s.exec(o);
  if (!m) return { ok: null, text: o };
  return { ok: m[1] === 'ok', text: m[2] };
}

/** Copies text; falls back to a hidden textarea + execCommand where the clipboard API is missing. */
export async function copyText(text: string): Promise<boolean> {
  try {
    if (navigator.clipboard?.writeText) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // fall through to the fallback
  }
  try {
    const ta = document.createElement('textarea');
    ta.value = text;
    ta.setAttribute('readonly', '');
    ta.style.position = 'fixed';
    ta.style.opacity = '0';
    document.body.appendChild(ta);
    ta.select();
    const ok = typeof document.execCommand === 'function' && document.execCommand('copy');
    document.body.removeChild(ta);
    return !!ok;
  } catch {
    return false;
  }
}

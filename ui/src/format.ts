// Display formatting for money, dates and times. Money stays in integer minor units; the
// conversion to major units is done on decimal strings, never with float multiplication.
import type { Lang } from './types';

const EXPONENTS: Record<string, number> = {
  JPY: 0,
  KRW: 0,
  VND: 0,
  CLP: 0,
  ISK: 0,
  BHD: 3,
  KWD: 3,
  JOD: 3,
  OMR: 3,
};

/** Decimal places of a currency's minor unit (CNY/USD 2, JPY 0, KWD 3). */
export function currencyExponent(currency: string): number {
  const code = currency.trim().toUpperCase();
  return EXPONENTS[code] ?? 2;
}

function intlLocale(locale: Lang): string {
  return locale === 'zh' ? 'zh-CN' : 'en-US';
}

/** "-1234.5" style plain decimal string of minor units, exact. */
export function minorToDecimalString(minor: number, currency: string): string {
  const exp = currencyExponent(currency);
  const big = BigInt(Math.trunc(minor));
  const neg = big < 0n;
  const abs = neg ? -big : big;
  const digits = abs.toString();
  if (exp === 0) return (neg ? '-' : '') + digits;
  const padded = digits.padStart(exp + 1, '0');
  const intPart = padded.slice(0, padded.length - exp);
  const frac = padded.slice(padded.length - exp);
  return `${neg ? '-' : ''}${intPart}.${frac}`;
}

/** Major units as a JS number, for charts only (never for arithmetic on money). */
export function minorToMajorNumber(minor: number, currency: string): number {
  return Number(minorToDecimalString(minor, currency));
}

/**
 * Formats minor units per locale with the currency's symbol and fraction digits:
 * formatMoney(123456, 'CNY', 'en') → "CN¥1,234.56"; formatMoney(-500, 'JPY', 'en') → "-¥500".
 */
export function formatMoney(minor: number, currency: string, locale: Lang): string {
  const code = currency.trim().toUpperCase();
  const exp = currencyExponent(code);
  const decimal = minorToDecimalString(minor, code);
  let fmt: Intl.NumberFormat;
  try {
    fmt = new Intl.NumberFormat(intlLocale(locale), {
      style: 'currency',
      currency: code,
      minimumFractionDigits: exp,
      maximumFractionDigits: exp,
    });
  } catch {
    return `${decimal} ${code}`;
  }
  // Intl formats the decimal string exactly (string input); fall back to splitting
  // integer and fraction where string input is not supported.
  try {
    return fmt.format(decimal as unknown as number);
  } catch {
    return `${decimal} ${code}`;
  }
}

/** Formats a plain count per locale (1,234). */
export function formatCount(n: number, locale: Lang): string {
  return new Intl.NumberFormat(intlLocale(locale)).format(n);
}

/**
 * Parses an amount typed in major units ("12.30", "1,234.5", "¥12") into minor units.
 * Returns null for anything that is not a plain non-negative amount with at most the
 * currency's number of decimals.
 */
export function parseMoneyInput(text: string, currency: string): number | null {
  const exp = currencyExponent(currency);
  let s = text.trim().replace(/^[¥$€£]|^CN¥|^US\$/u, '').trim();
  if (s === '') return null;
  // Thousands separators only in the usual positions.
  if (s.includes(',')) {
    if (!/^\d{1,3}(,\d{3})+(\.\d*)?$/.test(s)) return null;
    s = s.replace(/,/g, '');
  }
  const m = /^(\d+)(?:\.(\d*))?$/.exec(s);
  if (!m) {
    if (/^\.\d+$/.test(s)) return parseMoneyInput(`0${s}`, currency);
    return null;
  }
  const intPart = m[1];
  const frac = m[2] ?? '';
  if (frac.length > exp) {
    // Trailing zeros beyond the currency's precision change nothing ("12.300").
    if (!/^0*$/.test(frac.slice(exp))) return null;
  }
  const fracDigits = frac.slice(0, exp).padEnd(exp, '0');
  const big = BigInt(intPart) * 10n ** BigInt(exp) + BigInt(fracDigits === '' ? '0' : fracDigits);
  if (big > BigInt(Number.MAX_SAFE_INTEGER)) return null;
  return Number(big);
}

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** "2026-03-14" → "Mar 14, 2026" / "2026年3月14日"; also accepts RFC 3339 timestamps. */
export function formatDate(value: string | null | undefined, locale: Lang): string {
  if (!value) return '';
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  let d: Date;
  if (m) {
    // A bill date is a calendar day: format it as such, no timezone shifts.
    d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
    return new Intl.DateTimeFormat(intlLocale(locale), {
      year: 'numeric',
      month: 'short',
      day: 'numeric',
      timeZone: 'UTC',
    }).format(d);
  }
  d = new Date(value);
  if (Number.isNaN(d.getTime())) return value;
  // A timestamp's day is the business day (a due date at 23:30 UTC is the next day in Shanghai).
  return new Intl.DateTimeFormat(intlLocale(locale), {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    ...(businessTimeZone ? { timeZone: businessTimeZone } : {}),
  }).format(d);
}

/**
 * The business timezone (`[app] timezone` of paydesk.toml, from app_info): times of business
 * events are shown in it, with the zone named, whatever the computer's own timezone. Unset
 * (before app_info, or an unknown zone), times are the computer's, without a zone.
 */
let businessTimeZone: string | undefined;

/** Sets the business timezone; an unknown IANA name leaves it unset. Returns whether it took. */
export function setBusinessTimeZone(tz: string | null | undefined): boolean {
  // Called on every render of the session: nothing to check when it is already set.
  if (tz && tz === businessTimeZone) return true;
  if (!tz) {
    businessTimeZone = undefined;
    return false;
  }
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz }).format(0);
    businessTimeZone = tz;
    return true;
  } catch {
    businessTimeZone = undefined;
    return false;
  }
}

export function getBusinessTimeZone(): string | undefined {
  return businessTimeZone;
}

/**
 * RFC 3339 → date and time in the business timezone with the zone ("Mar 14, 2026, 07:30 GMT+8"
 * / "2026年3月14日 07:30 GMT+8"); in the computer's timezone without a zone when none is set.
 */
export function formatDateTime(value: string | null | undefined, locale: Lang, timeZone = businessTimeZone): string {
  if (!value) return '';
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return value;
  return new Intl.DateTimeFormat(intlLocale(locale), {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hour12: false,
    ...(timeZone ? { timeZone, timeZoneName: 'short' } : {}),
  }).format(d);
}

/** "YYYY-MM-DD" of a Date in local time. */
export function isoDay(d: Date): string {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** Shortens a long hash/id for display: "3f2a9c…b71e". */
export function shortHash(h: string, head = 8, tail = 4): string {
  if (h.length <= head + tail + 1) return h;
  return `${h.slice(0, head)}…${h.slice(-tail)}`;
}

import { afterEach, describe, expect, it } from 'vitest';
import {
  currencyExponent,
  formatDate,
  formatDateTime,
  getBusinessTimeZone,
  setBusinessTimeZone,
  formatMoney,
  minorToDecimalString,
  minorToMajorNumber,
  parseMoneyInput,
  shortHash,
} from './format';

// Intl output uses narrow no-break spaces in some locales; compare with normal spaces.
const norm = (s: string) => s.replace(/[\u00a0\u202f]/g, ' ');

describe('formatMoney', () => {
  it('formats CNY with two decimals in English and Chinese', () => {
    expect(norm(formatMoney(123456, 'CNY', 'en'))).toBe('CN¥1,234.56');
    expect(norm(formatMoney(123456, 'CNY', 'zh'))).toBe('¥1,234.56');
    expect(norm(formatMoney(5, 'CNY', 'en'))).toBe('CN¥0.05');
    expect(norm(formatMoney(0, 'CNY', 'zh'))).toBe('¥0.00');
  });

  it('formats USD', () => {
    expect(norm(formatMoney(1999, 'USD', 'en'))).toBe('$19.99');
    expect(norm(formatMoney(100000000, 'USD', 'en'))).toBe('$1,000,000.00');
    expect(norm(formatMoney(1999, 'USD', 'zh'))).toBe('US$19.99');
  });

  it('formats JPY without decimals (minor unit = yen)', () => {
    expect(norm(formatMoney(3000, 'JPY', 'en'))).toBe('¥3,000');
    expect(norm(formatMoney(3000, 'JPY', 'zh'))).toBe('JP¥3,000');
    expect(norm(formatMoney(1, 'jpy', 'en'))).toBe('¥1');
  });

  it('formats negative amounts', () => {
    expect(norm(formatMoney(-3580, 'CNY', 'en'))).toBe('-CN¥35.80');
    expect(norm(formatMoney(-1, 'USD', 'en'))).toBe('-$0.01');
    expect(norm(formatMoney(-500, 'JPY', 'en'))).toBe('-¥500');
    expect(norm(formatMoney(-3580, 'CNY', 'zh'))).toBe('-¥35.80');
  });

  it('is exact for large amounts (no float drift)', () => {
    // Dividing by 100 as floats would show …409.90 and …664.12 here.
    expect(norm(formatMoney(Number.MAX_SAFE_INTEGER, 'CNY', 'en'))).toBe('CN¥90,071,992,547,409.91');
    expect(norm(formatMoney(7036874417766413, 'USD', 'en'))).toBe('$70,368,744,177,664.13');
    expect(minorToDecimalString(Number.MAX_SAFE_INTEGER, 'USD')).toBe('90071992547409.91');
    expect(minorToDecimalString(-7, 'CNY')).toBe('-0.07');
    expect(minorToDecimalString(-7, 'KWD')).toBe('-0.007');
    expect(minorToDecimalString(1005, 'JPY')).toBe('1005');
  });

  it('converts to major numbers for charts', () => {
    expect(minorToMajorNumber(1010, 'CNY')).toBe(10.1);
    expect(minorToMajorNumber(1010, 'JPY')).toBe(1010);
  });

  it('knows exponents', () => {
    expect(currencyExponent('CNY')).toBe(2);
    expect(currencyExponent('USD')).toBe(2);
    expect(currencyExponent('JPY')).toBe(0);
    expect(currencyExponent('KWD')).toBe(3);
  });
});

describe('parseMoneyInput', () => {
  it('parses major units into exact minor units', () => {
    expect(parseMoneyInput('12.30', 'CNY')).toBe(1230);
    expect(parseMoneyInput('12.3', 'CNY')).toBe(1230);
    expect(parseMoneyInput('12', 'CNY')).toBe(1200);
    expect(parseMoneyInput('0.01', 'USD')).toBe(1);
    expect(parseMoneyInput(' 1,234.56 ', 'USD')).toBe(123456);
    expect(parseMoneyInput('.5', 'CNY')).toBe(50);
    expect(parseMoneyInput('12.', 'CNY')).toBe(1200);
    // 0.29 * 100 = 28.999999999999996 in floats; the parser must not go through floats.
    expect(parseMoneyInput('0.29', 'CNY')).toBe(29);
    expect(parseMoneyInput('1.15', 'CNY')).toBe(115);
    expect(parseMoneyInput('¥8.88', 'CNY')).toBe(888);
    expect(parseMoneyInput('12.300', 'CNY')).toBe(1230);
  });

  it('parses JPY without decimals', () => {
    expect(parseMoneyInput('3000', 'JPY')).toBe(3000);
    expect(parseMoneyInput('3,000', 'JPY')).toBe(3000);
    expect(parseMoneyInput('3000.0', 'JPY')).toBe(3000);
  });

  it('rejects more decimals than the currency allows', () => {
    expect(parseMoneyInput('12.345', 'CNY')).toBeNull();
    expect(parseMoneyInput('0.001', 'USD')).toBeNull();
    expect(parseMoneyInput('10.5', 'JPY')).toBeNull();
  });

  it('rejects letters, negatives, empty and malformed input', () => {
    expect(parseMoneyInput('', 'CNY')).toBeNull();
    expect(parseMoneyInput('   ', 'CNY')).toBeNull();
    expect(parseMoneyInput('abc', 'CNY')).toBeNull();
    expect(parseMoneyInput('12a', 'CNY')).toBeNull();
    expect(parseMoneyInput('1e3', 'CNY')).toBeNull();
    expect(parseMoneyInput('-5', 'CNY')).toBeNull();
    expect(parseMoneyInput('-0.01', 'USD')).toBeNull();
    expect(parseMoneyInput('1.2.3', 'CNY')).toBeNull();
    expect(parseMoneyInput('12,34', 'CNY')).toBeNull();
    expect(parseMoneyInput('0x10', 'CNY')).toBeNull();
    expect(parseMoneyInput('Infinity', 'CNY')).toBeNull();
    expect(parseMoneyInput('99999999999999999999', 'CNY')).toBeNull();
  });
});

describe('formatDate / shortHash', () => {
  it('formats bill dates as calendar days in both languages', () => {
    expect(formatDate('2026-03-14', 'en')).toBe('Mar 14, 2026');
    expect(formatDate('2026-03-14', 'zh')).toBe('2026年3月14日');
    expect(formatDate(null, 'en')).toBe('');
  });

  it('shortens hashes', () => {
    expect(shortHash('0123456789abcdef0123456789abcdef')).toBe('01234567…cdef');
    expect(shortHash('abc')).toBe('abc');
  });
});

describe('business timezone', () => {
  afterEach(() => setBusinessTimeZone(null));

  it('shows times of business events in the workspace timezone, with the zone, whatever the computer says', () => {
    // 23:30 UTC on the 14th is 07:30 on the 15th in Shanghai.
    expect(setBusinessTimeZone('Asia/Shanghai')).toBe(true);
    expect(formatDateTime('2026-03-14T23:30:00Z', 'en')).toBe('Mar 15, 2026, 07:30 GMT+8');
    // zh-CN puts the zone before the time ("2026年3月15日 GMT+8 07:30").
    const zh = formatDateTime('2026-03-14T23:30:00Z', 'zh');
    for (const part of ['2026年3月15日', '07:30', 'GMT+8']) expect(zh).toContain(part);
    // A timestamp's calendar day is the business day too; a bill date is never shifted.
    expect(formatDate('2026-03-14T23:30:00Z', 'en')).toBe('Mar 15, 2026');
    expect(formatDate('2026-03-14', 'en')).toBe('Mar 14, 2026');
    expect(setBusinessTimeZone('UTC')).toBe(true);
    expect(formatDateTime('2026-03-14T23:30:00Z', 'en')).toBe('Mar 14, 2026, 23:30 UTC');
  });

  it('an unknown zone leaves times in the computer timezone, without a zone name', () => {
    expect(setBusinessTimeZone('Mars/Olympus_Mons')).toBe(false);
    expect(getBusinessTimeZone()).toBeUndefined();
    expect(formatDateTime('2026-03-14T23:30:00Z', 'en')).not.toMatch(/GMT|UTC/);
  });
});

// Every namespace has the same keys in English and Chinese, no empty strings, and every
// literal t('key') in the components exists in the namespace the file translates with.
import { describe, expect, it } from 'vitest';

type Json = { [k: string]: string | Json };

const localeFiles = import.meta.glob<Json>('../locales/*/*.json', { eager: true, import: 'default' });
const sources = import.meta.glob<string>(['../**/*.tsx', '!../**/*.test.tsx'], {
  eager: true,
  query: '?raw',
  import: 'default',
});

const LANGS = ['en', 'zh'];
const PLURAL_SUFFIXES = ['_zero', '_one', '_two', '_few', '_many', '_other'];

const locales: Record<string, Record<string, Json>> = {};
for (const [path, json] of Object.entries(localeFiles)) {
  const m = /\/locales\/([^/]+)\/([^/]+)\.json$/.exec(path);
  if (!m) continue;
  (locales[m[1]] ??= {})[m[2]] = json;
}
const namespaces = Array.from(new Set(Object.values(locales).flatMap((l) => Object.keys(l)))).sort();

function flatten(obj: Json, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'string') out[key] = v;
    else Object.assign(out, flatten(v, key));
  }
  return out;
}

function lookup(ns: string, key: string): string | Json | undefined {
  let cur: string | Json | undefined = locales.en?.[ns];
  for (const part of key.split('.')) {
    if (cur === undefined || typeof cur === 'string') return undefined;
    cur = cur[part];
  }
  return cur;
}

/** A literal key exists as a string, or as plural forms (key_one, key_other…). */
function hasKey(ns: string, key: string): boolean {
  if (typeof lookup(ns, key) === 'string') return true;
  return PLURAL_SUFFIXES.some((s) => typeof lookup(ns, key + s) === 'string');
}

/** A dynamic key `prefix.${x}`: the prefix must be a group of strings. */
function hasGroup(ns: string, prefix: string): boolean {
  const v = lookup(ns, prefix);
  return v !== undefined && typeof v !== 'string';
}

export interface KeyUse {
  file: string;
  key: string;
  dynamic: boolean;
}

/** Finds t('…'), t("…"), t(`prefix.${…}`) and i18nKey="…" in a source file. */
export function scanKeys(src: string): { keys: { key: string; dynamic: boolean }[]; namespaces: string[] } {
  const keys: { key: string; dynamic: boolean }[] = [];
  const lit = /\bt\(\s*(['"])([^'"\n]+)\1/g;
  const tpl = /\bt\(\s*`([^`$]*)\$\{/g;
  const tplStatic = /\bt\(\s*`([^`$]+)`/g;
  const i18nKey = /i18nKey=(['"])([^'"]+)\1/g;
  let m: RegExpExecArray | null;
  while ((m = lit.exec(src))) keys.push({ key: m[2], dynamic: false });
  while ((m = i18nKey.exec(src))) keys.push({ key: m[2], dynamic: false });
  while ((m = tplStatic.exec(src))) keys.push({ key: m[1], dynamic: false });
  while ((m = tpl.exec(src))) {
    // Only a prefix ending in "." says something checkable (`class.${c}` → group "class").
    const prefix = m[1];
    if (prefix.endsWith('.')) keys.push({ key: prefix.slice(0, -1), dynamic: true });
  }
  const nsList: string[] = [];
  const useT = /useTranslation\(\s*(?:(['"])([^'"]+)\1|\[([^\]]*)\])/g;
  while ((m = useT.exec(src))) {
    if (m[2]) nsList.push(m[2]);
    else if (m[3]) for (const x of m[3].matchAll(/['"]([^'"]+)['"]/g)) nsList.push(x[1]);
  }
  return { keys, namespaces: nsList };
}

describe('locale files', () => {
  it('has both languages and the core namespaces', () => {
    expect(Object.keys(locales).sort()).toEqual(LANGS);
    for (const ns of ['common', 'login', 'dashboard', 'reconcile']) {
      expect(namespaces).toContain(ns);
    }
  });

  for (const ns of namespaces) {
    it(`namespace "${ns}" has the same keys in en and zh`, () => {
      const en = locales.en?.[ns];
      const zh = locales.zh?.[ns];
      expect(en, `locales/en/${ns}.json is missing`).toBeDefined();
      expect(zh, `locales/zh/${ns}.json is missing`).toBeDefined();
      const enKeys = Object.keys(flatten(en!)).sort();
      const zhKeys = Object.keys(flatten(zh!)).sort();
      expect(enKeys.filter((k) => !zhKeys.includes(k)), `keys only in en/${ns}.json`).toEqual([]);
      expect(zhKeys.filter((k) => !enKeys.includes(k)), `keys only in zh/${ns}.json`).toEqual([]);
    });

    it(`namespace "${ns}" has no empty strings`, () => {
      for (const lang of LANGS) {
        const flat = flatten(locales[lang]?.[ns] ?? {});
        const empty = Object.entries(flat)
          .filter(([, v]) => v.trim() === '')
          .map(([k]) => k);
        expect(empty, `empty strings in ${lang}/${ns}.json`).toEqual([]);
      }
    });
  }
});

describe('keys used in components', () => {
  it('the scanner finds keys and namespaces', () => {
    const r = scanKeys(
      "const { t } = useTranslation('dashboard'); t('title'); t(\"common:actions.save\"); t(`common:class.${c}`); i18n.t('x.y', { n });",
    );
    expect(r.namespaces).toEqual(['dashboard']);
    expect(r.keys).toEqual(
      expect.arrayContaining([
        { key: 'title', dynamic: false },
        { key: 'common:actions.save', dynamic: false },
        { key: 'common:class', dynamic: true },
        { key: 'x.y', dynamic: false },
      ]),
    );
    expect(scanKeys("useTranslation(['orders', 'common'])").namespaces).toEqual(['orders', 'common']);
  });

  it('scans the real sources', () => {
    const files = Object.keys(sources);
    expect(files.some((f) => f.endsWith('/App.tsx'))).toBe(true);
    expect(files.some((f) => f.endsWith('/DashboardPage.tsx'))).toBe(true);
  });

  it('every literal key exists in its namespace', () => {
    const missing: string[] = [];
    for (const [file, src] of Object.entries(sources)) {
      const { keys, namespaces: fileNs } = scanKeys(src);
      if (keys.length === 0) continue;
      // A file that does not pick a namespace translates with whatever t it was handed (or
      // the default, common): its keys must exist in some namespace.
      const candidates = Array.from(new Set(fileNs.length ? fileNs : namespaces));
      for (const { key, dynamic } of keys) {
        const check = dynamic ? hasGroup : hasKey;
        const colon = key.indexOf(':');
        const explicit = colon > 0 && /^[a-z][a-z0-9_-]*$/.test(key.slice(0, colon));
        const where = explicit ? [key.slice(0, colon)] : candidates;
        const bare = explicit ? key.slice(colon + 1) : key;
        const ok = where.some((ns) => check(ns, bare));
        if (!ok) {
          missing.push(`${file.replace('../', 'src/')}: ${dynamic ? `${bare}.*` : bare} (namespace ${where.join(' | ')})`);
        }
      }
    }
    expect(missing).toEqual([]);
  });
});

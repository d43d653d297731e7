// i18next setup: every ui/src/locales/<lang>/<namespace>.json is loaded automatically.
import i18n from 'i18next';
import { initReactI18next } from 'react-i18next';
import dayjs from 'dayjs';
import 'dayjs/locale/zh-cn';
import 'dayjs/locale/en';
import type { Lang } from '../types';

export const LANG_STORAGE_KEY = 'paydesk.lang';
export const LANGS: Lang[] = ['en', 'zh'];

type Json = { [k: string]: string | Json };

const modules = import.meta.glob<{ default: Json }>('../locales/*/*.json', { eager: true });

/** { en: { common: {...}, login: {...} }, zh: {...} } */
export const resources: Record<string, Record<string, Json>> = {};
for (const [path, mod] of Object.entries(modules)) {
  const m = /\/locales\/([^/]+)\/([^/]+)\.json$/.exec(path);
  if (!m) continue;
  const [, lang, ns] = m;
  resources[lang] ??= {};
  resources[lang][ns] = (mod as { default?: Json }).default ?? (mod as unknown as Json);
}

export const namespaces: string[] = Array.from(
  new Set(Object.values(resources).flatMap((r) => Object.keys(r))),
).sort();

/** Saved choice, else zh when the system language is Chinese, else en. */
export function detectLang(): Lang {
  try {
    const saved = window.localStorage.getItem(LANG_STORAGE_KEY);
    if (saved === 'en' || saved === 'zh') return saved;
  } catch {
    // storage unavailable
  }
  const nav = typeof navigator !== 'undefined' ? navigator.language || '' : '';
  return nav.toLowerCase().startsWith('zh') ? 'zh' : 'en';
}

export function dayjsLocale(lang: Lang): string {
  return lang === 'zh' ? 'zh-cn' : 'en';
}

/** Switches the UI language, remembers it, and keeps dayjs in step. */
export async function setLanguage(lang: Lang): Promise<void> {
  try {
    window.localStorage.setItem(LANG_STORAGE_KEY, lang);
  } catch {
    // storage unavailable
  }
  dayjs.locale(dayjsLocale(lang));
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  await i18n.changeLanguage(lang);
}

const initial = detectLang();
dayjs.locale(dayjsLocale(initial));
if (typeof document !== 'undefined') document.documentElement.lang = initial === 'zh' ? 'zh-CN' : 'en';

void i18n.use(initReactI18next).init({
  resources,
  lng: initial,
  fallbackLng: 'en',
  ns: namespaces,
  defaultNS: 'common',
  interpolation: { escapeValue: false },
  returnNull: false,
  initAsync: false,
  react: { useSuspense: false },
});

export default i18n;

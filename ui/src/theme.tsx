// Light or dark, as the system is set (and as it changes while the app is open).
//
// antd follows through its algorithm. The few colours of our own (styles.ts COLOR, themed(),
// the discrepancies grid's CSS) are CSS variables that are set, from antd's dark tokens, only
// in dark mode: in light mode each falls back to its original value, so that the light UI is
// exactly what it was. Things that need a colour value rather than CSS (two-tone icons, charts)
// use useColorValues() / useColorScheme().
import { createContext, useContext, useEffect, useLayoutEffect, useState } from 'react';
import type { ReactNode } from 'react';
import { theme } from 'antd';
import type { GlobalToken, ThemeConfig } from 'antd';
import type { ColorName, ThemedName } from './styles';
import { LIGHT_COLOR } from './styles';

export type ColorScheme = 'light' | 'dark';

export const DARK_QUERY = '(prefers-color-scheme: dark)';

function darkMedia(): MediaQueryList | null {
  try {
    return typeof window.matchMedia === 'function' ? window.matchMedia(DARK_QUERY) : null;
  } catch {
    return null;
  }
}

/** The system's colour scheme, following its changes. */
export function useSystemColorScheme(): ColorScheme {
  const [scheme, setScheme] = useState<ColorScheme>(() => (darkMedia()?.matches ? 'dark' : 'light'));
  useEffect(() => {
    const mql = darkMedia();
    if (!mql) return;
    const onChange = (e: { matches: boolean }) => setScheme(e.matches ? 'dark' : 'light');
    onChange(mql);
    if (typeof mql.addEventListener === 'function') {
      mql.addEventListener('change', onChange);
      return () => mql.removeEventListener('change', onChange);
    }
    // Older WebKit (macOS before 11's Safari 14).
    mql.addListener(onChange);
    return () => mql.removeListener(onChange);
  }, []);
  return scheme;
}

const TOKEN: ThemeConfig['token'] = { colorPrimary: '#1f6feb', borderRadius: 6 };
const LIGHT_THEME: ThemeConfig = { token: TOKEN };
const DARK_THEME: ThemeConfig = { algorithm: theme.darkAlgorithm, token: TOKEN };

/** antd's theme for a scheme: the same tokens, and the dark algorithm when dark. */
export function themeConfig(scheme: ColorScheme): ThemeConfig {
  return scheme === 'dark' ? DARK_THEME : LIGHT_THEME;
}

const ColorSchemeContext = createContext<ColorScheme>('light');

/** The scheme the app is shown in ('light' outside <ColorSchemeProvider>, as in page tests). */
export function useColorScheme(): ColorScheme {
  return useContext(ColorSchemeContext);
}

/** Inside antd's ConfigProvider: provides the scheme and sets the page's dark colours. */
export function ColorSchemeProvider({ scheme, children }: { scheme: ColorScheme; children: ReactNode }) {
  const { token } = theme.useToken();
  useLayoutEffect(() => {
    const root = document.documentElement;
    root.dataset.colorScheme = scheme;
    if (scheme !== 'dark') return undefined;
    const vars = darkVars(token);
    for (const [name, value] of Object.entries(vars)) root.style.setProperty(`--pd-${name}`, value);
    // Native parts (scrollbars, the canvas behind the layout) dark too.
    root.style.colorScheme = 'dark';
    root.style.backgroundColor = token.colorBgLayout;
    return () => {
      for (const name of Object.keys(vars)) root.style.removeProperty(`--pd-${name}`);
      root.style.colorScheme = '';
      root.style.backgroundColor = '';
    };
  }, [scheme, token]);
  return <ColorSchemeContext.Provider value={scheme}>{children}</ColorSchemeContext.Provider>;
}

/** COLOR's values in the current scheme, for what cannot take a CSS variable (two-tone icons). */
export function useColorValues(): Record<ColorName, string> {
  const scheme = useColorScheme();
  const { token } = theme.useToken();
  if (scheme !== 'dark') return LIGHT_COLOR;
  const vars = darkVars(token);
  return {
    success: vars.success,
    successText: vars['success-text'],
    danger: vars.danger,
    warning: vars.warning,
    muted: vars.muted,
    border: vars.border,
  };
}

/** The dark value of every themed colour, from antd's dark tokens. */
export function darkVars(token: GlobalToken): Record<ThemedName, string> {
  const bg = token.colorBgContainer;
  return {
    success: token.colorSuccess,
    'success-text': token.colorSuccessText,
    danger: token.colorErrorText,
    'danger-bg': token.colorErrorBg,
    warning: token.colorWarningText,
    muted: token.colorTextQuaternary,
    neutral: token.colorBorder,
    border: token.colorBorderSecondary,
    split: token.colorSplit,
    primary: token.colorLink,
    'text-secondary': token.colorTextSecondary,
    'text-tertiary': token.colorTextTertiary,
    fill: token.colorFillTertiary,
    'page-bg': token.colorBgLayout,
    bg,
    // Opaque: frozen grid cells and the sticky header cover what scrolls under them.
    'bg-header': solid(token.colorFillAlter, bg),
    'bg-hover': solid(token.controlItemBgHover, bg),
    'bg-selected': solid(token.controlItemBgActive, bg),
    skeleton: solid(token.colorFillTertiary, bg),
    'skeleton-hi': solid(token.colorFillSecondary, bg),
  };
}

/** `color` (hex or rgba) laid over the opaque `under`, as one opaque hex colour. */
export function solid(color: string, under: string): string {
  const top = parseColor(color);
  const base = parseColor(under);
  if (!top || !base) return color;
  const mix = (i: 0 | 1 | 2) => Math.round(top[i] * top[3] + base[i] * (1 - top[3]));
  return `#${[mix(0), mix(1), mix(2)].map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}

function parseColor(c: string): [number, number, number, number] | null {
  const s = c.trim().toLowerCase();
  let m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/.exec(s);
  if (m) {
    const h = m[1].length === 3 ? m[1].replace(/./g, (x) => x + x) : m[1];
    return [parseInt(h.slice(0, 2), 16), parseInt(h.slice(2, 4), 16), parseInt(h.slice(4, 6), 16), 1];
  }
  m = /^rgba?\(\s*([\d.]+)\s*,\s*([\d.]+)\s*,\s*([\d.]+)\s*(?:,\s*([\d.]+)\s*)?\)$/.exec(s);
  if (m) return [Number(m[1]), Number(m[2]), Number(m[3]), m[4] === undefined ? 1 : Number(m[4])];
  return null;
}

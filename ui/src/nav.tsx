// Which page is shown, kept in location.hash ("#/discrepancies?states=open&account=alipay-main")
// so it survives reloads; pages navigate with useNavigate().
import { createContext, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import type { ReactNode } from 'react';

export type PageKey =
  | 'dashboard'
  | 'reconcile'
  | 'discrepancies'
  | 'settlements'
  | 'orders'
  | 'approvals'
  | 'keys'
  | 'users'
  | 'audit'
  | 'settings';

export const PAGE_KEYS: PageKey[] = [
  'dashboard',
  'reconcile',
  'discrepancies',
  'settlements',
  'orders',
  'approvals',
  'keys',
  'users',
  'audit',
  'settings',
];

export type NavParams = Record<string, string>;

export interface NavState {
  page: PageKey | null;
  params: NavParams;
}

export function parseHash(hash: string): NavState {
  const h = hash.replace(/^#\/?/, '');
  const [path, query = ''] = h.split('?');
  const page = (PAGE_KEYS as string[]).includes(path) ? (path as PageKey) : null;
  const params: NavParams = {};
  new URLSearchParams(query).forEach((v, k) => {
    params[k] = v;
  });
  return { page, params };
}

export function buildHash(page: PageKey, params?: NavParams): string {
  const q = params && Object.keys(params).length ? `?${new URLSearchParams(params)}` : '';
  return `#/${page}${q}`;
}

interface NavContextValue extends NavState {
  navigate(page: PageKey, params?: NavParams): void;
}

const NavContext = createContext<NavContextValue>({
  page: null,
  params: {},
  navigate: () => {},
});

export function NavProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<NavState>(() => parseHash(window.location.hash));

  useEffect(() => {
    const onHash = () => setState(parseHash(window.location.hash));
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  const navigate = useCallback((page: PageKey, params?: NavParams) => {
    const hash = buildHash(page, params);
    if (window.location.hash !== hash) {
      window.history.pushState(null, '', hash);
    }
    setState({ page, params: params ?? {} });
  }, []);

  const value = useMemo(() => ({ ...state, navigate }), [state, navigate]);
  return <NavContext.Provider value={value}>{children}</NavContext.Provider>;
}

/** navigate('discrepancies', { states: 'open' }) */
export function useNavigate(): (page: PageKey, params?: NavParams) => void {
  return useContext(NavContext).navigate;
}

/** The current page and its parameters (from the hash). */
export function useNav(): NavState {
  const { page, params } = useContext(NavContext);
  return { page, params };
}

/** Parameters the current page was opened with, e.g. { states: 'open', account: 'alipay-main' }. */
export function useNavParams(): NavParams {
  return useContext(NavContext).params;
}

// Who is logged in, what the workspace is, and the UI language.
import { createContext, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import type { ReactNode } from 'react';
import { setUnauthenticatedHandler, toAppError } from './api';
import * as commands from './commands';
import type { AppError, AppInfo, Lang, Me, Permission } from './types';
import i18n, { detectLang, setLanguage } from './i18n';
import { setBusinessTimeZone } from './format';

export interface Session {
  me: Me | null;
  appInfo: AppInfo | null;
  /** True once app_info and me have answered (or failed). */
  ready: boolean;
  /** Why app_info failed, if it did. */
  loadError: AppError | null;
  can(p: Permission): boolean;
  login(username: string, password: string): Promise<Me>;
  logout(): Promise<void>;
  /** Re-reads app_info (e.g. after the schedule changed). */
  refreshAppInfo(): Promise<void>;
  /** Replaces app_info with a fresher copy (save_schedule returns one). */
  setAppInfo(info: AppInfo): void;
  lang: Lang;
  setLang(l: Lang): void;
}

const SessionContext = createContext<Session | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [me, setMe] = useState<Me | null>(null);
  const [appInfo, setAppInfo] = useState<AppInfo | null>(null);
  // Times of business events are shown in the workspace's timezone, not the computer's.
  // Set during render (not in an effect) so the first paint with app_info already uses it.
  setBusinessTimeZone(appInfo?.timezone);
  const [ready, setReady] = useState(false);
  const [loadError, setLoadError] = useState<AppError | null>(null);
  const [lang, setLangState] = useState<Lang>(() => {
    const l = (i18n.language as Lang) || detectLang();
    return l === 'zh' ? 'zh' : 'en';
  });

  useEffect(() => {
    let alive = true;
    (async () => {
      try {
        const info = await commands.appInfo();
        if (alive) setAppInfo(info);
      } catch (e) {
        if (alive) setLoadError(toAppError(e));
      }
      try {
        const who = await commands.me();
        if (alive) setMe(who ?? null);
      } catch {
        if (alive) setMe(null);
      }
      if (alive) setReady(true);
    })();
    return () => {
      alive = false;
    };
  }, []);

  useEffect(() => {
    setUnauthenticatedHandler(() => setMe(null));
    return () => setUnauthenticatedHandler(null);
  }, []);

  const login = useCallback(async (username: string, password: string) => {
    const who = await commands.login(username, password);
    setMe(who);
    return who;
  }, []);

  const logout = useCallback(async () => {
    try {
      await commands.logout();
    } finally {
      setMe(null);
    }
  }, []);

  const refreshAppInfo = useCallback(async () => {
    const info = await commands.appInfo();
    setAppInfo(info);
  }, []);

  const setLang = useCallback((l: Lang) => {
    setLangState(l);
    void setLanguage(l);
  }, []);

  const value = useMemo<Session>(
    () => ({
      me,
      appInfo,
      ready,
      loadError,
      can: (p: Permission) => !!me && me.permissions.includes(p),
      login,
      logout,
      refreshAppInfo,
      setAppInfo,
      lang,
      setLang,
    }),
    [me, appInfo, ready, loadError, login, logout, refreshAppInfo, lang, setLang],
  );

  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession must be used inside <SessionProvider>');
  return s;
}

/**
 * For tests and previews: provides a fixed session without calling the backend.
 * Unspecified fields get harmless defaults; `can` follows `me.permissions`.
 */
export function StaticSessionProvider({
  session,
  children,
}: {
  session: Partial<Session>;
  children: ReactNode;
}) {
  const me = session.me ?? null;
  const value: Session = {
    me,
    appInfo: session.appInfo ?? null,
    ready: session.ready ?? true,
    loadError: session.loadError ?? null,
    can: session.can ?? ((p: Permission) => !!me && me.permissions.includes(p)),
    login: session.login ?? (async () => me as Me),
    logout: session.logout ?? (async () => {}),
    refreshAppInfo: session.refreshAppInfo ?? (async () => {}),
    setAppInfo: session.setAppInfo ?? (() => {}),
    lang: session.lang ?? 'en',
    setLang: session.setLang ?? (() => {}),
  };
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

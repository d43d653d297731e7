// Test helpers shared by all page tests: render inside a fixed session, navigation and antd
// locale without a backend. Combine with mockIPC (from @tauri-apps/api/mocks) or vi.mock('../api').
import type { ReactElement, ReactNode } from 'react';
import { render } from '@testing-library/react';
import type { RenderResult } from '@testing-library/react';
import { ConfigProvider } from 'antd';
import enUS from 'antd/locale/en_US';
import zhCN from 'antd/locale/zh_CN';
import { StaticSessionProvider } from './session';
import type { Session } from './session';
import { NavProvider } from './nav';
import type { AppInfo, Me, Permission, Role } from './types';
import './i18n';

export const ALL_PERMISSIONS: Permission[] = [
  'reconcile_run',
  'discrepancy_view',
  'discrepancy_review',
  'report_export',
  'order_view',
  'refund_request',
  'refund_approve',
  'key_view',
  'key_manage',
  'user_manage',
  'audit_view',
  'settings_manage',
];

export function makeMe(username = 'admin', roles: Role[] = ['admin'], permissions: Permission[] = ALL_PERMISSIONS): Me {
  return { username, roles, permissions };
}

export function makeAppInfo(over: Partial<AppInfo> = {}): AppInfo {
  return {
    workspace: '/tmp/demo-workspace',
    version: '0.1.0',
    demo: true,
    timezone: 'Asia/Shanghai',
    yesterday: '2026-03-14',
    error: null,
    accounts: [
      { name: 'alipay-main', provider: 'alipay', currency: 'CNY', endpoint: 'sandbox' },
      { name: 'wechat-main', provider: 'wechat', currency: 'CNY', endpoint: 'sandbox' },
      { name: 'stripe-us', provider: 'stripe', currency: 'USD', endpoint: 'sandbox' },
    ],
    schedule: null,
    ...over,
  };
}

export function Providers({ session, children }: { session?: Partial<Session>; children: ReactNode }) {
  const s: Partial<Session> = { me: makeMe(), appInfo: makeAppInfo(), lang: 'en', ...session };
  return (
    <StaticSessionProvider session={s}>
      <NavProvider>
        <ConfigProvider locale={s.lang === 'zh' ? zhCN : enUS} button={{ autoInsertSpace: false }}>{children}</ConfigProvider>
      </NavProvider>
    </StaticSessionProvider>
  );
}

/** render() inside a fixed session (admin with every permission unless told otherwise). */
export function renderWithSession(ui: ReactElement, session?: Partial<Session>): RenderResult {
  return render(<Providers session={session}>{ui}</Providers>);
}

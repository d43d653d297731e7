// The app shell: login screen, or the menu + header + the selected page.
import { Component, Suspense, lazy, useEffect, useMemo } from 'react';
import type { ComponentType, ErrorInfo, LazyExoticComponent, ReactNode } from 'react';
import { App as AntApp, Badge, Button, ConfigProvider, Layout, Menu, Space, Spin, Tag, Tooltip, Typography, theme } from 'antd';
import {
  AccountBookOutlined,
  AuditOutlined,
  CheckSquareOutlined,
  DashboardOutlined,
  ExceptionOutlined,
  KeyOutlined,
  LogoutOutlined,
  SettingOutlined,
  ShoppingCartOutlined,
  SyncOutlined,
  TeamOutlined,
  UserOutlined,
} from '@ant-design/icons';
import zhCN from 'antd/locale/zh_CN';
import enUS from 'antd/locale/en_US';
import { useTranslation } from 'react-i18next';
import { SessionProvider, useSession } from './session';
import { NavProvider, useNav, useNavigate } from './nav';
import type { PageKey } from './nav';
import type { Permission } from './types';
import { ErrorAlert, NotificationBridge } from './components/ErrorNotice';
import LoginPage from './pages/LoginPage';
import { LangSwitch } from './components/LangSwitch';
import { ColorSchemeProvider, themeConfig, useSystemColorScheme } from './theme';
import { useApprovalQueue } from './hooks/useApprovalQueue';

const DashboardPage = lazy(() => import('./pages/DashboardPage'));
const ReconcilePage = lazy(() => import('./pages/ReconcilePage'));
const DiscrepanciesPage = lazy(() => import('./pages/discrepancies/DiscrepanciesPage'));
const SettlementsPage = lazy(() => import('./pages/settlements/SettlementsPage'));
const OrdersPage = lazy(() => import('./pages/orders/OrdersPage'));
const ApprovalsPage = lazy(() => import('./pages/orders/ApprovalsPage'));
const KeysPage = lazy(() => import('./pages/keys/KeysPage'));
const UsersPage = lazy(() => import('./pages/admin/UsersPage'));
const AuditPage = lazy(() => import('./pages/admin/AuditPage'));
const SettingsPage = lazy(() => import('./pages/admin/SettingsPage'));

export interface PageDef {
  key: PageKey;
  permission: Permission;
  icon: ReactNode;
  component: LazyExoticComponent<ComponentType>;
}

export const PAGES: PageDef[] = [
  { key: 'dashboard', permission: 'discrepancy_view', icon: <DashboardOutlined />, component: DashboardPage },
  { key: 'reconcile', permission: 'reconcile_run', icon: <SyncOutlined />, component: ReconcilePage },
  { key: 'discrepancies', permission: 'discrepancy_view', icon: <ExceptionOutlined />, component: DiscrepanciesPage },
  { key: 'settlements', permission: 'discrepancy_view', icon: <AccountBookOutlined />, component: SettlementsPage },
  { key: 'orders', permission: 'order_view', icon: <ShoppingCartOutlined />, component: OrdersPage },
  { key: 'approvals', permission: 'refund_approve', icon: <CheckSquareOutlined />, component: ApprovalsPage },
  { key: 'keys', permission: 'key_view', icon: <KeyOutlined />, component: KeysPage },
  { key: 'users', permission: 'user_manage', icon: <TeamOutlined />, component: UsersPage },
  { key: 'audit', permission: 'audit_view', icon: <AuditOutlined />, component: AuditPage },
  { key: 'settings', permission: 'settings_manage', icon: <SettingOutlined />, component: SettingsPage },
];

/** Keeps one broken page from taking the whole app down. */
class PageBoundary extends Component<{ children: ReactNode; resetKey: string }, { error: unknown }> {
  state: { error: unknown } = { error: null };
  static getDerivedStateFromError(error: unknown) {
    return { error };
  }
  componentDidUpdate(prev: { resetKey: string }) {
    if (prev.resetKey !== this.props.resetKey && this.state.error) this.setState({ error: null });
  }
  componentDidCatch(error: unknown, info: ErrorInfo) {
    console.error('page failed', error, info.componentStack);
  }
  render() {
    if (this.state.error) {
      return <ErrorAlert error={this.state.error} data-testid="page-error" />;
    }
    return this.props.children;
  }
}

function Shell() {
  const { t } = useTranslation('common');
  const { me, appInfo, can, logout } = useSession();
  const { page } = useNav();
  const navigate = useNavigate();
  // The shell's own surfaces and hairlines, in the colour scheme's tokens.
  const { token } = theme.useToken();
  const hairline = `1px solid ${token.colorBorderSecondary}`;

  const visible = useMemo(() => PAGES.filter((p) => can(p.permission)), [can]);
  // An approver's work is the approval queue: they land there (others on their first page).
  const home = (me?.roles.includes('approver') && visible.find((p) => p.key === 'approvals')) || visible[0];
  const current = visible.find((p) => p.key === page) ?? home;
  // Also after another user's session left its page in the hash.
  useEffect(() => {
    if (home?.key === 'approvals' && page !== 'approvals') navigate('approvals');
    // Once, when the user's shell opens.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  // Refunds waiting for this user's approval: a count on the menu, and a notice when one
  // arrives (from this console, another one or the command line).
  const { notification } = AntApp.useApp();
  const mayApprove = can('refund_approve');
  const waiting = useApprovalQueue(mayApprove, me?.username ?? null, (added) => {
    notification.info({
      key: 'approvals-waiting',
      message: t('approvals_notice.title', { count: added.length }),
      description: t('approvals_notice.body', { who: added.map((r) => r.requested_by).join(', ') }),
      btn: (
        <Button size="small" type="primary" onClick={() => navigate('approvals')}>
          {t('approvals_notice.open')}
        </Button>
      ),
      placement: 'bottomRight',
    });
  });

  // Alt+1..9 switches between the visible menu entries.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (!e.altKey || e.ctrlKey || e.metaKey) return;
      const m = /^Digit([1-9])$/.exec(e.code) ?? /^([1-9])$/.exec(e.key);
      if (!m) return;
      const target = visible[Number(m[1]) - 1];
      if (target) {
        e.preventDefault();
        navigate(target.key);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [visible, navigate]);

  const items = visible.map((p, i) => ({
    key: p.key,
    icon: p.icon,
    label: (
      <span data-testid={`nav-${p.key}`} title={i < 9 ? t('nav.shortcut', { n: i + 1 }) : undefined}>
        {t(`nav.${p.key}`)}
        {p.key === 'approvals' && waiting !== null && waiting.length > 0 && (
          <Badge count={waiting.length} size="small" style={{ marginInlineStart: 8 }} data-testid="nav-approvals-count" data-count={waiting.length} />
        )}
      </span>
    ),
  }));

  // A page the user may not open (old link, other user): show the first allowed one instead.
  useEffect(() => {
    if (current && page !== current.key) {
      window.history.replaceState(null, '', `#/${current.key}`);
    }
  }, [current, page]);

  const Page = current?.component;

  return (
    <Layout style={{ height: '100vh' }}>
      <Layout.Sider width={212} theme="light" style={{ borderRight: hairline, overflow: 'auto' }}>
        <div style={{ padding: '16px 20px 12px', fontWeight: 600, fontSize: 18 }}>
          {t('app.name')}
          {appInfo?.demo && (
            <Tag color="gold" style={{ marginLeft: 8, verticalAlign: 'middle' }}>
              {t('app.demo')}
            </Tag>
          )}
        </div>
        <Menu
          mode="inline"
          selectedKeys={current ? [current.key] : []}
          items={items}
          onClick={(e) => navigate(e.key as PageKey)}
          style={{ borderInlineEnd: 'none' }}
        />
      </Layout.Sider>
      <Layout>
        <Layout.Header
          style={{
            background: token.colorBgContainer,
            padding: '0 20px',
            display: 'flex',
            alignItems: 'center',
            justifyContent: 'space-between',
            borderBottom: hairline,
            height: 52,
            lineHeight: '52px',
          }}
        >
          <Typography.Text type="secondary" ellipsis style={{ maxWidth: '40%' }}>
            {appInfo ? `${t('app.workspace')}: ${appInfo.workspace}` : ''}
          </Typography.Text>
          <Space size="middle">
            <Tooltip title={t('header.user')}>
              <span>
                <UserOutlined />{' '}
                <span data-testid="header-user">{me?.username}</span>
              </span>
            </Tooltip>
            <span data-testid="header-roles" data-roles={me?.roles.join(',')} aria-label={t('header.roles')}>
              {me?.roles.map((r) => (
                <Tag key={r} color="blue">
                  {t(`role.${r}`)}
                </Tag>
              ))}
            </span>
            <LangSwitch />
            <Button icon={<LogoutOutlined />} data-testid="logout" onClick={() => void logout()}>
              {t('header.logout')}
            </Button>
          </Space>
        </Layout.Header>
        <Layout.Content style={{ padding: 20, overflow: 'auto' }}>
          {Page ? (
            <PageBoundary resetKey={current.key}>
              <Suspense
                fallback={
                  <div style={{ padding: 48, textAlign: 'center' }}>
                    <Spin />
                  </div>
                }
              >
                <Page />
              </Suspense>
            </PageBoundary>
          ) : (
            <Typography.Text type="secondary" data-testid="no-pages">
              {t('labels.empty')}
            </Typography.Text>
          )}
        </Layout.Content>
      </Layout>
    </Layout>
  );
}

function Gate() {
  const { me, ready } = useSession();
  if (!ready) {
    return (
      <div style={{ height: '100vh', display: 'grid', placeItems: 'center' }}>
        <Spin />
      </div>
    );
  }
  if (!me) return <LoginPage />;
  return <Shell />;
}

/** The language and the colour scheme (the system's: light or dark, following its changes). */
function Localized({ children }: { children: ReactNode }) {
  const { lang } = useSession();
  const scheme = useSystemColorScheme();
  return (
    <ConfigProvider locale={lang === 'zh' ? zhCN : enUS} theme={themeConfig(scheme)} button={{ autoInsertSpace: false }}>
      <ColorSchemeProvider scheme={scheme}>
        <AntApp>
          <NotificationBridge />
          {children}
        </AntApp>
      </ColorSchemeProvider>
    </ConfigProvider>
  );
}

export default function App() {
  return (
    <SessionProvider>
      <NavProvider>
        <Localized>
          <Gate />
        </Localized>
      </NavProvider>
    </SessionProvider>
  );
}


// Users (admin): who may sign in, with which roles; create, change roles, disable, reset.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { InputRef } from 'antd';
import { Button, Form, Input, Modal, Popconfirm, Select, Space, Table, Tag, Tooltip, Typography, message } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { KeyOutlined, PlusOutlined, ReloadOutlined, TeamOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import * as commands from '../../commands';
import { ErrorAlert, showError } from '../../components/ErrorNotice';
import { formatDateTime } from '../../format';
import { useCommand } from '../../hooks/useCommand';
import { useSession } from '../../session';
import { below, spread } from '../../styles';
import type { Role, UserRecord } from '../../types';
import { ROLES } from '../../types';
import { PASSWORD_MIN, passwordProblem, rolesProblem, usernameProblem } from './userRules';

const ROLE_COLORS: Record<Role, string> = { finance: 'cyan', support: 'blue', approver: 'gold', admin: 'red' };

export default function UsersPage() {
  const { t } = useTranslation('admin');
  const { lang, me } = useSession();
  const [users, setUsers] = useState<UserRecord[]>([]);
  const { run: readUsers, loading, error: loadError } = useCommand(() => commands.users());
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<UserRecord | null>(null);
  const [resetting, setResetting] = useState<UserRecord | null>(null);
  const [toggling, setToggling] = useState<string | null>(null);

  const load = useCallback(async () => {
    const r = await readUsers();
    if (r.status === 'ok') setUsers(r.value);
  }, [readUsers]);

  useEffect(() => {
    void load();
  }, [load]);

  const replace = (u: UserRecord) =>
    setUsers((prev) => {
      const i = prev.findIndex((x) => x.username === u.username);
      if (i === -1) return [...prev, u];
      const next = prev.slice();
      next[i] = u;
      return next;
    });

  async function toggle(u: UserRecord) {
    setToggling(u.username);
    try {
      const updated = await commands.setDisabled(u.username, !u.disabled);
      replace(updated);
      void message.success(t(updated.disabled ? 'users.disabled_msg' : 'users.enabled_msg', { user: u.username }));
    } catch (e) {
      showError(e);
    } finally {
      setToggling(null);
    }
  }

  const now = Date.now();
  const columns: ColumnsType<UserRecord> = [
    {
      title: t('users.username'),
      dataIndex: 'username',
      sorter: (a, b) => a.username.localeCompare(b.username),
      defaultSortOrder: 'ascend',
      render: (_: string, u) => (
        <span>
          <Typography.Text strong>{u.username}</Typography.Text>
          {me?.username === u.username && <Tag style={{ marginLeft: 6 }}>{t('users.you')}</Tag>}
          {u.display_name && u.display_name !== u.username && (
            <>
              <br />
              <Typography.Text type="secondary">{u.display_name}</Typography.Text>
            </>
          )}
        </span>
      ),
    },
    {
      title: t('users.roles'),
      dataIndex: 'roles',
      render: (roles: Role[]) => (
        <Space size={2} wrap>
          {roles.map((r) => (
            <Tag key={r} color={ROLE_COLORS[r]}>
              {t(`common:role.${r}`)}
            </Tag>
          ))}
        </Space>
      ),
    },
    {
      title: t('users.status'),
      key: 'status',
      render: (_: unknown, u) => {
        const locked = u.locked_until && Date.parse(u.locked_until) > now;
        return (
          <Space size={2} wrap>
            {u.disabled ? <Tag color="red">{t('users.disabled')}</Tag> : <Tag color="green">{t('users.active')}</Tag>}
            {locked && (
              <Tooltip title={t('users.locked_help')}>
                <Tag color="orange">{t('users.locked_until', { at: formatDateTime(u.locked_until, lang) })}</Tag>
              </Tooltip>
            )}
            {u.failed_attempts > 0 && !locked && (
              <Typography.Text type="secondary">{t('users.failed_attempts', { count: u.failed_attempts })}</Typography.Text>
            )}
          </Space>
        );
      },
    },
    {
      title: t('users.created_at'),
      dataIndex: 'created_at',
      render: (v: string) => formatDateTime(v, lang),
    },
    {
      title: t('users.password_changed_at'),
      dataIndex: 'password_changed_at',
      render: (v: string) => formatDateTime(v, lang),
    },
    {
      title: '',
      key: 'actions',
      align: 'right',
      render: (_: unknown, u) => (
        <Space size={4} wrap>
          <Button size="small" icon={<TeamOutlined />} onClick={() => setEditing(u)} data-testid={`user-roles-${u.username}`}>
            {t('users.edit_roles')}
          </Button>
          <Button size="small" icon={<KeyOutlined />} onClick={() => setResetting(u)} data-testid={`user-reset-${u.username}`}>
            {t('users.reset_password')}
          </Button>
          <Popconfirm
            title={t(u.disabled ? 'users.confirm_enable' : 'users.confirm_disable', { user: u.username })}
            onConfirm={() => void toggle(u)}
            okText={t(u.disabled ? 'users.enable' : 'users.disable')}
            cancelText={t('common:actions.cancel')}
            okButtonProps={{ danger: !u.disabled, 'data-testid': 'user-disable-confirm' } as never}
          >
            <Button size="small" danger={!u.disabled} loading={toggling === u.username} data-testid={`user-disable-${u.username}`}>
              {u.disabled ? t('users.enable') : t('users.disable')}
            </Button>
          </Popconfirm>
        </Space>
      ),
    },
  ];

  return (
    <div>
      <Space style={spread} align="center">
        <Typography.Title level={3}>{t('users.title')}</Typography.Title>
        <Space>
          <Button icon={<ReloadOutlined />} loading={loading} onClick={() => void load()} data-testid="users-refresh">
            {t('common:actions.refresh')}
          </Button>
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)} data-testid="user-create">
            {t('users.create')}
          </Button>
        </Space>
      </Space>
      <ErrorAlert error={loadError} onRetry={() => void load()} style={below.md} />
      <Table<UserRecord>
        size="small"
        rowKey="username"
        columns={columns}
        dataSource={users}
        loading={loading && users.length === 0}
        pagination={users.length > 50 ? { pageSize: 50 } : false}
        onRow={(u) =>
          ({ 'data-testid': `user-row-${u.username}`, 'data-disabled': String(u.disabled) }) as React.HTMLAttributes<HTMLElement>
        }
      />
      <CreateUserDialog
        open={creating}
        onClose={() => setCreating(false)}
        onCreated={(u) => {
          replace(u);
          setCreating(false);
          void message.success(t('users.created_msg', { user: u.username }));
        }}
      />
      <RolesDialog
        user={editing}
        onClose={() => setEditing(null)}
        onSaved={(u) => {
          replace(u);
          setEditing(null);
          void message.success(t('users.roles_saved_msg', { user: u.username }));
        }}
      />
      <ResetPasswordDialog
        user={resetting}
        onClose={() => setResetting(null)}
        onDone={(name) => {
          setResetting(null);
          void message.success(t('users.reset_msg', { user: name }));
          void load();
        }}
      />
    </div>
  );
}

function RoleSelect({ value, onChange, testId }: { value: Role[]; onChange: (r: Role[]) => void; testId: string }) {
  const { t } = useTranslation('admin');
  return (
    <Select<Role[]>
      mode="multiple"
      value={value}
      onChange={onChange}
      data-testid={testId}
      placeholder={t('users.roles_placeholder')}
      options={ROLES.map((r) => ({ value: r, label: t(`common:role.${r}`) }))}
      style={{ width: '100%' }}
    />
  );
}

type FormErrors = { username?: string; password?: string; roles?: string };

function CreateUserDialog({
  open,
  onClose,
  onCreated,
}: {
  open: boolean;
  onClose: () => void;
  onCreated: (u: UserRecord) => void;
}) {
  const { t } = useTranslation('admin');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [roles, setRoles] = useState<Role[]>([]);
  const [errors, setErrors] = useState<FormErrors>({});
  const {
    run: createUser,
    loading: busy,
    error: failure,
    setError: setFailure,
  } = useCommand((u: string, p: string, rs: Role[]) =>
    commands.createUser(u, p, rs),
  );
  const first = useRef<InputRef>(null);

  useEffect(() => {
    if (open) {
      setUsername('');
      setPassword('');
      setRoles([]);
      setErrors({});
      setFailure(null);
    }
  }, [open, setFailure]);

  useEffect(() => {
    if (open) setTimeout(() => first.current?.focus(), 0);
  }, [open]);

  async function submit() {
    if (busy) return;
    const errs: FormErrors = {};
    const u = usernameProblem(username);
    if (u) errs.username = t(u);
    const p = passwordProblem(username, password);
    if (p) errs.password = t(p, { min: PASSWORD_MIN });
    const r = rolesProblem(roles);
    if (r) errs.roles = t(r);
    setErrors(errs);
    if (errs.username || errs.password || errs.roles) return;
    const res = await createUser(username.trim(), password, roles);
    if (res.status === 'ok') {
      setPassword('');
      onCreated(res.value);
    }
  }

  return (
    <Modal
      open={open}
      title={t('users.create_title')}
      onCancel={onClose}
      destroyOnHidden
      footer={[
        <Button key="cancel" onClick={onClose}>
          {t('common:actions.cancel')}
        </Button>,
        <Button key="ok" type="primary" loading={busy} onClick={() => void submit()} data-testid="user-form-submit">
          {t('users.create')}
        </Button>,
      ]}
    >
      <Form layout="vertical" component="div">
        <Form.Item
          label={t('users.username')}
          required
          validateStatus={errors.username ? 'error' : undefined}
          help={errors.username ?? t('users.username_rule')}
        >
          <Input
            ref={first}
            value={username}
            autoComplete="off"
            onChange={(e) => setUsername(e.target.value)}
            onPressEnter={() => void submit()}
            data-testid="user-form-username"
          />
        </Form.Item>
        <Form.Item
          label={t('users.password')}
          required
          validateStatus={errors.password ? 'error' : undefined}
          help={errors.password ?? t('users.password_rule', { min: PASSWORD_MIN })}
        >
          <Input.Password
            value={password}
            autoComplete="new-password"
            onChange={(e) => setPassword(e.target.value)}
            onPressEnter={() => void submit()}
            data-testid="user-form-password"
          />
        </Form.Item>
        <Form.Item
          label={t('users.roles')}
          required
          validateStatus={errors.roles ? 'error' : undefined}
          help={errors.roles ?? t('users.roles_help')}
        >
          <RoleSelect value={roles} onChange={setRoles} testId="user-form-roles" />
        </Form.Item>
        <ErrorAlert error={failure} data-testid="user-form-error" />
      </Form>
    </Modal>
  );
}

function RolesDialog({
  user,
  onClose,
  onSaved,
}: {
  user: UserRecord | null;
  onClose: () => void;
  onSaved: (u: UserRecord) => void;
}) {
  const { t } = useTranslation('admin');
  const [roles, setRoles] = useState<Role[]>([]);
  const [error, setError] = useState<string | null>(null);
  const {
    run: saveRoles,
    loading: busy,
    error: failure,
    setError: setFailure,
  } = useCommand((username: string, rs: Role[]) => commands.setRoles(username, rs));

  useEffect(() => {
    if (user) {
      setRoles(user.roles);
      setError(null);
      setFailure(null);
    }
  }, [user, setFailure]);

  async function submit() {
    if (!user || busy) return;
    const r = rolesProblem(roles);
    setError(r ? t(r) : null);
    if (r) return;
    const res = await saveRoles(user.username, roles);
    if (res.status === 'ok') onSaved(res.value);
  }

  return (
    <Modal
      open={user !== null}
      title={user ? t('users.roles_title', { user: user.username }) : ''}
      onCancel={onClose}
      destroyOnHidden
      footer={[
        <Button key="cancel" onClick={onClose}>
          {t('common:actions.cancel')}
        </Button>,
        <Button key="ok" type="primary" loading={busy} onClick={() => void submit()} data-testid="user-roles-submit">
          {t('common:actions.save')}
        </Button>,
      ]}
    >
      <Form layout="vertical" component="div">
        <Form.Item label={t('users.roles')} required validateStatus={error ? 'error' : undefined} help={error ?? t('users.roles_help')}>
          <RoleSelect value={roles} onChange={setRoles} testId="user-roles-select" />
        </Form.Item>
        <ErrorAlert error={failure} />
      </Form>
    </Modal>
  );
}

function ResetPasswordDialog({
  user,
  onClose,
  onDone,
}: {
  user: UserRecord | null;
  onClose: () => void;
  onDone: (username: string) => void;
}) {
  const { t } = useTranslation('admin');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const {
    run: resetPassword,
    loading: busy,
    error: failure,
    setError: setFailure,
  } = useCommand((username: string, p: string) => commands.resetPassword(username, p));

  useEffect(() => {
    setPassword('');
    setError(null);
    setFailure(null);
  }, [user, setFailure]);

  async function submit() {
    if (!user || busy) return;
    const p = passwordProblem(user.username, password);
    setError(p ? t(p, { min: PASSWORD_MIN }) : null);
    if (p) return;
    const res = await resetPassword(user.username, password);
    if (res.status === 'ok') {
      setPassword('');
      onDone(user.username);
    }
  }

  return (
    <Modal
      open={user !== null}
      title={user ? t('users.reset_title', { user: user.username }) : ''}
      onCancel={onClose}
      destroyOnHidden
      footer={[
        <Button key="cancel" onClick={onClose}>
          {t('common:actions.cancel')}
        </Button>,
        <Button key="ok" type="primary" danger loading={busy} onClick={() => void submit()} data-testid="user-reset-submit">
          {t('users.reset_password')}
        </Button>,
      ]}
    >
      <Typography.Paragraph type="secondary">{t('users.reset_help')}</Typography.Paragraph>
      <Form layout="vertical" component="div">
        <Form.Item
          label={t('users.new_password')}
          required
          validateStatus={error ? 'error' : undefined}
          help={error ?? t('users.password_rule', { min: PASSWORD_MIN })}
        >
          <Input.Password
            autoFocus
            value={password}
            autoComplete="new-password"
            onChange={(e) => setPassword(e.target.value)}
            onPressEnter={() => void submit()}
            data-testid="user-reset-password"
          />
        </Form.Item>
        <ErrorAlert error={failure} />
      </Form>
    </Modal>
  );
}

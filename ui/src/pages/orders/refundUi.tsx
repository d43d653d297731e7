// Small pieces shared by the orders and approvals pages: refund state tags, who requested a
// refund, the live `refund-updated` subscription, limit conversion and list merging.
import { useEffect, useRef } from 'react';
import { Space, Tag } from 'antd';
import { useTranslation } from 'react-i18next';
import { onEvent } from '../../api';
import { currencyExponent, parseMoneyInput } from '../../format';
import { useSession } from '../../session';
import type { RefundLimits, RefundRecord, RefundState, Role } from '../../types';

/** How many of the latest refunds (every state, everyone's) the recent lists read. */
export const RECENT_LIMIT = 200;

const STATE_COLORS: Record<RefundState, string> = {
  requested: 'blue',
  awaiting_approval: 'gold',
  sending: 'processing',
  processing: 'processing',
  succeeded: 'success',
  failed: 'error',
  needs_attention: 'volcano',
  rejected: 'default',
};

export function RefundStateTag({ state }: { state: RefundState }) {
  const { t } = useTranslation('common');
  return (
    <Tag color={STATE_COLORS[state] ?? 'default'} data-state={state}>
      {t(`refund_state.${state}`)}
    </Tag>
  );
}

/** Who requested a refund, marked when it is the signed-in user. */
export function RequestedBy({ username }: { username: string }) {
  const { t } = useTranslation('orders');
  const { me } = useSession();
  return (
    <Space size={4}>
      <span>{username}</span>
      {me && username === me.username && <Tag color="blue">{t('approvals.yours')}</Tag>}
    </Space>
  );
}

/** Newest first (by id: the order they were requested in). */
export function newestFirst(list: RefundRecord[]): RefundRecord[] {
  return list.slice().sort((a, b) => b.id - a.id);
}

/** Calls `handler` with every RefundRecord the backend announces (latest handler wins). */
export function useRefundUpdates(handler: (rec: RefundRecord) => void): void {
  const ref = useRef(handler);
  ref.current = handler;
  useEffect(() => {
    let unlisten: (() => void) | null = null;
    let alive = true;
    void onEvent<RefundRecord>('refund-updated', (rec) => ref.current(rec)).then((u) => {
      if (alive) unlisten = u;
      else u();
    });
    return () => {
      alive = false;
      if (unlisten) unlisten();
    };
  }, []);
}

/**
 * A limit the backend keeps with 2 decimals ("500.00") in minor units of `currency`, the way
 * the backend applies it (JPY "500.00" → 500). null when it cannot be read.
 */
export function limitToMinor(limit2dp: string, currency: string): number | null {
  const cents = parseMoneyInput(limit2dp, 'USD');
  if (cents === null) return null;
  const exp = currencyExponent(currency);
  if (exp === 2) return cents;
  if (exp < 2) return Math.trunc(cents / 10 ** (2 - exp));
  return cents * 10 ** (exp - 2);
}

/** The per-refund limit that applies to a user with `roles`: minor units, or null = none. */
export function userLimit(
  limits: RefundLimits,
  roles: Role[],
  currency: string,
): { minor: number | null; role: 'admin' | 'support'; daily: number | null } {
  if (roles.includes('admin')) {
    return {
      minor: limits.admin_limit === null ? null : limitToMinor(limits.admin_limit, currency),
      role: 'admin',
      daily: null,
    };
  }
  return {
    minor: limitToMinor(limits.support_limit, currency),
    role: 'support',
    daily: limits.daily_count,
  };
}

/** Replaces the record with the same id (if it is newer) or adds it at the front. */
export function upsertRefund(list: RefundRecord[], rec: RefundRecord): RefundRecord[] {
  const i = list.findIndex((r) => r.id === rec.id);
  if (i === -1) return [rec, ...list];
  if (isOlder(rec, list[i])) return list;
  const next = list.slice();
  next[i] = rec;
  return next;
}

/** Whether `a` is an older snapshot of the same refund than `b`. */
export function isOlder(a: RefundRecord, b: RefundRecord): boolean {
  const ta = Date.parse(a.updated_at);
  const tb = Date.parse(b.updated_at);
  return !Number.isNaN(ta) && !Number.isNaN(tb) && ta < tb;
}

/** Merges a freshly loaded list with the records already known, keeping the newest of each. */
export function mergeRefunds(fresh: RefundRecord[], known: RefundRecord[]): RefundRecord[] {
  const byId = new Map(known.map((r) => [r.id, r]));
  return fresh.map((r) => {
    const k = byId.get(r.id);
    return k && isOlder(r, k) ? k : r;
  });
}

/** How long ago `iso` was, in whole minutes / hours / days (the largest unit that reads well). */
export function age(iso: string, now: number): { unit: 'minutes' | 'hours' | 'days'; count: number } | null {
  const ms = now - Date.parse(iso);
  if (Number.isNaN(ms)) return null;
  const minutes = Math.max(0, Math.floor(ms / 60000));
  if (minutes < 60) return { unit: 'minutes', count: minutes };
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return { unit: 'hours', count: hours };
  return { unit: 'days', count: Math.floor(hours / 24) };
}

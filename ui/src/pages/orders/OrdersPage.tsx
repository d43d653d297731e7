// Orders and refunds (support agents): find an order, see what was paid and refunded, refund.
//
// This file is the page (the router's entry) and holds its state; its parts:
//   OrderSearch      the search box
//   RecentRefunds    while the search is empty: the latest refunds, one's own or the team's
//   OrderResults     the orders found
//   OrderDetailCard  the open order (OrderDetailBody: amounts, refunds, the provider's view)
//   RefundDialog     ask for a refund
import { useCallback, useEffect, useRef, useState } from 'react';
import type { InputRef } from 'antd';
import { Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import * as commands from '../../commands';
import { useCommand } from '../../hooks/useCommand';
import { useNavParams } from '../../nav';
import { useSession } from '../../session';
import type { Order, OrderDetail, RefundLimits } from '../../types';
import OrderDetailCard from './OrderDetailCard';
import OrderResults from './OrderResults';
import OrderSearch from './OrderSearch';
import RefundDialog from './RefundDialog';
import RecentRefunds from './RecentRefunds';
import { mergeRefunds, upsertRefund, useRefundUpdates } from './refundUi';

export const SEARCH_LIMIT = 50;

export default function OrdersPage() {
  const { t } = useTranslation('orders');
  const { can } = useSession();
  const [text, setText] = useState('');
  const [results, setResults] = useState<Order[] | null>(null);
  const [hint, setHint] = useState<string | null>(null);
  const {
    run: searchOrders,
    loading: searching,
    error: searchError,
  } = useCommand((q: string) => commands.searchOrders(q, SEARCH_LIMIT));

  const [selected, setSelected] = useState<string | null>(null);
  const [detail, setDetail] = useState<OrderDetail | null>(null);
  const [queryProvider, setQueryProvider] = useState(false);
  const {
    run: readDetail,
    loading: detailLoading,
    error: detailError,
  } = useCommand((orderNo: string, qp: boolean) =>
    commands.orderDetail(orderNo, qp),
  );

  const [limits, setLimits] = useState<RefundLimits | null>(null);
  const [refundOpen, setRefundOpen] = useState(false);
  const searchRef = useRef<InputRef>(null);
  const detailRef = useRef<OrderDetail | null>(null);
  detailRef.current = detail;
  const canRefund = can('refund_request');

  // Opened with #/orders?q=ORDER-NO (from another page): search it at once.
  const navQuery = useNavParams().q;
  useEffect(() => {
    searchRef.current?.focus();
  }, []);
  useEffect(() => {
    if (navQuery) {
      setText(navQuery);
      void search(navQuery);
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [navQuery]);

  useEffect(() => {
    if (!canRefund) return;
    commands.refundLimits()
      .then(setLimits)
      .catch(() => setLimits(null));
  }, [canRefund]);

  const loadDetail = useCallback(
    async (orderNo: string, qp: boolean) => {
      const r = await readDetail(orderNo, qp);
      if (r.status !== 'ok') return;
      const d = r.value;
      setDetail((prev) =>
        prev && prev.order.order_no === d.order.order_no
          ? { ...d, paydesk_refunds: mergeRefunds(d.paydesk_refunds, prev.paydesk_refunds) }
          : d,
      );
    },
    [readDetail],
  );

  // A quiet refresh of the amounts after a refund changed (keeps the provider's view).
  const refreshTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const refreshAmounts = useCallback((orderNo: string) => {
    if (refreshTimer.current) clearTimeout(refreshTimer.current);
    refreshTimer.current = setTimeout(() => {
      commands.orderDetail(orderNo, false)
        .then((d) =>
          setDetail((prev) => {
            if (!prev || prev.order.order_no !== d.order.order_no) return prev;
            return {
              ...d,
              paydesk_refunds: mergeRefunds(d.paydesk_refunds, prev.paydesk_refunds),
              provider_payment: prev.provider_payment,
              provider_refunds: prev.provider_refunds,
            };
          }),
        )
        .catch(() => {
          // the next manual refresh shows the problem
        });
    }, 400);
  }, []);
  useEffect(
    () => () => {
      if (refreshTimer.current) clearTimeout(refreshTimer.current);
    },
    [],
  );

  useRefundUpdates((rec) => {
    const d = detailRef.current;
    if (!d || d.order.order_no !== rec.order_no || d.order.provider !== rec.provider) return;
    setDetail((prev) => (prev ? { ...prev, paydesk_refunds: upsertRefund(prev.paydesk_refunds, rec) } : prev));
    refreshAmounts(rec.order_no);
  });

  function open(orderNo: string) {
    setSelected(orderNo);
    setDetail(null);
    void loadDetail(orderNo, queryProvider);
  }

  // An emptied search box goes back to the recent refunds.
  function changeText(value: string) {
    setText(value);
    if (value.trim() === '') {
      setResults(null);
      setSelected(null);
      setDetail(null);
      setHint(null);
    }
  }

  // A refund's order opens the way a search for its number does.
  function openFromRefund(orderNo: string) {
    setText(orderNo);
    void search(orderNo);
  }

  async function search(query?: string) {
    const q = (query ?? text).trim();
    if (q === '') {
      setHint(t('search.empty_query'));
      return;
    }
    setHint(null);
    const r = await searchOrders(q);
    if (r.status === 'ok') {
      setResults(r.value);
      if (r.value.length === 1) open(r.value[0].order_no);
    } else if (r.status === 'failed') {
      setResults(null);
    }
  }

  return (
    <div>
      <Typography.Title level={3}>{t('title')}</Typography.Title>
      <OrderSearch
        text={text}
        onTextChange={changeText}
        onSearch={() => void search()}
        searching={searching}
        hint={hint}
        error={searchError}
        inputRef={searchRef}
      />

      {results !== null && <OrderResults results={results} text={text} selected={selected} onOpen={open} />}

      {/* Before a search (or once it is emptied): the latest refunds, one click from their order. */}
      {results === null && !selected && <RecentRefunds onOpenOrder={openFromRefund} />}

      {selected && (
        <OrderDetailCard
          orderNo={selected}
          detail={detail}
          loading={detailLoading}
          error={detailError}
          queryProvider={queryProvider}
          onQueryProviderChange={(v) => {
            setQueryProvider(v);
            if (selected) void loadDetail(selected, v);
          }}
          onRefresh={() => selected && void loadDetail(selected, queryProvider)}
          canRefund={canRefund}
          onRefund={() => setRefundOpen(true)}
        />
      )}

      {detail && canRefund && (
        <RefundDialog
          open={refundOpen}
          detail={detail}
          limits={limits}
          onClose={() => setRefundOpen(false)}
          onCreated={(rec) => {
            setDetail((prev) =>
              prev ? { ...prev, paydesk_refunds: upsertRefund(prev.paydesk_refunds, rec) } : prev,
            );
            // The amounts (refundable, in flight) changed.
            refreshAmounts(rec.order_no);
          }}
        />
      )}
    </div>
  );
}

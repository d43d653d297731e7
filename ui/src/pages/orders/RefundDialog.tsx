// The refund dialog: amount (validated against what is refundable and the currency's
// decimals), reason, the user's limit, and what happened after sending.
import { useEffect, useRef, useState } from 'react';
import type { InputRef } from 'antd';
import { Alert, Button, Descriptions, Form, Input, Modal, Space, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import * as commands from '../../commands';
import { ErrorAlert } from '../../components/ErrorNotice';
import { currencyExponent, formatMoney, minorToDecimalString, parseMoneyInput } from '../../format';
import { useSession } from '../../session';
import { below, WIDTH } from '../../styles';
import type { OrderDetail, RefundLimits, RefundRecord } from '../../types';
import { RefundStateTag, useRefundUpdates, userLimit } from './refundUi';

/** Providers accept at most 80 characters of reason. */
export const REASON_MAX = 80;

export interface RefundDialogProps {
  open: boolean;
  detail: OrderDetail;
  limits: RefundLimits | null;
  onClose: () => void;
  /** Called with the created refund. */
  onCreated: (rec: RefundRecord) => void;
}

type Errors = { amount?: string; reason?: string };

export default function RefundDialog({ open, detail, limits, onClose, onCreated }: RefundDialogProps) {
  const { t } = useTranslation('orders');
  const { lang, me } = useSession();
  const [amount, setAmount] = useState('');
  const [reason, setReason] = useState('');
  const [errors, setErrors] = useState<Errors>({});
  const [sending, setSending] = useState(false);
  const [failure, setFailure] = useState<unknown>(null);
  const [result, setResult] = useState<RefundRecord | null>(null);
  const amountRef = useRef<InputRef>(null);
  // The refund goes on in the background after the request returns: the outcome shown follows
  // its refund-updated events. One may arrive before the request's answer, so the last of each
  // refund is kept.
  const lastSeen = useRef(new Map<number, RefundRecord>());
  useRefundUpdates((rec) => {
    lastSeen.current.set(rec.id, rec);
    setResult((cur) => (cur && cur.id === rec.id ? rec : cur));
  });

  const currency = detail.currency;
  const money = (minor: number) => formatMoney(minor, currency, lang);

  useEffect(() => {
    if (open) {
      setAmount('');
      setReason('');
      setErrors({});
      setFailure(null);
      setResult(null);
      setSending(false);
      // Focus lands in the first field.
      setTimeout(() => amountRef.current?.focus(), 0);
    }
  }, [open]);

  const limit = limits && me ? userLimit(limits, me.roles, currency) : null;

  function validate(): { minor: number; reason: string } | null {
    const next: Errors = {};
    const exp = currencyExponent(currency);
    let minor: number | null = null;
    if (amount.trim() === '') {
      next.amount = t('refund.errors.amount_required');
    } else {
      minor = parseMoneyInput(amount, currency);
      if (minor === null) {
        next.amount =
          exp === 0
            ? t('refund.errors.amount_no_decimals', { currency })
            : t('refund.errors.amount_format', { currency, decimals: exp });
      } else if (minor <= 0) {
        next.amount = t('refund.errors.amount_positive');
      } else if (minor > detail.refundable) {
        next.amount = t('refund.errors.amount_over', { refundable: money(detail.refundable) });
      }
    }
    const r = reason.trim();
    if (r === '') next.reason = t('refund.errors.reason_required');
    else if ([...r].length > REASON_MAX) next.reason = t('refund.errors.reason_long', { max: REASON_MAX });
    setErrors(next);
    if (next.amount || next.reason || minor === null) return null;
    return { minor, reason: r };
  }

  async function submit() {
    if (sending || result) return;
    const v = validate();
    if (!v) return;
    setSending(true);
    setFailure(null);
    try {
      const rec = await commands.requestRefund(
        detail.order.order_no,
        minorToDecimalString(v.minor, currency),
        v.reason,
        detail.account ?? null,
      );
      setResult(lastSeen.current.get(rec.id) ?? rec);
      onCreated(rec);
    } catch (e) {
      setFailure(e);
    } finally {
      setSending(false);
    }
  }

  const limitText =
    limit === null
      ? t('refund.limit_loading')
      : limit.minor === null
        ? t('refund.limit_none')
        : t('refund.limit_value', { limit: money(limit.minor) });

  const footer = result
    ? [
        <Button key="close" type="primary" onClick={onClose} data-testid="refund-close">
          {t('common:actions.close')}
        </Button>,
      ]
    : [
        <Button key="cancel" onClick={onClose}>
          {t('common:actions.cancel')}
        </Button>,
        <Button
          key="submit"
          type="primary"
          danger
          loading={sending}
          onClick={() => void submit()}
          data-testid="refund-submit"
        >
          {t('refund.submit')}
        </Button>,
      ];

  return (
    <Modal
      open={open}
      title={t('refund.title', { order: detail.order.order_no })}
      onCancel={onClose}
      footer={footer}
      destroyOnHidden
      maskClosable={!sending}
      width={WIDTH.dialog}
    >
      <Descriptions size="small" column={1} bordered style={below.lg}>
        <Descriptions.Item label={t('detail.refundable')}>
          <Typography.Text strong className="money">
            {money(detail.refundable)}
          </Typography.Text>
        </Descriptions.Item>
        <Descriptions.Item label={t('refund.your_limit')}>
          <span data-testid="refund-limit">{limitText}</span>
          {limit && limit.daily !== null && (
            <div>
              <Typography.Text type="secondary">
                {t('refund.daily_count', { count: limit.daily })}
              </Typography.Text>
            </div>
          )}
        </Descriptions.Item>
      </Descriptions>
      <Alert type="info" showIcon style={below.lg} message={t('refund.approval_note')} />

      {result ? (
        <RefundOutcome rec={result} />
      ) : (
        <Form layout="vertical" component="div">
          <Form.Item
            label={t('refund.amount', { currency })}
            required
            validateStatus={errors.amount ? 'error' : undefined}
            help={errors.amount}
          >
            <Space.Compact style={{ width: '100%' }}>
              <Input
                ref={amountRef}
                value={amount}
                inputMode="decimal"
                placeholder={currencyExponent(currency) === 0 ? '500' : '12.30'}
                onChange={(e) => setAmount(e.target.value)}
                onPressEnter={() => void submit()}
                data-testid="refund-amount"
                style={{ textAlign: 'right', fontVariantNumeric: 'tabular-nums' }}
                suffix={currency}
              />
              <Button
                onClick={() => setAmount(minorToDecimalString(detail.refundable, currency))}
                data-testid="refund-full"
                disabled={detail.refundable <= 0}
              >
                {t('refund.full')}
              </Button>
            </Space.Compact>
          </Form.Item>
          <Form.Item
            label={t('refund.reason')}
            required
            validateStatus={errors.reason ? 'error' : undefined}
            help={errors.reason}
          >
            <Input
              value={reason}
              maxLength={REASON_MAX}
              showCount
              placeholder={t('refund.reason_placeholder')}
              onChange={(e) => setReason(e.target.value)}
              onPressEnter={() => void submit()}
              data-testid="refund-reason"
            />
          </Form.Item>
          <ErrorAlert error={failure} data-testid="refund-error" />
        </Form>
      )}
    </Modal>
  );
}

/** What happened to a refund just requested, in plain words. */
export function RefundOutcome({ rec }: { rec: RefundRecord }) {
  const { t } = useTranslation('orders');
  const { lang } = useSession();
  const type =
    rec.state === 'succeeded'
      ? 'success'
      : rec.state === 'failed' || rec.state === 'needs_attention'
        ? 'error'
        : rec.state === 'awaiting_approval'
          ? 'warning'
          : 'info';
  return (
    <Alert
      type={type}
      showIcon
      data-testid="refund-result"
      data-state={rec.state}
      message={
        <Space>
          <span>{t(`refund.outcome.${rec.state}`)}</span>
          <RefundStateTag state={rec.state} />
        </Space>
      }
      description={
        <div>
          <div>
            {t('refund.outcome_line', {
              refund: rec.refund_no,
              amount: formatMoney(rec.amount, rec.currency, lang),
            })}
          </div>
          {rec.approval_reason && <div>{rec.approval_reason}</div>}
          {rec.failure_reason && <div>{rec.failure_reason}</div>}
          {rec.last_error && rec.state !== 'succeeded' && <div>{rec.last_error}</div>}
        </div>
      }
    />
  );
}

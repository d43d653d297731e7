// Style values several pages share: spacing, widths, colours, fonts. Values only; the theme
// itself (primary colour, radius) is set once in App.tsx.
import type { CSSProperties } from 'react';

/** Gaps between blocks, in px. */
export const SPACE = { xs: 4, sm: 8, md: 12, lg: 16 } as const;

/** Margin under a block (cards, alerts, tables, toolbars). */
export const below = {
  xs: { marginBottom: SPACE.xs },
  sm: { marginBottom: SPACE.sm },
  md: { marginBottom: SPACE.md },
  lg: { marginBottom: SPACE.lg },
} as const satisfies Record<string, CSSProperties>;

/** Margin above a block (hints under an input, an error under a form). */
export const above = {
  xs: { marginTop: SPACE.xs },
  sm: { marginTop: SPACE.sm },
  md: { marginTop: SPACE.md },
} as const satisfies Record<string, CSSProperties>;

/** Widths, in px. */
export const WIDTH = {
  /** A form on its own card (vault create / unlock). */
  formCard: 560,
  /** The order search box. */
  search: 640,
  /** Dialogs: a form, a form with a long text (keys), a wizard. */
  dialog: 560,
  dialogWide: 640,
  dialogText: 720,
  dialogWizard: 760,
} as const;

/** A title and its actions at both ends of one line. */
export const spread: CSSProperties = { width: '100%', justifyContent: 'space-between' };

/** Colours used outside antd's own status props. */
export const COLOR = {
  /** Positive: usable key, refundable amount (border / icon). */
  success: '#52c41a',
  /** Positive text on white. */
  successText: '#389e0d',
  /** Needs attention now: open discrepancies, overdue. */
  danger: '#cf1322',
  /** Needs attention soon. */
  warning: '#d48806',
  /** Not in use. */
  muted: '#bfbfbf',
  /** Hairlines between the shell's parts and around cards drawn by hand. */
  border: '#f0f0f0',
} as const;

export const MONO_FONT = 'ui-monospace, SFMono-Regular, Menlo, monospace';

/** Identifiers: order and refund numbers, transaction ids. */
export const mono: CSSProperties = { fontFamily: MONO_FONT };
/** Small identifiers: fingerprints, keys, audit details. */
export const monoSmall: CSSProperties = { fontFamily: MONO_FONT, fontSize: 12 };

/** Secondary details under a value. */
export const small: CSSProperties = { fontSize: 12 };

/** Digits of equal width, so amounts line up. */
export const tabular: CSSProperties = { fontVariantNumeric: 'tabular-nums' };
/** An amount in a table cell: aligned digits, never wrapped. */
export const amountText: CSSProperties = { fontVariantNumeric: 'tabular-nums', whiteSpace: 'nowrap' };

// Style values several pages share: spacing, widths, colours, fonts. Values only; the theme
// itself (primary colour, radius, light or dark) is in theme.tsx.
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

/**
 * The names of our own colours that follow the colour scheme. Each is a CSS variable
 * `--pd-<name>`, set from antd's dark tokens in dark mode only (theme.tsx darkVars).
 */
export type ThemedName =
  | 'success'
  | 'success-text'
  | 'danger'
  | 'danger-bg'
  | 'warning'
  | 'muted'
  | 'neutral'
  | 'border'
  | 'split'
  | 'primary'
  | 'text-secondary'
  | 'text-tertiary'
  | 'fill'
  | 'page-bg'
  | 'bg'
  | 'bg-header'
  | 'bg-hover'
  | 'bg-selected'
  | 'skeleton'
  | 'skeleton-hi';

/** A colour for a style: `light` in light mode (unchanged), the dark token's in dark mode. */
export function themed(name: ThemedName, light: string): string {
  return `var(--pd-${name}, ${light})`;
}

/** The light values of COLOR (what light mode shows). */
export const LIGHT_COLOR = {
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
};

export type ColorName = keyof typeof LIGHT_COLOR;

/**
 * Colours used outside antd's own status props, for styles (CSS variables: they follow the
 * colour scheme). Where a colour value is needed instead, use theme.tsx useColorValues().
 */
export const COLOR: Record<ColorName, string> = {
  success: themed('success', LIGHT_COLOR.success),
  successText: themed('success-text', LIGHT_COLOR.successText),
  danger: themed('danger', LIGHT_COLOR.danger),
  warning: themed('warning', LIGHT_COLOR.warning),
  muted: themed('muted', LIGHT_COLOR.muted),
  border: themed('border', LIGHT_COLOR.border),
};

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

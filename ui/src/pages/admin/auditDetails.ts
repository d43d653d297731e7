// Pure helpers of the audit log page: an entry's details (stored as JSON text) as readable
// "key: value" lines and as pretty JSON, and the translated name of an action.

/** One readable line of an entry's details. `key` is empty for a details value that is not an object. */
export interface DetailLine {
  key: string;
  value: string;
}

/** Shown for null, an empty array and an empty object. */
export const NO_VALUE = '—';

/** Pretty JSON of the stored details text (kept as is when it is not JSON). */
export function prettyDetails(details: string): string {
  try {
    return JSON.stringify(JSON.parse(details), null, 2);
  } catch {
    return details;
  }
}

function isPlain(v: unknown): boolean {
  return v === null || typeof v !== 'object';
}

function scalar(v: unknown): string {
  if (v === null || v === undefined) return NO_VALUE;
  if (typeof v === 'string') return v === '' ? '""' : v;
  return String(v);
}

function join(prefix: string, key: string): string {
  return prefix ? `${prefix}.${key}` : key;
}

/**
 * A details value as "key: value" lines, every value kept whole: nested objects are flattened
 * with dots (`change.state: resolved`), an array of plain values is joined with ", "
 * (`roles: admin, finance`), an array holding objects or arrays is numbered
 * (`items[0].id: 1`), and null, [] and {} read "—". A value that is not an object gives one
 * line with an empty key.
 */
export function flattenDetails(value: unknown, prefix = ''): DetailLine[] {
  if (Array.isArray(value)) {
    if (value.length === 0) return [{ key: prefix, value: NO_VALUE }];
    if (value.every(isPlain)) return [{ key: prefix, value: value.map(scalar).join(', ') }];
    return value.flatMap((item, i) => flattenDetails(item, `${prefix}[${i}]`));
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) return prefix ? [{ key: prefix, value: NO_VALUE }] : [];
    return entries.flatMap(([k, v]) => flattenDetails(v, join(prefix, k)));
  }
  return [{ key: prefix, value: scalar(value) }];
}

/**
 * The readable lines of the stored details text; [] when there is nothing to say (`{}`,
 * `null`, empty), null when the text is not JSON (show it as it is).
 */
export function detailLines(details: string): DetailLine[] | null {
  if (details.trim() === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(details);
  } catch {
    return null;
  }
  if (parsed === null) return [];
  return flattenDetails(parsed);
}

/** Translated action names keyed by the exact action string, as the locale files hold them. */
export type ActionNames = Record<string, string>;

/** The translated name of an action, or null when the locale files do not know it. */
export function actionName(names: ActionNames, action: string): string | null {
  if (!Object.prototype.hasOwnProperty.call(names, action)) return null;
  const name = names[action];
  return typeof name === 'string' && name !== '' ? name : null;
}

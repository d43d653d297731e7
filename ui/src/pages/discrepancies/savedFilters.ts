// Named saved filters of the Discrepancies screen, per user and per workspace, kept in
// localStorage. A saved filter is the same parameters the screen puts in its URL hash
// (formToParams), so loading one goes through formFromParams: unknown classes, states or sorts
// of an older version are dropped, never trusted. Corrupt or foreign content is ignored.
import type { Sort } from '../../types';
import { formFromParams, formToParams } from './filters';
import type { FilterForm } from './filters';

export const NAME_MAX = 60;
const VERSION = 1;
const KEY_PREFIX = 'paydesk.discrepancies.savedFilters';

export interface SavedFilter {
  name: string;
  /** The filter as URL parameters (formToParams). */
  params: Record<string, string>;
}

export interface SavedFilterScope {
  workspace: string;
  user: string;
}

/** One key per workspace and user; JSON keeps the two parts unambiguous whatever they contain. */
export function storageKey(scope: SavedFilterScope): string {
  return `${KEY_PREFIX}:${JSON.stringify([scope.workspace, scope.user])}`;
}

export type NameError = 'empty' | 'too_long';

/** The name as it is saved (trimmed) and what is wrong with it, if anything. */
export function checkName(raw: string): { name: string; error: NameError | null } {
  const name = raw.trim();
  if (name === '') return { name, error: 'empty' };
  if ([...name].length > NAME_MAX) return { name, error: 'too_long' };
  return { name, error: null };
}

/** Canonical parameters: what the screen would put in its hash for them. */
export function normalizeParams(params: Record<string, string>): Record<string, string> {
  const { form, sort } = formFromParams(params);
  return formToParams(form, sort);
}

function isStringRecord(v: unknown): v is Record<string, string> {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    Object.values(v as Record<string, unknown>).every((x) => typeof x === 'string')
  );
}

/** Parses stored text; anything unexpected (corrupt JSON, an old format, bad entries) is skipped. */
export function parseStored(raw: string | null): SavedFilter[] {
  if (!raw) return [];
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    return [];
  }
  if (typeof data !== 'object' || data === null) return [];
  const { version, filters } = data as { version?: unknown; filters?: unknown };
  if (version !== VERSION || !Array.isArray(filters)) return [];
  const out: SavedFilter[] = [];
  for (const entry of filters as unknown[]) {
    if (typeof entry !== 'object' || entry === null) continue;
    const { name, params } = entry as { name?: unknown; params?: unknown };
    if (typeof name !== 'string' || !isStringRecord(params)) continue;
    const checked = checkName(name);
    if (checked.error || out.some((f) => f.name === checked.name)) continue;
    out.push({ name: checked.name, params: normalizeParams(params) });
  }
  return out;
}

export function serialize(filters: SavedFilter[]): string {
  return JSON.stringify({ version: VERSION, filters });
}

export function loadSavedFilters(scope: SavedFilterScope): SavedFilter[] {
  try {
    return parseStored(window.localStorage.getItem(storageKey(scope)));
  } catch {
    return []; // storage unavailable
  }
}

export function storeSavedFilters(scope: SavedFilterScope, filters: SavedFilter[]): void {
  try {
    window.localStorage.setItem(storageKey(scope), serialize(filters));
  } catch {
    // storage unavailable or full: the list still holds for this visit
  }
}

/** Adds a filter, or replaces the one of the same (trimmed) name where it was. */
export function upsertFilter(filters: SavedFilter[], name: string, form: FilterForm, sort: Sort): SavedFilter[] {
  const entry: SavedFilter = { name: name.trim(), params: formToParams(form, sort) };
  const i = filters.findIndex((f) => f.name === entry.name);
  if (i < 0) return [...filters, entry];
  return filters.map((f, j) => (j === i ? entry : f));
}

export function removeFilter(filters: SavedFilter[], name: string): SavedFilter[] {
  return filters.filter((f) => f.name !== name);
}

/** The form and sort a saved filter stands for. */
export function filterOf(saved: SavedFilter): { form: FilterForm; sort: Sort } {
  return formFromParams(saved.params);
}

/** The saved filter the screen currently shows exactly, if any. */
export function findActive(filters: SavedFilter[], form: FilterForm, sort: Sort): SavedFilter | null {
  const current = JSON.stringify(sortedEntries(formToParams(form, sort)));
  return filters.find((f) => JSON.stringify(sortedEntries(f.params)) === current) ?? null;
}

function sortedEntries(p: Record<string, string>): [string, string][] {
  return Object.entries(p).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

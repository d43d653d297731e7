import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { makeMe, renderWithSession } from '../../test-utils';
import type { AuditEntry, AuditVerification } from '../../types';
import enAdmin from '../../locales/en/admin.json';
import zhAdmin from '../../locales/zh/admin.json';
import { clearMocks, fakeBackend, fill, findReady, lastCall } from '../orders/fixtures';
import AuditPage, { actionName, detailLines, flattenDetails, prettyDetails } from './AuditPage';

afterEach(() => clearMocks());

function entry(seq: number, over: Partial<AuditEntry> = {}): AuditEntry {
  return {
    seq,
    at: '2026-03-15T01:00:00Z',
    actor: 'admin',
    action: 'login',
    target: 'user admin',
    outcome: 'ok',
    details: '{}',
    prev_hash: 'p'.repeat(64),
    hash: 'h'.repeat(64),
    ...over,
  };
}

const ENTRIES = [
  entry(120, { action: 'refund.approve', actor: 'wang.approver', target: 'refund 11', details: '{"note":"ok","refund_no":"RF-1"}' }),
  entry(119, { action: 'refund.approve', actor: 'li.support', target: 'refund 12', outcome: 'denied', details: '{"reason":"own request"}' }),
  entry(118, { action: 'login.failed', actor: 'mallory', outcome: 'failed' }),
  entry(117, {
    action: 'discrepancy.bulk_update',
    actor: 'zhang.finance',
    target: 'account alipay-main',
    details: '{"rows":3,"change":{"state":"resolved","assignee":null,"note":"matched by hand"}}',
  }),
  entry(116, { action: 'user.roles', target: 'user li.support', details: '{"before":["support"],"after":["support","approver"]}' }),
  entry(115, { action: 'custom.thing', actor: 'system', target: 'x', details: 'not json (a, b)' }),
  entry(114, { action: 'settle.run', target: 'bank account cmb-main 2026-03-14', details: 'null' }),
  entry(113, {
    action: 'settle.run',
    target: 'bank account cmb-main 2026-03-13',
    details: JSON.stringify({
      payouts: 3,
      bank_lines: 4,
      links: 2,
      suggestions: 0,
      findings: { amount_mismatch: 1, missing_in_bank: 0 },
      arrivals: { arrived: 2, in_transit: 1 },
      trade_checks: [{ account: 'alipay-main', matched: 10, findings: 0 }],
    }),
  }),
];

function setup(verify: () => AuditVerification = () => ({ entries: 0, head_seq: 0, head_hash: '', problems: [] })) {
  const calls = fakeBackend({
    audit_entries: (a) => ({
      total: 120,
      entries: a.action === 'refund.' ? ENTRIES.slice(0, 2) : ENTRIES,
    }),
    audit_verify: verify,
  });
  renderWithSession(<AuditPage />, { me: makeMe() });
  return calls;
}

/** Types into the action filter (an antd Select with search). */
async function searchAction(u: ReturnType<typeof userEvent.setup>, text: string) {
  const box = within(screen.getByTestId('audit-filter-action')).getByRole('combobox');
  await u.click(box);
  await u.paste(text);
}

/**
 * Enter in the action filter: rc-select reads `event.which`, which user-event's keyboard
 * leaves at 0 under jsdom.
 */
function pressEnterInActionFilter() {
  const box = within(screen.getByTestId('audit-filter-action')).getByRole('combobox');
  const key = { key: 'Enter', code: 'Enter', keyCode: 13, which: 13 };
  fireEvent.keyDown(box, key);
  fireEvent.keyUp(box, key);
}

async function findOption(title: string): Promise<HTMLElement> {
  return waitFor(() => {
    const el = document.querySelector<HTMLElement>(`.ant-select-item-option[title="${title}"]`);
    if (!el) throw new Error(`no option ${title}`);
    return el;
  });
}

describe('AuditPage', () => {
  it('pages on the server and filters by action and actor', async () => {
    const u = userEvent.setup({ delay: null });
    const calls = setup();
    const table = await screen.findByTestId('audit-table');
    await waitFor(() => expect(table).toHaveAttribute('data-total', '120'));
    expect(lastCall(calls, 'audit_entries')?.args).toEqual({ limit: 50, offset: 0, action: null, actor: null, target: null, from: null, to: null });
    expect(within(table).getByTestId('audit-row-119')).toHaveAttribute('data-outcome', 'denied');
    expect(within(table).getByTestId('audit-row-119')).toHaveTextContent('Denied');
    expect(within(table).getByTestId('audit-row-118')).toHaveTextContent('Failed');

    await u.click(within(table).getByTitle('2'));
    await waitFor(() =>
      expect(lastCall(calls, 'audit_entries')?.args).toEqual({ limit: 50, offset: 50, action: null, actor: null, target: null, from: null, to: null }),
    );

    // A typed prefix is offered first, so Enter filters by it at once.
    await searchAction(u, 'refund.');
    await findOption('refund.');
    expect(document.querySelector('.ant-select-item-option-active [data-free="prefix"]')).toHaveTextContent(
      'Every action starting with “refund.”',
    );
    pressEnterInActionFilter();
    await waitFor(() =>
      expect(lastCall(calls, 'audit_entries')?.args).toEqual({ limit: 50, offset: 0, action: 'refund.', actor: null, target: null, from: null, to: null }),
    );

    await fill(u, screen.getByTestId('audit-filter-actor'), 'wang.approver');
    await u.keyboard('{Enter}');
    await waitFor(() =>
      expect(lastCall(calls, 'audit_entries')?.args).toEqual({
        limit: 50,
        offset: 0,
        action: 'refund.',
        actor: 'wang.approver',
        target: null,
        from: null,
        to: null,
      }),
    );

    // The target: a substring, sent as typed (trimmed).
    await fill(u, screen.getByTestId('audit-filter-target'), '  cmb-main ');
    await u.keyboard('{Enter}');
    await waitFor(() =>
      expect(lastCall(calls, 'audit_entries')?.args).toMatchObject({ target: 'cmb-main', actor: 'wang.approver' }),
    );
    expect(screen.getAllByTestId('audit-filter-days').length).toBeGreaterThan(0);
  });

  it('lists the known actions in the filter by their names and filters by the raw action', async () => {
    const u = userEvent.setup({ delay: null });
    const calls = setup();
    await screen.findByTestId('audit-row-120');
    // Searching by the name finds the action; the option shows the raw action under it.
    await searchAction(u, 'settlement rec');
    const option = await findOption('Run settlement reconciliation');
    expect(option).toHaveTextContent('settle.run');
    // Text that names no action exactly is offered after the matches, not instead of them.
    expect(document.querySelector('.ant-select-item-option-active')).toBe(option);
    await u.click(option);
    await waitFor(() =>
      expect(lastCall(calls, 'audit_entries')?.args).toEqual({ limit: 50, offset: 0, action: 'settle.run', actor: null, target: null, from: null, to: null }),
    );
    // The chosen action shows by its name.
    expect(screen.getByTestId('audit-filter-action')).toHaveTextContent('Run settlement reconciliation');

    // The raw action string finds it too.
    await searchAction(u, 'key.import');
    await u.click(await findOption('Import a key'));
    await waitFor(() => expect(lastCall(calls, 'audit_entries')?.args).toMatchObject({ action: 'key.import' }));

    // Clearing the filter shows every action again.
    const clear = screen.getByTestId('audit-filter-action').querySelector('.ant-select-clear');
    expect(clear).not.toBeNull();
    await u.click(clear!);
    await waitFor(() => expect(lastCall(calls, 'audit_entries')?.args).toMatchObject({ action: null }));
  });

  it('shows translated action names with the raw action beside them', async () => {
    setup();
    const action = await screen.findByTestId('audit-action-120');
    expect(action).toHaveAttribute('data-action', 'refund.approve');
    expect(action).toHaveTextContent('Approve a refund');
    expect(within(action).getByText('refund.approve')).toBeInTheDocument();
    expect(screen.getByTestId('audit-action-117')).toHaveTextContent('Update discrepancies in bulk');
    expect(screen.getByTestId('audit-action-114')).toHaveTextContent('Run settlement reconciliation');
    // An action the locale files do not know shows as it is, once.
    const unknown = screen.getByTestId('audit-action-115');
    expect(unknown.textContent).toBe('custom.thing');
  });

  it('shows the details as key: value lines, nested keys with dots and lists joined', async () => {
    setup();
    const d120 = await screen.findByTestId('audit-details-list-120');
    expect(Array.from(d120.children).map((c) => c.textContent)).toEqual(['note: ok', 'refund_no: RF-1']);
    const d117 = screen.getByTestId('audit-details-list-117');
    expect(Array.from(d117.children).map((c) => c.textContent)).toEqual([
      'rows: 3',
      'change.state: resolved',
      'change.assignee: —',
      'change.note: matched by hand',
    ]);
    const d116 = screen.getByTestId('audit-details-list-116');
    expect(Array.from(d116.children).map((c) => c.textContent)).toEqual([
      'before: support',
      'after: support, approver',
    ]);
    // Text that is not JSON is shown whole; empty details as a dash.
    expect(screen.getByTestId('audit-details-text-115')).toHaveTextContent('not json (a, b)');
    expect(within(screen.getByTestId('audit-row-114')).getByText('—')).toBeInTheDocument();
    expect(within(screen.getByTestId('audit-row-118')).getByText('—')).toBeInTheDocument();
  });

  it('says how many lines long details have beyond the first ones and expands the row for them', async () => {
    const u = userEvent.setup({ delay: null });
    setup();
    const list = await screen.findByTestId('audit-details-list-113');
    expect(Array.from(list.children).map((c) => c.getAttribute('data-key'))).toEqual([
      'payouts',
      'bank_lines',
      'links',
      'suggestions',
      'findings.amount_mismatch',
      'findings.missing_in_bank',
      'arrivals.arrived',
      'arrivals.in_transit',
    ]);
    const more = screen.getByTestId('audit-details-more-113');
    expect(more).toHaveTextContent('3 more lines: expand the row for the full JSON');
    expect(screen.queryByTestId('audit-details-113')).toBeNull();
    await u.click(more);
    const json = await screen.findByTestId('audit-details-113');
    expect(json).toHaveTextContent('"account": "alipay-main"');
    // Short details have no such link.
    expect(screen.queryByTestId('audit-details-more-117')).toBeNull();
  });

  it('shows the details of an entry expanded as JSON', async () => {
    const u = userEvent.setup({ delay: null });
    setup();
    const row = await screen.findByTestId('audit-row-120');
    await u.click(within(row).getByRole('button'));
    const details = await screen.findByTestId('audit-details-120');
    expect(details.textContent).toBe(prettyDetails('{"note":"ok","refund_no":"RF-1"}'));
    expect(details.textContent).toContain('"refund_no": "RF-1"');
  });

  it('verifies an intact chain', async () => {
    const u = userEvent.setup({ delay: null });
    const calls = setup(() => ({ entries: 120, head_seq: 120, head_hash: 'ab'.repeat(32), problems: [] }));
    await u.click(await findReady('audit-verify'));
    const result = await screen.findByTestId('audit-verify-result');
    expect(result).toHaveAttribute('data-ok', 'true');
    expect(result).toHaveTextContent('The audit chain is intact: 120 entries verified.');
    expect(lastCall(calls, 'audit_verify')?.args).toEqual({});
  });

  it('shows where a broken chain breaks', async () => {
    const u = userEvent.setup({ delay: null });
    setup(() => ({
      entries: 120,
      head_seq: 120,
      head_hash: 'cd'.repeat(32),
      problems: [
        { seq: 119, reason: 'hash mismatch: the entry was changed after it was written' },
        { seq: 120, reason: 'prev_hash does not match entry 119' },
      ],
    }));
    await u.click(await findReady('audit-verify'));
    const result = await screen.findByTestId('audit-verify-result');
    expect(result).toHaveAttribute('data-ok', 'false');
    expect(result).toHaveAttribute('data-break', '119');
    expect(result).toHaveTextContent('The audit chain is broken at entry #119 (2 problem(s)).');
    expect(within(result).getByTestId('audit-problem-119')).toHaveTextContent(
      'Entry #119: hash mismatch: the entry was changed after it was written',
    );
    // The broken rows are marked in the table.
    expect(within(screen.getByTestId('audit-row-119')).getByText('119')).toHaveClass('ant-tag-red');
  });
});

describe('AuditPage in Chinese', () => {
  it('shows the action names and the filter in Chinese', async () => {
    const { default: i18n } = await import('../../i18n');
    await act(async () => {
      await i18n.changeLanguage('zh');
    });
    try {
      const u = userEvent.setup({ delay: null });
      const calls = fakeBackend({ audit_entries: () => ({ total: ENTRIES.length, entries: ENTRIES }), audit_verify: () => null });
      renderWithSession(<AuditPage />, { me: makeMe(), lang: 'zh' });
      const action = await screen.findByTestId('audit-action-120');
      expect(action).toHaveTextContent('批准退款');
      expect(within(action).getByText('refund.approve')).toBeInTheDocument();
      expect(screen.getByTestId('audit-action-114')).toHaveTextContent('运行资金对账');
      expect(screen.getByTestId('audit-action-116')).toHaveTextContent('修改用户角色');
      expect(screen.getByTestId('audit-row-119')).toHaveTextContent('拒绝访问');
      expect(screen.getByTestId('audit-action-115').textContent).toBe('custom.thing');

      await searchAction(u, '资金对账');
      await u.click(await findOption('运行资金对账'));
      await waitFor(() => expect(lastCall(calls, 'audit_entries')?.args).toMatchObject({ action: 'settle.run' }));
    } finally {
      await act(async () => {
        await i18n.changeLanguage('en');
      });
    }
  });
});

describe('audit details helpers', () => {
  it('flattens nested objects with dots and joins lists', () => {
    expect(
      flattenDetails({
        refund_no: 'RF-1',
        amount: 1250,
        approved: true,
        note: null,
        empty: '',
        change: { state: 'resolved', tags: ['a', 'b'], meta: { by: 'li', at: { day: '2026-03-14' } } },
        none: [],
        nothing: {},
      }),
    ).toEqual([
      { key: 'refund_no', value: 'RF-1' },
      { key: 'amount', value: '1250' },
      { key: 'approved', value: 'true' },
      { key: 'note', value: '—' },
      { key: 'empty', value: '""' },
      { key: 'change.state', value: 'resolved' },
      { key: 'change.tags', value: 'a, b' },
      { key: 'change.meta.by', value: 'li' },
      { key: 'change.meta.at.day', value: '2026-03-14' },
      { key: 'none', value: '—' },
      { key: 'nothing', value: '—' },
    ]);
  });

  it('numbers a list of objects instead of dropping them', () => {
    expect(flattenDetails({ items: [{ id: 1, tags: ['x'] }, 7, [2, 3]] })).toEqual([
      { key: 'items[0].id', value: '1' },
      { key: 'items[0].tags', value: 'x' },
      { key: 'items[1]', value: '7' },
      { key: 'items[2]', value: '2, 3' },
    ]);
    expect(flattenDetails([1, null, 'x'])).toEqual([{ key: '', value: '1, —, x' }]);
    expect(flattenDetails('plain')).toEqual([{ key: '', value: 'plain' }]);
    expect(flattenDetails({})).toEqual([]);
  });

  it('keeps every value whole', () => {
    const long = 'x'.repeat(5000);
    expect(flattenDetails({ reason: long, list: Array.from({ length: 300 }, (_, i) => i) })).toEqual([
      { key: 'reason', value: long },
      { key: 'list', value: Array.from({ length: 300 }, (_, i) => i).join(', ') },
    ]);
  });

  it('reads the stored details text', () => {
    expect(detailLines('{"a":{"b":1}}')).toEqual([{ key: 'a.b', value: '1' }]);
    expect(detailLines('{}')).toEqual([]);
    expect(detailLines('null')).toEqual([]);
    expect(detailLines('')).toEqual([]);
    expect(detailLines('not json')).toBeNull();
    expect(prettyDetails('{"a":1}')).toBe('{\n  "a": 1\n}');
    expect(prettyDetails('not json')).toBe('not json');
  });

  it('names an action only when the locale files know it', () => {
    const names = enAdmin.audit.action_names as Record<string, string>;
    expect(actionName(names, 'settle.run')).toBe('Run settlement reconciliation');
    expect(actionName(names, 'nope.nope')).toBeNull();
    expect(actionName(names, 'constructor')).toBeNull();
    expect(actionName(names, '__proto__')).toBeNull();
  });
});

// ---------------------------------------------------------------------------------------------
// Every action the backend writes to the audit log has an English and a Chinese name. The Rust
// sources are scanned for the calls of the audit helper
// (paydesk-service context/auth.rs: audit(&db, actor, action, target, outcome, details)) and
// for NewAuditEntry literals; the action argument is a string literal, an if/else of literals,
// a local `let` or a `const` holding literals, or a Permission's name (require() audits a
// refusal under the permission's name). Anything else fails the test, so a new kind of call
// is looked at rather than skipped.

/** The little of node:fs used here (the UI has no @types/node). */
interface NodeFs {
  readFileSync(path: string, encoding: 'utf8'): string;
  readdirSync(path: string, options: { withFileTypes: true }): { name: string; isDirectory(): boolean; isFile(): boolean }[];
  existsSync(path: string): boolean;
}

// src-tauri/ as a file system path. import.meta.url is read apart: Vite rewrites
// `new URL('…', import.meta.url)` into an asset URL.
const TEST_FILE_URL = import.meta.url;
const SRC_TAURI = decodeURIComponent(new URL('../../../../src-tauri/', TEST_FILE_URL).pathname).replace(
  /^\/([A-Za-z]:)/,
  '$1',
);

/**
 * The Rust sources of the desktop app and its crates (src-tauri/src, src-tauri/crates/x/src;
 * not tests/, benches/ or target/), keyed by the path under src-tauri.
 */
async function readRustSources(): Promise<Record<string, string>> {
  // A non-literal specifier: without @types/node, tsc would not know the module.
  const fs = (await import(/* @vite-ignore */ 'node:fs' as string)) as NodeFs;
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(SRC_TAURI + rel, { withFileTypes: true })) {
      if (e.isDirectory()) walk(`${rel}${e.name}/`);
      else if (e.isFile() && e.name.endsWith('.rs')) out[`${rel}${e.name}`] = fs.readFileSync(SRC_TAURI + rel + e.name, 'utf8');
    }
  };
  walk('src/');
  for (const c of fs.readdirSync(`${SRC_TAURI}crates/`, { withFileTypes: true })) {
    if (c.isDirectory() && fs.existsSync(`${SRC_TAURI}crates/${c.name}/src/`)) walk(`crates/${c.name}/src/`);
  }
  return out;
}

const ACTION_SHAPE = /^[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*$/;

/** The end (exclusive) of a string, raw string or char literal starting at `i`; `i` if none does. */
function literalEnd(src: string, i: number): number {
  const prev = i > 0 ? src[i - 1] : '';
  if (!/\w/.test(prev)) {
    const raw = /^b?r(#*)"/.exec(src.slice(i, i + 260));
    if (raw) {
      const close = `"${raw[1]}`;
      const end = src.indexOf(close, i + raw[0].length);
      return end < 0 ? src.length : end + close.length;
    }
    const start = src[i] === '"' ? i + 1 : src[i] === 'b' && src[i + 1] === '"' ? i + 2 : -1;
    if (start >= 0) {
      let j = start;
      while (j < src.length && src[j] !== '"') j += src[j] === '\\' ? 2 : 1;
      return j + 1;
    }
  }
  if (src[i] === "'") {
    // A char literal; a lifetime ('a) has no closing quote right after.
    const m = /^'(?:\\(?:u\{[0-9a-fA-F]+\}|x[0-9a-fA-F]{2}|.)|[^\\'\n])'/u.exec(src.slice(i, i + 16));
    if (m) return i + m[0].length;
  }
  return i;
}

/** Rust code with its comments blanked out (same length; strings and chars kept). */
export function stripComments(src: string): string {
  let out = '';
  let i = 0;
  while (i < src.length) {
    if (src.startsWith('//', i)) {
      const nl = src.indexOf('\n', i);
      const stop = nl < 0 ? src.length : nl;
      out += ' '.repeat(stop - i);
      i = stop;
    } else if (src.startsWith('/*', i)) {
      let depth = 1;
      let j = i + 2;
      while (j < src.length && depth > 0) {
        if (src.startsWith('/*', j)) {
          depth++;
          j += 2;
        } else if (src.startsWith('*/', j)) {
          depth--;
          j += 2;
        } else j++;
      }
      out += src.slice(i, j).replace(/[^\n]/g, ' ');
      i = j;
    } else {
      const end = literalEnd(src, i);
      out += src.slice(i, Math.max(end, i + 1));
      i = Math.max(end, i + 1);
    }
  }
  return out;
}

/**
 * From an opening bracket at `open`: the index of its closing bracket and the texts between
 * top-level commas (a trailing comma gives no empty part).
 */
function group(code: string, open: number): { close: number; parts: string[] } {
  const pairs: Record<string, string> = { '(': ')', '[': ']', '{': '}' };
  const stack = [pairs[code[open]]];
  const parts: string[] = [];
  let from = open + 1;
  let i = open + 1;
  while (i < code.length) {
    const end = literalEnd(code, i);
    if (end > i) {
      i = end;
      continue;
    }
    const c = code[i];
    if (pairs[c]) stack.push(pairs[c]);
    else if (c === ')' || c === ']' || c === '}') {
      if (stack.pop() !== c) throw new Error(`unbalanced ${c} at line ${code.slice(0, i).split('\n').length}`);
      if (stack.length === 0) {
        const last = code.slice(from, i);
        if (last.trim() !== '') parts.push(last);
        return { close: i, parts };
      }
    } else if (c === ',' && stack.length === 1) {
      parts.push(code.slice(from, i));
      from = i + 1;
    }
    i++;
  }
  throw new Error(`no closing bracket for the one at line ${code.slice(0, open).split('\n').length}`);
}

function blank(text: string): string {
  return text.replace(/[^\n]/g, ' ');
}

/** The code with the insides of its string and char literals blanked (same length): where to search. */
function maskLiterals(code: string): string {
  let out = '';
  let i = 0;
  while (i < code.length) {
    const end = literalEnd(code, i);
    if (end > i + 1) {
      // Keep the prefix and quotes (b"…", r#"…"#, '…'): the mask still reads as Rust.
      const lit = code.slice(i, end);
      const quote = lit.search(/["']/);
      const last = lit.lastIndexOf(lit[quote]);
      out += lit.slice(0, quote + 1) + blank(lit.slice(quote + 1, last)) + lit.slice(last);
      i = end;
    } else {
      out += code[i];
      i++;
    }
  }
  return out;
}

interface Prepared {
  /** Comments and test modules blanked; literals kept (to read them). */
  code: string;
  /** The same with literals blanked too (to search it). */
  mask: string;
}

/** A source file without comments and `#[cfg(test)] mod x { … }` blocks, and its mask. */
function prepare(src: string): Prepared {
  let code = stripComments(src);
  let mask = maskLiterals(code);
  const re = /#\[cfg\(test\)\]\s*(?:#\[[^\]]*\]\s*)*(?:pub(?:\([^)]*\))?\s+)?mod\s+\w+\s*\{/g;
  for (const m of Array.from(mask.matchAll(re))) {
    const { close } = group(mask, m.index + m[0].length - 1);
    const cut = (t: string) => t.slice(0, m.index) + blank(t.slice(m.index, close + 1)) + t.slice(close + 1);
    code = cut(code);
    mask = cut(mask);
  }
  return { code, mask };
}

/** Files of modules declared `#[cfg(test)] mod x;` (matcher.rs → matcher/tests.rs). */
function testOnlyPaths(files: Record<string, Prepared>): string[] {
  const out: string[] = [];
  for (const [path, { mask }] of Object.entries(files)) {
    const base = path.replace(/\.rs$/, '');
    const dir = /\/(?:mod|lib|main)$/.test(base) ? base.replace(/\/[^/]+$/, '') : base;
    for (const m of mask.matchAll(/#\[cfg\(test\)\]\s*(?:#\[[^\]]*\]\s*)*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;/g)) {
      out.push(`${dir}/${m[1]}.rs`, `${dir}/${m[1]}/`);
    }
  }
  return out;
}

function stringLiterals(expr: string): string[] {
  return Array.from(expr.matchAll(/(?<![\w#])"((?:[^"\\]|\\.)*)"/g), (m) => m[1]);
}

/** The expression after `=` at `from` up to its top-level `;`. */
function expressionAt(code: string, from: number): string {
  let i = from;
  let depth = 0;
  while (i < code.length) {
    const end = literalEnd(code, i);
    if (end > i) {
      i = end;
      continue;
    }
    const c = code[i];
    if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) depth--;
    else if (c === ';' && depth === 0) break;
    i++;
  }
  return code.slice(from, i);
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function enclosingFn(mask: string, at: number): string | null {
  let name: string | null = null;
  for (const m of mask.slice(0, at).matchAll(/\bfn\s+(\w+)/g)) name = m[1];
  return name;
}

export interface AuditScan {
  /** action → where it is written (file:line). */
  actions: Map<string, string[]>;
  /** Calls whose action could not be read, and literals that do not look like an action. */
  problems: string[];
  /** The parameters of the audit helper's definition(s) found. */
  helperParams: string[][];
}

/** Scans Rust sources (path → text) for the actions written to the audit log. */
export function scanAuditActions(sources: Record<string, string>): AuditScan {
  const problems: string[] = [];
  const prepared: Record<string, Prepared> = {};
  for (const [path, src] of Object.entries(sources)) {
    try {
      prepared[path] = prepare(src);
    } catch (e) {
      problems.push(`${path}: cannot scan: ${(e as Error).message}`);
    }
  }
  const testOnly = testOnlyPaths(prepared);
  const files = Object.fromEntries(
    Object.entries(prepared).filter(([p]) => !testOnly.some((t) => (t.endsWith('/') ? p.startsWith(t) : p === t))),
  );
  const all = Object.values(files).map((f) => f.code).join('\n');
  const allMask = Object.values(files).map((f) => f.mask).join('\n');
  const actions = new Map<string, string[]>();
  const helperParams: string[][] = [];

  const permissionNames = (): string[] => {
    const m = /\benum\s+Permission\s*\{/.exec(allMask);
    if (!m) return [];
    const { close } = group(allMask, m.index + m[0].length - 1);
    const body = all.slice(m.index, close);
    return Array.from(body.matchAll(/serialize\s*=\s*"([^"]+)"/g), (x) => x[1]);
  };

  const resolve = (expr: string, { code, mask }: Prepared): string[] | null => {
    const e = expr
      .trim()
      .replace(/^&\s*/, '')
      .replace(/\.(?:into|to_string|to_owned)\(\)$/, '')
      .replace(/^String::from\((.*)\)$/s, '$1')
      .trim();
    const lits = stringLiterals(e);
    if (lits.length > 0) return lits;
    if (/^[A-Za-z_]\w*$/.test(e)) {
      const found: string[] = [];
      const local = new RegExp(`\\blet\\s+(?:mut\\s+)?${escape(e)}\\s*(?::[^=;]+)?=`, 'g');
      for (const m of mask.matchAll(local)) found.push(...stringLiterals(expressionAt(code, m.index + m[0].length)));
      const constant = new RegExp(`\\b(?:const|static)\\s+${escape(e)}\\s*:[^=;]+=`, 'g');
      for (const m of allMask.matchAll(constant)) found.push(...stringLiterals(expressionAt(all, m.index + m[0].length)));
      return found.length > 0 ? found : null;
    }
    const asStr = /^(\w+)\.as_str\(\)$/.exec(e);
    if (asStr && new RegExp(`\\b${escape(asStr[1])}\\s*:\\s*(?:&\\s*)?Permission\\b`).test(mask)) {
      const names = permissionNames();
      return names.length > 0 ? names : null;
    }
    return null;
  };

  const add = (expr: string, file: Prepared, path: string, at: number) => {
    const line = file.code.slice(0, at).split('\n').length;
    const where = `${path.replace(/^(\.\.\/)+/, '')}:${line}`;
    const found = resolve(expr, file);
    if (!found) {
      problems.push(`${where}: cannot read the action from \`${expr.trim()}\``);
      return;
    }
    for (const a of found) {
      if (!ACTION_SHAPE.test(a)) problems.push(`${where}: "${a}" does not look like an action name`);
      else actions.set(a, [...(actions.get(a) ?? []), where]);
    }
  };

  for (const [path, file] of Object.entries(files)) {
    try {
      scanFile(path, file);
    } catch (e) {
      problems.push(`${path}: cannot scan: ${(e as Error).message}`);
    }
  }
  return { actions, problems, helperParams };

  function scanFile(path: string, file: Prepared) {
    const { code, mask } = file;
    // audit(db, actor, action, target, outcome, details), maybe with a path (auth::audit).
    for (const m of mask.matchAll(/(?<![\w.:])(?:\w+::)*audit\s*\(/g)) {
      const open = m.index + m[0].length - 1;
      const { parts } = group(code, open);
      if (parts.length !== 6) continue;
      if (/\bfn\s+$/.test(mask.slice(Math.max(0, m.index - 20), m.index))) {
        helperParams.push(parts.map((p) => p.trim()));
        continue;
      }
      add(parts[2], file, path, m.index);
    }
    // NewAuditEntry { actor, action, … } written directly to the store.
    for (const m of mask.matchAll(/(?<!\b(?:struct|impl|for|enum)\s+)\bNewAuditEntry\s*\{/g)) {
      const open = m.index + m[0].length - 1;
      const { parts } = group(code, open);
      const field = parts.map((p) => p.trim()).find((p) => /^action\b/.test(p));
      if (!field) {
        problems.push(`${path}: a NewAuditEntry without an action field`);
        continue;
      }
      const expr = field.includes(':') ? field.slice(field.indexOf(':') + 1) : field;
      // The audit helper itself hands its `action` parameter on.
      if (enclosingFn(mask, m.index) === 'audit' && /^action\b/.test(expr.trim())) continue;
      add(expr, file, path, m.index);
    }
  }
}

describe('the actions the backend audits', () => {
  it('the scanner reads literals, if/else, locals, consts and permissions and skips comments and tests', () => {
    const files = {
      'core/auth.rs': `
        pub enum Permission {
            #[strum(serialize = "thing.view")]
            ThingView,
            #[strum(serialize = "thing.manage")]
            ThingManage,
        }`,
      'store/audit.rs': `
        pub const KEY_ACTION: &str = "log.key";
        pub struct NewAuditEntry { pub action: String }
        fn start() { let e = NewAuditEntry { actor: "system".into(), action: KEY_ACTION.into(), target: "t".into() }; }`,
      'service/auth.rs': `
        pub async fn audit(db: &AppDb, actor: &str, action: &str, target: &str, outcome: &str, details: Value) -> R {
            db.audit_append(&NewAuditEntry { actor: actor.to_string(), action: action.to_string() }).await
        }
        pub async fn require(db: &AppDb, actor: &Actor, permission: Permission, target: &str) -> R {
            audit(db, &actor.username, permission.as_str(), target, "denied", json!({"r": 1})).await
        }`,
      'service/things.rs': `
        fn a() {
            audit(&w.db, &actor.username, "thing.make", &format!("thing {}, {}", a, b), "ok", json!({"x": ")"})).await?;
            let c = '(';
            let r = r#"audit(db, a, "fake.raw", t, "ok", d)"#;
            // audit(db, a, "fake.comment", t, "ok", d)
            /* audit(db, a, "fake.block", t, "ok", d) /* nested */ */
            audit(
                db,
                who,
                if ok { "thing.done" } else { "thing.undone" },
                "t",
                "ok",
                json!({}),
            ).await?;
            let action = if approve { "thing.approve" } else { "thing.reject" };
            audit(db, who, action, &target, "ok", json!({}),).await?;
            crate::context::auth::audit(db, who, "thing.pathed", t, "ok", d).await?;
            cmd::audit::audit(command).await;
            helper.audit(a, b, "fake.method", d, e, f);
        }
        #[cfg(test)]
        mod tests {
            fn t() { audit(db, a, "fake.test", t, "ok", d); }
        }`,
      'service/big.rs': '#[cfg(test)]\nmod tests;\n',
      'service/big/tests.rs': 'fn t() { audit(db, a, "fake.testfile", t, "ok", d); }',
      'service/odd.rs': 'fn o() { audit(db, a, pick(x), t, "ok", d); audit(db, a, "Not An Action", t, "ok", d); }',
    };
    const scan = scanAuditActions(files);
    expect(Array.from(scan.actions.keys()).sort()).toEqual([
      'log.key',
      'thing.approve',
      'thing.done',
      'thing.make',
      'thing.manage',
      'thing.pathed',
      'thing.reject',
      'thing.undone',
      'thing.view',
    ]);
    expect(scan.problems).toEqual([
      'service/odd.rs:1: cannot read the action from `pick(x)`',
      'service/odd.rs:1: "Not An Action" does not look like an action name',
    ]);
    expect(scan.helperParams).toEqual([
      ['db: &AppDb', 'actor: &str', 'action: &str', 'target: &str', 'outcome: &str', 'details: Value'],
    ]);
  });

  let rustSources: Record<string, string> = {};
  let scan: AuditScan = { actions: new Map(), problems: [], helperParams: [] };
  let actions: string[] = [];
  beforeAll(async () => {
    rustSources = await readRustSources();
    scan = scanAuditActions(rustSources);
    actions = Array.from(scan.actions.keys()).sort();
  });

  it('reads the Rust sources and every audited action there', () => {
    const paths = Object.keys(rustSources);
    expect(paths).toContain('crates/paydesk-service/src/context/auth.rs');
    expect(paths.length).toBeGreaterThan(50);
    // The helper's third parameter is the action.
    expect(scan.helperParams.length).toBeGreaterThan(0);
    for (const params of scan.helperParams) expect(params[2]).toMatch(/^action\s*:/);
    expect(scan.problems).toEqual([]);
    // A scanner that finds (almost) nothing must not pass.
    expect(actions.length).toBeGreaterThanOrEqual(15);
    // One of each kind: a literal, an if/else, a local, a const, a permission refused.
    expect(actions).toEqual(
      expect.arrayContaining([
        'login',
        'settle.run',
        'key.import',
        'user.disable',
        'refund.reject',
        'audit.key',
        'key.manage',
      ]),
    );
  });

  it('every audited action has an English and a Chinese name', () => {
    const en = enAdmin.audit.action_names as Record<string, string>;
    const zh = zhAdmin.audit.action_names as Record<string, string>;
    const where = (a: string) => `${a} (${(scan.actions.get(a) ?? []).join(', ')})`;
    expect(
      actions.filter((a) => !actionName(en, a)).map(where),
      'add these to audit.action_names in ui/src/locales/en/admin.json',
    ).toEqual([]);
    expect(
      actions.filter((a) => !actionName(zh, a)).map(where),
      'add these to audit.action_names in ui/src/locales/zh/admin.json',
    ).toEqual([]);
  });
});

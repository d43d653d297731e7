// Helpers for the end-to-end suite: drive the real Paydesk desktop app (Tauri v2 on
// WebKitGTK) through tauri-driver, and read back what landed in the workspace (CLI, SQLite).
//
// The suite expects tauri-driver on E2E_DRIVER_URL (default http://127.0.0.1:4444) with a
// display; tests/e2e/run.sh starts both.
import { Builder, By, Key, until } from 'selenium-webdriver';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export { By, Key, until };

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(HERE, '..', '..');
export const BIN_DIR =
  process.env.E2E_BIN_DIR || path.join(process.env.CARGO_TARGET_DIR || path.join(REPO, 'target'), 'debug');
export const APP_BIN = path.join(BIN_DIR, 'paydesk-desktop');
export const CLI_BIN = path.join(BIN_DIR, 'paydesk');
export const DRIVER_URL = process.env.E2E_DRIVER_URL || 'http://127.0.0.1:4444';
export const SCREENSHOT_DIR = path.join(HERE, 'screenshots');

/** Default wait for things that should appear "at once" (ms). */
export const WAIT = Number(process.env.E2E_WAIT_MS || 15000);

export const USERS = {
  admin: { username: 'admin', password: 'orchid-harbor-2026' },
  finance: { username: 'finance', password: 'ledger-maple-2026' },
  support: { username: 'support', password: 'helpdesk-river-2026' },
  approver: { username: 'approver', password: 'signoff-cedar-2026' },
};

// ---------------------------------------------------------------- workspace, CLI, database

/** A fresh demo workspace (config, SQLite db, order mirror, demo users, two reconciled days). */
export function makeWorkspace(name) {
  const root = process.env.E2E_WORK_DIR || path.join(os.tmpdir(), 'paydesk-e2e');
  fs.mkdirSync(root, { recursive: true });
  const dir = fs.mkdtempSync(path.join(root, `${name}-`));
  execFileSync(CLI_BIN, ['demo', '--workspace', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
  return dir;
}

/**
 * Runs the CLI as a user and parses its JSON output. `args` must include the subcommand; the
 * workspace and --json are added.
 */
export function cli(workspace, args, { user = 'admin', env = {}, json = true } = {}) {
  const u = USERS[user] ?? user;
  const full = [...args, '--workspace', workspace, ...(json ? ['--json'] : [])];
  const res = spawnSync(CLI_BIN, full, {
    encoding: 'utf8',
    env: {
      ...process.env,
      PAYDESK_USER: u.username,
      PAYDESK_PASSWORD: u.password,
      ...env,
    },
  });
  if (res.status !== 0) {
    throw new Error(`paydesk ${full.join(' ')} failed (${res.status}): ${res.stderr}`);
  }
  return json ? JSON.parse(res.stdout) : res.stdout;
}

/** Rows of a SQL query against a SQLite file, as objects (read through python3's sqlite3). */
export function dbQuery(dbFile, sql, params = []) {
  const script = `
import json, sqlite3, sys
con = sqlite3.connect('file:' + sys.argv[1] + '?mode=ro', uri=True, timeout=10)
con.row_factory = sqlite3.Row
rows = [dict(r) for r in con.execute(sys.argv[2], json.loads(sys.argv[3]))]
print(json.dumps(rows))
`;
  const res = spawnSync('python3', ['-c', script, dbFile, sql, JSON.stringify(params)], { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`sqlite query failed: ${sql}\n${res.stderr}`);
  return JSON.parse(res.stdout);
}

/** The app database of a workspace. */
export const appDb = (workspace) => path.join(workspace, 'paydesk.db');
/** The demo order mirror of a workspace. */
export const mirrorDb = (workspace) => path.join(workspace, 'orders.db');

// ---------------------------------------------------------------- the app session

/**
 * Starts the desktop app on `workspace` through tauri-driver and returns a Session with
 * the helpers below bound to it. The workspace is passed as `tauri:options.args`.
 */
export async function startApp(workspace) {
  const driver = await new Builder()
    .usingServer(DRIVER_URL)
    .withCapabilities({
      browserName: 'wry',
      'tauri:options': { application: APP_BIN, args: ['--workspace', workspace] },
    })
    .build();
  const s = new Session(driver, workspace);
  try {
    // The app is ready once it shows the login screen (a fresh start has nobody signed in).
    await s.waitTestId('login-username', 30000);
    // The web view's storage (language, saved filters) outlives the app: start from defaults.
    const stored = await driver.executeScript('return window.localStorage.length');
    if (stored > 0) {
      await driver.executeScript('window.localStorage.clear(); window.__e2eOldPage = true; window.location.reload();');
      await driver.wait(
        async () => {
          try {
            return await driver.executeScript("return !window.__e2eOldPage && document.readyState === 'complete'");
          } catch {
            return false; // between the two documents
          }
        },
        WAIT,
        'the page did not reload',
      );
      await s.waitTestId('login-username', 30000);
    }
  } catch (e) {
    await driver.quit().catch(() => {});
    throw e;
  }
  return s;
}

const css = (testid) => By.css(`[data-testid="${testid}"]`);

export class Session {
  constructor(driver, workspace) {
    this.driver = driver;
    this.workspace = workspace;
  }

  get db() {
    return appDb(this.workspace);
  }

  /** Rows of a query against this workspace's app database (paydesk.db). */
  dbRows(sql, params = []) {
    return dbQuery(this.db, sql, params);
  }

  async quit() {
    await this.driver.quit().catch(() => {});
  }

  /** The element with this test id once it is in the DOM. */
  async waitTestId(testid, timeout = WAIT) {
    return this.driver.wait(until.elementLocated(css(testid)), timeout, `no [data-testid="${testid}"] after ${timeout} ms`);
  }

  /** The element with this test id once it is displayed. */
  async byTestId(testid, timeout = WAIT) {
    const el = await this.waitTestId(testid, timeout);
    await this.driver.wait(until.elementIsVisible(el), timeout, `[data-testid="${testid}"] is not visible`);
    return el;
  }

  /** Elements currently in the DOM with this test id (no waiting). */
  async all(testid) {
    return this.driver.findElements(css(testid));
  }

  async exists(testid) {
    return (await this.all(testid)).length > 0;
  }

  /** Waits until no element with this test id is in the DOM. */
  async waitGone(testid, timeout = WAIT) {
    await this.driver.wait(async () => !(await this.exists(testid)), timeout, `[data-testid="${testid}"] still present`);
  }

  /**
   * Clicks an element once it is visible and enabled. Retries while something is in the
   * way (an antd modal or drawer animating in or out).
   */
  async clickEl(el, what = 'element', timeout = WAIT) {
    await this.driver.wait(until.elementIsVisible(el), timeout, `${what} is not visible`);
    await this.driver.wait(until.elementIsEnabled(el), timeout, `${what} is not enabled`);
    const deadline = Date.now() + timeout;
    for (;;) {
      try {
        await el.click();
        return;
      } catch (e) {
        const retriable = /intercept|not interactable|obscured|stale/i.test(`${e.name} ${e.message}`);
        if (!retriable || Date.now() > deadline) throw e;
        await this.driver.sleep(100);
      }
    }
  }

  async clickTestId(testid, timeout = WAIT) {
    const el = await this.byTestId(testid, timeout);
    await this.clickEl(el, `[data-testid="${testid}"]`, timeout);
    return el;
  }

  /** Types into an input (by test id); clears it first unless `clear: false`. */
  async type(testid, text, { clear = true, enter = false } = {}) {
    const el = await this.byTestId(testid);
    if (clear) {
      await el.clear();
      // React-controlled inputs ignore clear() without key events: select all + delete.
      const v = await el.getAttribute('value');
      if (v) await el.sendKeys(Key.chord(Key.CONTROL, 'a'), Key.DELETE);
    }
    if (text !== '') await el.sendKeys(text);
    if (enter) await el.sendKeys(Key.ENTER);
    return el;
  }

  /** Visible text of an element; falls back to innerText where WebKitWebDriver's getText gives "". */
  async text(testid) {
    const el = await this.byTestId(testid);
    const t = await el.getText();
    return t !== '' ? t : this.driver.executeScript('return arguments[0].innerText', el);
  }

  /** The label shown by an antd Select (single mode). */
  async selectedLabel(testid) {
    const root = await this.byTestId(testid);
    const items = await root.findElements(By.css('.ant-select-selection-item'));
    return items.length ? items[0].getAttribute('title') : null;
  }

  async attr(testid, name) {
    return (await this.waitTestId(testid)).getAttribute(name);
  }

  /** Waits until the element's attribute equals `value` (or satisfies it, if a function). */
  async waitForAttr(testid, attr, value, timeout = WAIT) {
    let last;
    try {
      await this.driver.wait(
        async () => {
          const els = await this.all(testid);
          if (!els.length) return false;
          try {
            last = await els[0].getAttribute(attr);
          } catch {
            return false;
          }
          return typeof value === 'function' ? value(last) : last === String(value);
        },
        timeout,
      );
    } catch (e) {
      throw new Error(`[data-testid="${testid}"] ${attr}=${JSON.stringify(last)}, wanted ${typeof value === 'function' ? 'a match' : JSON.stringify(value)} within ${timeout} ms`);
    }
    return last;
  }

  /** Waits until the element's visible text satisfies `pred` (a string to contain, a RegExp, or a function). */
  async waitForText(testid, pred, timeout = WAIT) {
    let last;
    const test =
      typeof pred === 'function' ? pred : pred instanceof RegExp ? (t) => pred.test(t) : (t) => t.includes(pred);
    try {
      await this.driver.wait(async () => {
        const els = await this.all(testid);
        if (!els.length) return false;
        try {
          last = await els[0].getText();
        } catch {
          return false;
        }
        return test(last);
      }, timeout);
    } catch {
      throw new Error(`[data-testid="${testid}"] text ${JSON.stringify(last)} never matched ${pred} within ${timeout} ms`);
    }
    return last;
  }

  /**
   * Picks an option of the antd Select with this test id by its label: opens the dropdown,
   * clicks `.ant-select-item-option[title="<label>"]` in the open dropdown. A multiple
   * Select stays open; pass `close: true` to close it with Escape.
   */
  async selectAntdOption(testid, label, { close = false } = {}) {
    const root = await this.byTestId(testid);
    const selector = await root.findElement(By.css('.ant-select-selector'));
    const optionCss = `.ant-select-dropdown:not(.ant-select-dropdown-hidden) .ant-select-item-option[title="${label.replace(/"/g, '\\"')}"]`;
    // Open the dropdown (once; a second click would close it again).
    if ((await this.driver.findElements(By.css(optionCss))).length === 0) {
      await this.clickEl(selector, `select ${testid}`);
    }
    const option = await this.driver.wait(until.elementLocated(By.css(optionCss)), WAIT, `option "${label}" of ${testid} not shown`);
    await this.driver.wait(until.elementIsVisible(option), WAIT);
    await this.clickEl(option, `option "${label}"`);
    if (close) {
      const input = await root.findElement(By.css('input'));
      await input.sendKeys(Key.ESCAPE);
      await this.waitNoOpenDropdown();
    }
  }

  /** Waits until no antd Select dropdown is open (their close animation is over). */
  async waitNoOpenDropdown(timeout = WAIT) {
    await this.driver.wait(
      async () => {
        const open = await this.driver.findElements(By.css('.ant-select-dropdown:not(.ant-select-dropdown-hidden)'));
        for (const d of open) {
          if (await d.isDisplayed().catch(() => false)) return false;
        }
        return true;
      },
      timeout,
      'a Select dropdown stays open',
    );
  }

  /** Scrolls the element with this test id into view (top of its scroll container). */
  async scrollTo(testid, block = 'start') {
    const el = await this.waitTestId(testid);
    await this.driver.executeScript('arguments[0].scrollIntoView({ block: arguments[1] })', el, block);
    return el;
  }

  /** Clicks a menu entry (nav-<key>). */
  async nav(key) {
    await this.clickTestId(`nav-${key}`);
  }

  /** Signs in through the login screen and waits for the shell. */
  async login(user, password) {
    const u = USERS[user] && password === undefined ? USERS[user] : { username: user, password };
    await this.type('login-username', u.username);
    await this.type('login-password', u.password);
    await this.clickTestId('login-submit');
    await this.waitForText('header-user', u.username);
  }

  async logout() {
    await this.clickTestId('logout');
    await this.byTestId('login-username');
  }

  /** Makes the UI English (the language switch shows the other language's name). */
  async ensureEnglish() {
    const sw = await this.byTestId('lang-switch');
    if ((await sw.getText()).includes('English')) {
      await this.clickEl(sw, 'lang-switch');
      await this.waitForText('lang-switch', '简体中文');
    }
  }

  /**
   * Runs `fn(lang, width)` at 1280×800 and 1920×1080, first in English then in Chinese (the
   * header's switch, the window resized: one app start for all four), and leaves the app
   * English at 1280×800. The UI must be English when called.
   */
  async forEachLangAndSize(fn) {
    for (const lang of ['en', 'zh']) {
      if (lang === 'zh') {
        await this.clickTestId('lang-switch');
        await this.waitForText('lang-switch', 'English');
      }
      for (const [width, height] of [
        [1280, 800],
        [1920, 1080],
      ]) {
        await this.driver.manage().window().setRect({ width, height });
        await fn(lang, width);
      }
    }
    await this.clickTestId('lang-switch');
    await this.waitForText('lang-switch', '简体中文');
    await this.driver.manage().window().setRect({ width: 1280, height: 800 });
  }

  /**
   * English words on a Chinese screen: the page's visible text with identifiers taken out
   * (anything with a digit, '-', '_', '.', '/', '@' or ':', all-capital codes such as CNY or
   * CSV, product names, and the `data` words the screen shows as they are stored: usernames,
   * account names, the provider's own status words). An empty list means the screen is
   * Chinese all the way.
   */
  async englishWords(data = []) {
    const text = await this.driver.executeScript('return document.body.innerText');
    // 'English' is the language switch's own label, 'Esc' a key's name.
    const allowed = new Set(['Paydesk', 'Stripe', 'Excel', 'PaymentIntent', 'English', 'Esc', ...data]);
    return [
      ...new Set(
        text
          .split(/\s+/)
          .filter((tok) => !/[0-9\-_./@:]/.test(tok))
          .flatMap((tok) => tok.match(/[A-Za-z]{3,}/g) ?? [])
          .filter((w) => !/^[A-Z]+$/.test(w) && !allowed.has(w)),
      ),
    ];
  }

  /**
   * Calls a Tauri command directly from the page, bypassing the UI. Resolves to
   * `{ ok: value }` or `{ err: AppError }`.
   */
  async invoke(cmd, args = {}) {
    return this.driver.executeAsyncScript(
      `const done = arguments[arguments.length - 1];
       window.__TAURI_INTERNALS__.invoke(arguments[0], arguments[1]).then(
         (v) => done({ ok: v === undefined ? null : v }),
         (e) => done({ err: typeof e === 'string' ? (() => { try { return JSON.parse(e); } catch { return { kind: 'string', message: e }; } })() : e }),
       );`,
      cmd,
      args,
    );
  }

  async pageSource() {
    return this.driver.getPageSource();
  }

  /** Saves a screenshot of the window as screenshots/<name>.png (overwritten each run). */
  async screenshot(name) {
    fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
    const file = path.join(SCREENSHOT_DIR, `${name}.png`);
    // Let the last DOM change be painted (two animation frames) before capturing.
    await this.driver
      .executeAsyncScript(
        'const done = arguments[arguments.length - 1]; requestAnimationFrame(() => requestAnimationFrame(() => done(true)));',
      )
      .catch(() => {});
    fs.writeFileSync(file, Buffer.from(await this.driver.takeScreenshot(), 'base64'));
    return file;
  }

  /** Screenshot to screenshots/failure-<name>.png, for after a failed test (never throws). */
  async failureShot(name) {
    try {
      return await this.screenshot(`failure-${name}`);
    } catch {
      return null;
    }
  }
}

/**
 * Wraps node:test's `it` callback so a failure leaves a screenshot behind:
 * `it('x', shotOnFailure(() => app, 'x', async () => {...}))`.
 */
export function shotOnFailure(getSession, name, fn) {
  return async (t) => {
    try {
      await fn(t);
    } catch (e) {
      const s = getSession();
      const file = s ? await s.failureShot(name) : null;
      if (file) e.message += `\n(screenshot: ${path.relative(REPO, file)})`;
      throw e;
    }
  };
}

/** YYYY-MM-DD of "yesterday" as the app computes it (app_info.yesterday), read through the page. */
export async function appYesterday(s) {
  const r = await s.invoke('app_info');
  if (!r.ok) throw new Error(`app_info failed: ${JSON.stringify(r.err)}`);
  return r.ok.yesterday;
}

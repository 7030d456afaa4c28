import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { bundlePage } from './bundle.js';
import { PAGE_METHODS } from './routes.js';
import { servePage, type PageServerOptions } from './server.js';

/** Debian's Chromium (`.ci/run` installs it); playwright-core drives it and downloads no browser. */
export const CHROMIUM_PATHS = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

export interface BrowserCheckOptions extends Omit<PageServerOptions, 'port'> {
  task: string;
  user: number;
  /** The method whose outputs are returned (default CoPe). */
  method?: string;
  /** Also generate the user's first query with the three methods, through the page's buttons' code. */
  generate?: boolean;
  /** The wasm backend's threads in the page. */
  threads?: number;
  /** Gives up after this long (default 20 minutes). */
  timeoutMs?: number;
  /** Saves a screenshot of the whole page there at the end. */
  screenshot?: string;
  /** Each console line of the page (for diagnostics). */
  onConsole?: (line: string) => void;
}

export interface BrowserCheckResult {
  outputs: Array<{ id: string; output: string }>;
  /** The three methods' outputs for the first query, with `generate`. */
  generated?: Record<string, string>;
  /** The page's OPPU training tokens/s per step. */
  sftTokensPerSecond: number[];
  /** Seconds the page took to personalize the user (all per-user stages). */
  seconds: number;
  /** The three output panes' text as the page shows them. */
  shown: Record<string, string>;
}

/**
 * Runs the page unattended in headless Chromium for one user of a task (`?check=1`): bundles it, serves it, waits
 * for the worker to personalize the user and returns the method's outputs for the user's queries.
 */
export async function browserCheck(opts: BrowserCheckOptions): Promise<BrowserCheckResult> {
  const executablePath = CHROMIUM_PATHS.find((p) => existsSync(p));
  if (!executablePath) throw new Error(`no Chromium at ${CHROMIUM_PATHS.join(' or ')} (Debian: apt-get install chromium)`);
  // A bundle of its own: checks running side by side never read each other's half-written files.
  const page = opts.page ?? (await mkdtemp(path.join(tmpdir(), 'cope-page-')));
  await bundlePage(page);
  const server = await servePage({ ...opts, page });
  const browser = await chromium.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1150, height: 900 } });
    page.on('console', (m) => opts.onConsole?.(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => opts.onConsole?.(`pageerror: ${e.message}`));
    const q = new URLSearchParams({ check: '1', task: opts.task, user: String(opts.user), method: opts.method ?? 'CoPe', threads: String(opts.threads ?? 1), generate: opts.generate ? '1' : '0' });
    await page.goto(`${server.url}?${q}`);
    await page.waitForFunction(() => (globalThis as unknown as { copeCheck?: { done: boolean } }).copeCheck?.done === true, undefined, { timeout: opts.timeoutMs ?? 20 * 60_000, polling: 250 });
    const state = await page.evaluate(() => (globalThis as unknown as { copeCheck: Record<string, unknown> }).copeCheck);
    if (state.error) throw new Error(`the page failed: ${String(state.error)}`);
    // Runs in the page (this package's lib has no DOM types).
    const shown = await page.evaluate((methods) => {
      const doc = (globalThis as unknown as { document: { getElementById(id: string): { textContent: string | null } | null } }).document;
      return Object.fromEntries(methods.map((m) => [m, doc.getElementById(`out-${m}`)?.textContent ?? '']));
    }, [...PAGE_METHODS]);
    if (opts.screenshot) await page.screenshot({ path: opts.screenshot, fullPage: true });
    return {
      outputs: state.outputs as BrowserCheckResult['outputs'],
      generated: state.generated as Record<string, string> | undefined,
      sftTokensPerSecond: state.sftTokensPerSecond as number[],
      seconds: state.seconds as number,
      shown,
    };
  } finally {
    await browser.close();
    await server.close();
    if (!opts.page) await rm(page, { recursive: true, force: true });
  }
}

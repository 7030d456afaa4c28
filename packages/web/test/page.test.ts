import { existsSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { tempDir } from '#testing/temp';
import { checkRunConfig, runPipeline } from '@cope/pipeline';
import { CHROMIUM_PATHS, bundlePage, servePage } from '@cope/web';

const root = path.resolve(__dirname, '..', '..', '..');
const chromiumPath = CHROMIUM_PATHS.find((p) => existsSync(p));

/**
 * The page as a person uses it: the buttons, a record typed in place of an embedded user's, the three panes. Runs
 * on the built packages (`pnpm test` builds first) and Debian's Chromium (.ci/run installs it).
 */
describe('the page, driven by its buttons', () => {
  let browser: Browser;
  let server: { url: string; close(): Promise<void> };
  let page: Page;

  beforeAll(async () => {
    if (!chromiumPath) {
      if (process.env.CI) throw new Error('chromium is not installed (.ci/run installs it)');
      return;
    }
    const checked = checkRunConfig({
      dataDir: path.join(root, 'data', 'embedded'), model: path.join(root, 'data', 'models', 'cope-tiny'), runDir: tempDir('cope-page-run-'),
      workers: 1, backend: 'wasm', tam: { epochs: 1 }, oppu: { epochs: 1 }, dpo: { epochs: 1 }, negatives: { n: 2, maxNewTokens: 8 }, decode: { maxNewTokens: 8 },
    });
    if ('issue' in checked) throw new Error(checked.issue.message);
    const { config } = checked;
    await runPipeline(config, ['tam'], { event: () => undefined });
    const bundle = await bundlePage(tempDir('cope-page-bundle-'));
    server = await servePage({ model: config.model, data: config.dataDir, run: config.runDir, page: bundle });
    browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
    page = await browser.newPage();
    await page.goto(`${server.url}?task=news_headline`);
    await page.waitForFunction(() => !(globalThis as any).document.getElementById('personalize').disabled, undefined, { timeout: 120_000 });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const record = () => page.$eval('#record', (e) => JSON.parse((e as any).value));
  const setRecord = (r: unknown) => page.$eval('#record', (e, v) => ((e as any).value = v), JSON.stringify(r));

  test('a typed record with a missing field is refused, naming the field, before any training', async () => {
    if (!chromiumPath) return;
    const r = await record();
    delete r.profile[2].title;
    await setRecord(r);
    await page.click('#personalize');
    await page.waitForFunction(() => (globalThis as any).document.getElementById('error').textContent !== '', undefined, { timeout: 60_000 });
    expect(await page.textContent('#error')).toMatch(/the typed user: \[0\]\.profile\[2\]\.title/);
    expect(await page.$eval('#progress', (e) => (e as any).value)).toBe(0);
  }, 120_000);

  test('a typed person is personalized with a progress bar and loss plot; OPPU, OPPU+CD and CoPe fill their panes', async () => {
    if (!chromiumPath) return;
    await page.selectOption('#user', '1');
    const r = await record();
    r.profile[0].title = 'My Own Headline About The Park';
    await setRecord(r);
    await page.click('#personalize');
    await page.waitForFunction(() => !(globalThis as any).document.getElementById('generate').disabled, undefined, { timeout: 240_000 });
    expect(await page.textContent('#error')).toBe('');
    expect(await page.textContent('#stage')).toMatch(/^personalized in \d+\.\d s$/);
    const bar = await page.$eval('#progress', (e) => [(e as any).value, (e as any).max]);
    expect(bar[0]).toBe(bar[1]);
    // The loss plot drew something: the canvas is no longer blank.
    expect(await page.$eval('#loss', (c) => (c as any).getContext('2d').getImageData(0, 0, (c as any).width, (c as any).height).data.some((v: number) => v !== 0))).toBe(true);
    await page.click('#generate');
    await page.waitForFunction(() => !(globalThis as any).document.getElementById('generate').disabled, undefined, { timeout: 120_000 });
    for (const m of ['OPPU', 'OPPU+CD', 'CoPe']) expect((await page.textContent(`[id="out-${m}"]`))!.length).toBeGreaterThan(0);
    expect(await page.isEnabled('#download')).toBe(true);
  }, 300_000);
});

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from '#testing/temp';
import { readTargetUsers } from '@cope/data';
import { RunStore, methodSettingsSchema } from '@cope/pipeline';
import { ROUTES, runMethodSettings, servePage } from '@cope/web';

const root = path.resolve(__dirname, '..', '..', '..');
const model = path.join(root, 'data', 'models', 'cope-tiny');
const data = path.join(root, 'data', 'embedded');

/** A run folder as `cope run` leaves it, as far as the page reads it: the manifest and the task's TAM. */
function runFolder(config: Record<string, unknown>): string {
  const run = tempDir('cope-web-run-');
  writeFileSync(path.join(run, 'manifest.json'), JSON.stringify({ invocations: [{ config: { tasks: ['news_headline'], seed: 1 } }, { config, backend: 'wasm' }] }));
  const tam = new RunStore(run).task('news_headline').layout.tam;
  mkdirSync(tam, { recursive: true });
  writeFileSync(path.join(tam, 'adapter_config.json'), '{"r": 16}\n');
  return run;
}

describe('the page server', () => {
  const config = { tasks: ['news_headline'], dataDir: data, model, runDir: '/x', seed: 7, workers: 2, oppu: { learningRate: 0.003, epochs: 4 }, decode: { maxNewTokens: 160 } };
  let server: { url: string; close(): Promise<void> };
  const page = tempDir('cope-web-page-');
  writeFileSync(path.join(page, 'index.html'), '<!doctype html><title>t</title>');
  beforeAll(async () => {
    server = await servePage({ model, data, run: runFolder(config), page });
  });
  afterAll(() => server.close());
  const get = (p: string) => fetch(new URL(p, server.url));

  test('every response carries the cross-origin isolation headers the wasm threads need', async () => {
    for (const p of ['/', ROUTES.settings, `${ROUTES.model}config.json`, `${ROUTES.wasm}tfjs-backend-wasm-simd.wasm`, '/missing.js']) {
      const r = await get(p);
      expect([p, r.headers.get('cross-origin-opener-policy'), r.headers.get('cross-origin-embedder-policy')]).toEqual([p, 'same-origin', 'require-corp']);
    }
    expect((await get(`${ROUTES.wasm}tfjs-backend-wasm-simd.wasm`)).headers.get('content-type')).toBe('application/wasm');
  });

  test('the settings are the method settings of the run folder\'s last invocation', async () => {
    const settings = await (await get(ROUTES.settings)).json();
    expect(settings).toEqual(methodSettingsSchema.parse({ seed: 7, oppu: config.oppu, decode: config.decode }));
    expect(settings).not.toHaveProperty('workers');
  });

  test('model files, the task\'s TAM and its validated users', async () => {
    expect(Buffer.from(await (await get(`${ROUTES.model}model.safetensors`)).arrayBuffer()).equals(readFileSync(path.join(model, 'model.safetensors')))).toBe(true);
    expect(await (await get(`${ROUTES.tam}news_headline/adapter_config.json`)).text()).toBe('{"r": 16}\n');
    expect(await (await get(`${ROUTES.users}news_headline`)).json()).toEqual(JSON.parse(JSON.stringify((await readTargetUsers(path.join(data, 'news_headline'), 'news_headline')).users)));
  });

  test('nothing outside the served folders, and unknown tasks are named', async () => {
    for (const p of [`${ROUTES.model}..%2F..%2F..%2Fpackage.json`, `${ROUTES.tam}news_headline/..%2F..%2F..%2Fmanifest.json`, '/..%2Fpackage.json']) expect([p, (await get(p)).status]).toEqual([p, 404]);
    const r = await get(`${ROUTES.users}movie_tagging`);
    expect(r.status).toBe(404);
    expect(await r.text()).toMatch(/unknown task "movie_tagging" \(expected one of news_headline, /);
  });
});

test('a folder without a run says how to make one', async () => {
  const dir = tempDir('cope-web-norun-');
  await expect(runMethodSettings(dir)).rejects.toThrow(new RegExp(`${dir}/manifest.json: no run here .*pnpm cope run`));
});

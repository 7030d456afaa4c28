import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fixture } from '#testing';
import { runCli } from '@cope/cli';
import { CHROMIUM_PATHS } from '@cope/web';
import { tempDir } from '#testing/temp';

const root = path.resolve(__dirname, '..', '..', '..');
const embeddedModel = path.join(root, 'data', 'models', 'cope-tiny');
const embeddedData = path.join(root, 'data', 'embedded');
const bin = path.join(root, 'packages', 'cli', 'dist', 'bin.js');

/** A cut-down embedded run: 2 users, one epoch per stage, short generations. */
const config = {
  tasks: ['news_headline'],
  maxUsers: 2,
  // In-process runs use one worker: jest runs the TypeScript sources, worker threads need the built CLI.
  workers: 1,
  tam: { learningRate: 0.001, epochs: 1, checkpointEvery: 5 },
  oppu: { learningRate: 0.003, epochs: 1, checkpointEvery: 3 },
  dpo: { learningRate: 0.0005, beta: 0.1, epochs: 1 },
  negatives: { n: 2, maxNewTokens: 8 },
  decode: { maxNewTokens: 12 },
};

function writeConfig(dir: string, extra: Record<string, unknown> = {}): string {
  const file = path.join(dir, 'config.json');
  writeFileSync(file, JSON.stringify({ ...config, dataDir: embeddedData, model: embeddedModel, backend: 'wasm', ...extra }));
  return file;
}

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(args, { out: (t) => (out += t + '\n'), err: (t) => (err += t + '\n') });
  return { code, out, err };
}

/** Every file a finished run produces that must not depend on interruptions or sharding. */
function outputsOf(runDir: string): Record<string, string> {
  const files: Record<string, string> = {};
  const outDir = path.join(runDir, 'output', 'news_headline');
  for (const f of readdirSync(outDir).filter((f) => f.endsWith('.json'))) files[`output/${f}`] = readFileSync(path.join(outDir, f), 'utf8');
  for (const f of ['user_top_100_history_with_pseudo_negatives.json', 'user_top_100_history_with_pseudo_negatives_max.json']) {
    files[`data/${f}`] = readFileSync(path.join(runDir, 'data', 'news_headline', f), 'utf8');
  }
  for (const stage of ['OPPU_SFT', 'OPPU_SFT+DPO']) for (const u of ['user_0', 'user_1']) {
    files[`${stage}/${u}`] = readFileSync(path.join(runDir, 'ckpt', stage, 'news_headline', u, 'adapter_model.safetensors')).toString('base64');
  }
  return files;
}

const tmp = () => tempDir('cope-run-');

/** A copy of the embedded data in `dir`/data whose target users of `task` `edit` changed. */
function dataWithUsers(dir: string, task: string, edit: (users: any[]) => void): { data: string; file: string; users: any[] } {
  const data = path.join(dir, 'data');
  cpSync(embeddedData, data, { recursive: true });
  const file = path.join(data, task, 'user_top_100_history.json');
  const users = JSON.parse(readFileSync(file, 'utf8'));
  edit(users);
  writeFileSync(file, JSON.stringify(users));
  return { data, file, users };
}
let reference: string;

describe('cope run on the embedded data', () => {
  beforeAll(() => {
    if (!existsSync(path.join(embeddedModel, 'model.safetensors'))) throw new Error(`${embeddedModel}: the embedded model is missing`);
  });

  test('runs every stage and writes CoPe\'s layout, the manifest and the metrics table', async () => {
    const dir = tmp();
    reference = path.join(dir, 'run');
    const r = await run(['run', '--config', writeConfig(dir), '--run', reference, '--json']);
    expect(r.err).not.toMatch(/error:/);
    expect(r.code).toBe(0);
    for (const m of ['TAM', 'OPPU', 'OPPU+CD', 'OPPU+DPO', 'CoPe']) {
      expect(r.out).toMatch(new RegExp(`${m.replace('+', '\\+')}\\s+\\d\\.\\d{4}\\s+\\d\\.\\d{4}\\s+\\d\\.\\d{4}`));
    }
    for (const p of ['ckpt/TAM/news_headline/adapter_config.json', 'ckpt/OPPU_SFT/news_headline/user_1/adapter_model.safetensors', 'ckpt/OPPU_SFT+DPO/news_headline/user_0/metrics.jsonl', 'output/news_headline/CoPe.json', 'data/news_headline/user_top_100_history_with_pseudo_negatives_max.json']) {
      expect(existsSync(path.join(reference, p))).toBe(true);
    }
    const [manifest] = JSON.parse(readFileSync(path.join(reference, 'manifest.json'), 'utf8')).invocations;
    expect(manifest.backend).toBe('wasm');
    expect(manifest.versions['@cope/model']).toBe('0.1.0');
    expect(manifest.config.oppu.learningRate).toBe(0.003);
    const cope = JSON.parse(readFileSync(path.join(reference, 'output', 'news_headline', 'CoPe.json'), 'utf8'));
    expect(cope.task).toBe('LaMP_4');
    expect(cope.golds).toHaveLength(10);
    expect(cope.results).toEqual({ 'rouge-1': expect.any(Number), 'rouge-L': expect.any(Number), meteor: expect.any(Number) });
    // A second run finds everything done and only re-evaluates; its config names neither data nor model, which
    // default to the embedded ones as the flags do.
    const { dataDir: _d, model: _m, ...rest } = JSON.parse(readFileSync(writeConfig(dir), 'utf8'));
    const withoutPaths = path.join(dir, 'no-paths.json');
    writeFileSync(withoutPaths, JSON.stringify(rest));
    const again = await run(['run', '--config', withoutPaths, '--run', reference, '--json']);
    expect(again.err).not.toMatch(/"kind":"step"|error:/);
    expect(again.code).toBe(0);
    // Another seed would mix results made with two settings: refused before any work, naming the key.
    const before = readFileSync(path.join(reference, 'output', 'news_headline', 'CoPe.json'), 'utf8');
    const otherSeed = await run(['run', '--config', writeConfig(dir), '--run', reference, '--seed', '7', '--json']);
    expect(otherSeed.code).not.toBe(0);
    expect(otherSeed.err).toMatch(/made with other settings:[\s\S]*news_headline tam: seed: was \d+, now 7[\s\S]*--redo/);
    expect(readFileSync(path.join(reference, 'output', 'news_headline', 'CoPe.json'), 'utf8')).toBe(before);
    expect(JSON.parse(readFileSync(path.join(reference, 'manifest.json'), 'utf8')).invocations).toHaveLength(2);
    // Decoding one method again re-evaluates it without dropping the other methods from results.json.
    const one = await run(['decode', '--config', writeConfig(dir), '--run', reference, '--decoding', 'contrastive', '--adapter-stage', 'sft', '--json']);
    expect(one.out).toMatch(/OPPU\+CD/);
    const results = JSON.parse(readFileSync(path.join(reference, 'output', 'news_headline', 'results.json'), 'utf8'));
    expect(results.results.map((m: { method: string }) => m.method)).toEqual(['TAM', 'OPPU', 'OPPU+CD', 'OPPU+DPO', 'CoPe']);
  }, 600_000);

  test('cope generate --task decodes a query by hand exactly as the run did (CoPe: contrastive with the TAM model as amateur; OPPU: greedy)', async () => {
    const users = JSON.parse(readFileSync(path.join(embeddedData, 'news_headline', 'user_top_100_history.json'), 'utf8')) as Array<{ query: Array<{ id: string; input: string }> }>;
    const ckpt = path.join(reference, 'ckpt');
    for (const [method, stage, decoding] of [['CoPe', 'OPPU_SFT+DPO', 'contrastive'], ['OPPU', 'OPPU_SFT', 'greedy']]) {
      const golds = JSON.parse(readFileSync(path.join(reference, 'output', 'news_headline', `${method}.json`), 'utf8')).golds as Array<{ id: string; output: string }>;
      for (const u of [0, 1]) {
        const q = users[u].query[u + 1];
        const r = await run(['generate', '--model', embeddedModel, '--base-adapter', path.join(ckpt, 'TAM', 'news_headline'), '--adapter', path.join(ckpt, stage, 'news_headline', `user_${u}`),
          '--decoding', decoding, '--task', 'news_headline', '--prompt', q.input, '--max-new-tokens', String(config.decode.maxNewTokens), '--backend', 'wasm']);
        expect(r.err).toBe('');
        expect(JSON.parse(r.out).text).toBe(golds.find((g) => g.id === q.id)!.output);
      }
    }
    // All of user 1's queries from a prompts file, batched as the run batches them: the run's CoPe outputs, by id.
    const file = path.join(tmp(), 'queries.jsonl');
    writeFileSync(file, users[1].query.map((q) => JSON.stringify({ id: q.id, prompt: q.input })).join('\n'));
    const batch = await run(['generate', '--model', embeddedModel, '--base-adapter', path.join(ckpt, 'TAM', 'news_headline'), '--adapter', path.join(ckpt, 'OPPU_SFT+DPO', 'news_headline', 'user_1'),
      '--decoding', 'contrastive', '--task', 'news_headline', '--prompts-file', file, '--max-new-tokens', String(config.decode.maxNewTokens), '--backend', 'wasm']);
    const copeGolds = JSON.parse(readFileSync(path.join(reference, 'output', 'news_headline', 'CoPe.json'), 'utf8')).golds as Array<{ id: string; output: string }>;
    const got = batch.out.trim().split('\n').map((l) => JSON.parse(l) as { id: string; text: string });
    expect(got.map((g) => g.id)).toEqual(users[1].query.map((q) => q.id));
    for (const g of got) expect(g.text).toBe(copeGolds.find((c) => c.id === g.id)!.output);
    // Without --task the same text is a bare prompt: another continuation.
    const q = users[0].query[1];
    const bare = await run(['generate', '--model', embeddedModel, '--prompt', q.input, '--max-new-tokens', '12', '--backend', 'wasm']);
    const tam = JSON.parse(readFileSync(path.join(reference, 'output', 'news_headline', 'TAM.json'), 'utf8')).golds.find((g: { id: string }) => g.id === q.id).output;
    expect(JSON.parse(bare.out).text.trim()).not.toBe(tam);
    const wrapped = await run(['generate', '--model', embeddedModel, '--base-adapter', path.join(ckpt, 'TAM', 'news_headline'), '--task', 'news_headline', '--prompt', q.input, '--max-new-tokens', '12', '--backend', 'wasm']);
    expect(JSON.parse(wrapped.out).text).toBe(tam);
  }, 120_000);

  test('--sampling-runs: seeded runs per method, evaluated per run and as their mean, next to the greedy results', async () => {
    const copies = [tmp(), tmp()].map((d) => {
      cpSync(reference, path.join(d, 'run'), { recursive: true });
      return d;
    });
    for (const d of copies) {
      // The flag sets the number of runs; the config's temperature stays (objects merge key by key).
      const cfg = writeConfig(d, { decode: { ...config.decode, sampling: { temperature: 1 } } });
      const r = await run(['decode', '--config', cfg, '--run', path.join(d, 'run'), '--decoding', 'greedy', '--adapter-stage', 'sft', '--sampling-runs', '2', '--json']);
      expect(r.err).not.toMatch(/error:/);
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/OPPU-sampling-mean\s+\d\.\d{4}/);
    }
    const file = (d: string, name: string) => readFileSync(path.join(d, 'run', 'output', 'news_headline', `${name}.json`), 'utf8');
    const outputs = (d: string, name: string) => JSON.parse(file(d, name)).golds.map((g: { output: string }) => g.output);
    // Reproducible, the two runs differ, and greedy OPPU is untouched.
    for (const n of [1, 2]) expect(file(copies[0], `OPPU-sampling-run_${n}`)).toBe(file(copies[1], `OPPU-sampling-run_${n}`));
    expect(outputs(copies[0], 'OPPU-sampling-run_1')).not.toEqual(outputs(copies[0], 'OPPU-sampling-run_2'));
    expect(file(copies[0], 'OPPU')).toBe(readFileSync(path.join(reference, 'output', 'news_headline', 'OPPU.json'), 'utf8'));
    const results = JSON.parse(file(copies[0], 'results')).results as Array<{ method: string; 'rouge-L': number; perUser: Array<{ 'rouge-L': number }> }>;
    expect(results.map((r) => r.method)).toEqual(['TAM', 'OPPU', 'OPPU-sampling-run_1', 'OPPU-sampling-run_2', 'OPPU-sampling-mean', 'OPPU+CD', 'OPPU+DPO', 'CoPe']);
    const [r1, r2, mean] = ['OPPU-sampling-run_1', 'OPPU-sampling-run_2', 'OPPU-sampling-mean'].map((m) => results.find((r) => r.method === m)!);
    expect(mean['rouge-L']).toBeCloseTo((r1['rouge-L'] + r2['rouge-L']) / 2, 12);
    expect(mean.perUser[1]['rouge-L']).toBeCloseTo((r1.perUser[1]['rouge-L'] + r2.perUser[1]['rouge-L']) / 2, 12);
  }, 600_000);

  // These runs use two backend threads (tfjs's threaded wasm build) against the single-threaded reference.
  test('kill -9 at any moment and resume, with two backend threads: nothing finished is lost, outputs equal the uninterrupted single-threaded run', async () => {
    expect(existsSync(bin)).toBe(true);
    const dir = tmp();
    const runDir = path.join(dir, 'run');
    const cfg = writeConfig(dir);
    // Kill twice, after different amounts of progress, then let it finish.
    for (const waitFor of ['"stage":"sft","task":"news_headline","user":0,"kind":"step","step":2', '"stage":"dpo"']) {
      await new Promise<void>((resolve, reject) => {
        const child = spawn(process.execPath, [bin, 'run', '--config', cfg, '--run', runDir, '--threads', '2', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
        let log = '';
        child.stderr.on('data', (d) => {
          log += d;
          if (log.includes(waitFor)) child.kill('SIGKILL');
        });
        child.on('exit', (code, signal) => (signal === 'SIGKILL' || code === 0 ? resolve() : reject(new Error(`exit ${code}: ${log.slice(-500)}`))));
      });
    }
    const done = spawnSync(process.execPath, [bin, 'run', '--config', cfg, '--run', runDir, '--threads', '2', '--json'], { encoding: 'utf8' });
    expect(done.status).toBe(0);
    expect(done.stderr).toMatch(/backend wasm \(2 threads\)/);
    expect(outputsOf(runDir)).toEqual(outputsOf(reference));
  }, 600_000);

  test('--workers 2 (worker threads, each with its own backend) gives the single-process outputs', () => {
    const dir = tmp();
    const runDir = path.join(dir, 'run');
    const r = spawnSync(process.execPath, [bin, 'run', '--config', writeConfig(dir), '--run', runDir, '--workers', '2', '--json'], { encoding: 'utf8' });
    expect(r.stderr).not.toMatch(/error:/);
    expect(r.status).toBe(0);
    // Both users' stages ran, reported through the workers.
    expect(r.stderr).toMatch(/"stage":"sft","task":"news_headline","user":0/);
    expect(r.stderr).toMatch(/"stage":"sft","task":"news_headline","user":1/);
    expect(outputsOf(runDir)).toEqual(outputsOf(reference));
  }, 600_000);

  test('the native backend: a run is the same run to run and with --workers 2 (one backend per worker thread)', () => {
    const dir = tmp();
    const cfg = writeConfig(dir, { backend: 'native' });
    const runs = [['one', '1'], ['two', '2']].map(([name, workers]) => {
      const runDir = path.join(dir, name);
      const r = spawnSync(process.execPath, [bin, 'run', '--config', cfg, '--run', runDir, '--workers', workers, '--json'], { encoding: 'utf8' });
      expect(r.stderr).not.toMatch(/error:/);
      expect(r.status).toBe(0);
      expect(r.stderr).toMatch(/backend native/);
      return runDir;
    });
    const tam = (runDir: string) => readFileSync(path.join(runDir, 'ckpt', 'TAM', 'news_headline', 'adapter_model.safetensors')).toString('base64');
    expect(tam(runs[1])).toBe(tam(runs[0]));
    expect(outputsOf(runs[1])).toEqual(outputsOf(runs[0]));
  }, 600_000);

  test('several tasks with --workers 2: one pool of workers trains the TAMs side by side, then each task\'s users, as one process would', async () => {
    const dir = tmp();
    const cfg = writeConfig(dir, { tasks: ['news_headline', 'scholarly_title'] });
    const tamOf = (runDir: string, task: string) => readFileSync(path.join(runDir, 'ckpt', 'TAM', task, 'adapter_model.safetensors')).toString('base64');
    const parallel = path.join(dir, 'parallel');
    const r = spawnSync(process.execPath, [bin, 'run', '--config', cfg, '--run', parallel, '--workers', '2', '--json'], { encoding: 'utf8' });
    expect(r.stderr).not.toMatch(/error:/);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/TAM, sft, negatives, score, dpo, decode of news_headline, scholarly_title in 2 worker threads \(2 \+ 2 users; backend wasm, 1 thread each\)/);
    // Both TAMs started before either finished: they ran side by side; every user's stages ran after its TAM.
    const events = r.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { stage: string; task: string; kind: string });
    const tam = events.filter((e) => e.stage === 'tam' && (e.kind === 'start' || e.kind === 'done')).map((e) => e.kind);
    expect(tam).toEqual(['start', 'start', 'done', 'done']);
    for (const task of ['news_headline', 'scholarly_title']) {
      const tamDone = events.findIndex((e) => e.stage === 'tam' && e.task === task && e.kind === 'done');
      const firstUser = events.findIndex((e) => e.stage === 'sft' && e.task === task);
      expect(firstUser).toBeGreaterThan(tamDone);
    }
    expect(outputsOf(parallel)).toEqual(outputsOf(reference));
    expect(r.stdout).toMatch(/scholarly_title\n  method/);
    const single = path.join(dir, 'single');
    const s = await run(['tam', '--config', cfg, '--run', single, '--json']);
    expect(s.code).toBe(0);
    for (const task of ['news_headline', 'scholarly_title']) expect(tamOf(parallel, task)).toBe(tamOf(single, task));
    expect(tamOf(single, 'news_headline')).toBe(tamOf(reference, 'news_headline'));
  }, 600_000);

  test('shards 0/2 and 1/2 merged equal a single run', async () => {
    const dir = tmp();
    const cfg = writeConfig(dir);
    for (const s of ['0/2', '1/2']) {
      const r = await run(['run', '--config', cfg, '--run', path.join(dir, `shard${s[0]}`), '--shard', s, '--json']);
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/not complete in this run folder/);
    }
    const m = await run(['merge', '--config', cfg, '--run', path.join(dir, 'merged'), path.join(dir, 'shard0'), path.join(dir, 'shard1'), '--json']);
    expect(m.code).toBe(0);
    expect(outputsOf(path.join(dir, 'merged'))).toEqual(outputsOf(reference));
  }, 600_000);

  test('the report renders in headless Chromium without errors', async () => {
    const out = path.join(tmp(), 'report.html');
    const r = await run(['report', '--run', reference, '--out', out]);
    expect(r.code).toBe(0);
    const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
    if (!chromium) {
      if (process.env.CI) throw new Error('chromium is not installed (.ci/run installs it)');
      return;
    }
    const dom = spawnSync(chromium, ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', `--user-data-dir=${tmp()}`, '--dump-dom', `file://${out}`], { encoding: 'utf8', timeout: 60_000 });
    expect(dom.stdout).toMatch(/data-rendered="2"/);
    expect(dom.stdout).not.toMatch(/data-errors=/);
    expect(dom.stdout).toMatch(/<td>CoPe<\/td>/);
    // Bold (class best) is the best shown value of each column, ties included.
    const results = JSON.parse(readFileSync(path.join(reference, 'output', 'news_headline', 'results.json'), 'utf8')).results as Array<Record<string, any>>;
    const rows = [...dom.stdout.matchAll(/<tr><td>([^<]+)<\/td>(.*?)<\/tr>/g)].map((m) => ({ method: m[1], cells: [...m[2].matchAll(/<td( class="best")?>([^<]+)<\/td>/g)].map((c) => ({ best: !!c[1], text: c[2] })) }));
    expect(rows.map((r) => r.method)).toEqual(results.map((r) => r.method));
    ['rouge-1', 'rouge-L', 'meteor'].forEach((k, col) => {
      const top = Math.max(...results.map((r) => Number(r[k].toFixed(4))));
      expect(rows.map((r) => r.cells[col].best)).toEqual(results.map((r) => Number(r[k].toFixed(4)) === top));
    });
    // The gain chart's legend names its three colours; each user's bar has its sign's colour and can be seen.
    const attr = (name: string) => JSON.parse(new RegExp(`${name}="([^"]*)"`).exec(dom.stdout)![1].replace(/&quot;/g, '"'));
    expect(attr('data-legend')).toEqual([['CoPe better', '#2ca02c'], ['CoPe worse', '#d62728'], ['tie', '#888888']]);
    const byMethod = (m: string) => results.find((r) => r.method === m)!.perUser as Array<Record<string, number>>;
    const gains = byMethod('CoPe').map((u, i) => u['rouge-L'] - byMethod('OPPU')[i]['rouge-L']);
    const bars = attr('data-bars') as Array<[string, number]>;
    expect(bars.map((b) => b[0])).toEqual(gains.map((g) => (g > 0 ? '#2ca02c' : g < 0 ? '#d62728' : '#888888')));
    for (const [, height] of bars) expect(height).toBeGreaterThanOrEqual(3);
  }, 120_000);

  test('the browser page personalizes a user exactly as the run did, and shows OPPU, OPPU+CD and CoPe side by side', async () => {
    if (!CHROMIUM_PATHS.some((p) => existsSync(p))) {
      if (process.env.CI) throw new Error('chromium is not installed (.ci/run installs it)');
      return;
    }
    const r = await run(['browser-check', '--config', writeConfig(tmp()), '--run', reference, '--user', '1', '--generate']);
    expect(r.err).toMatch(/identical to .*CoPe\.json for user 1's 5 queries/);
    expect(r.code).toBe(0);
    // Independently of the check's own comparison: user 1's queries, in order, against the run's predictions file.
    const queries = (JSON.parse(readFileSync(path.join(embeddedData, 'news_headline', 'user_top_100_history.json'), 'utf8')) as Array<{ query: Array<{ id: string }> }>)[1].query;
    const golds = new Map((JSON.parse(readFileSync(path.join(reference, 'output', 'news_headline', 'CoPe.json'), 'utf8')).golds as Array<{ id: string; output: string }>).map((g) => [g.id, g.output]));
    const lines = r.out.trim().split('\n').map((l) => JSON.parse(l) as { id: string; output: string });
    expect(lines.map((l) => l.id)).toEqual(queries.map((q) => q.id));
    expect(lines.map((l) => l.output)).toEqual(queries.map((q) => golds.get(q.id)));
    // The page shows what the worker generated for the first query with each method (run outputs of OPPU and CoPe).
    const { generated, shown } = JSON.parse(r.err.split('\n').find((l) => l.startsWith('{"generated"'))!);
    expect(Object.keys(shown)).toEqual(['OPPU', 'OPPU+CD', 'CoPe']);
    expect(shown).toEqual(generated);
    for (const m of ['OPPU', 'CoPe']) {
      const file = JSON.parse(readFileSync(path.join(reference, 'output', 'news_headline', `${m}.json`), 'utf8')).golds as Array<{ id: string; output: string }>;
      expect(shown[m]).toBe(file.find((g) => g.id === queries[0].id)!.output);
    }
    expect(String(shown['OPPU+CD']).length).toBeGreaterThan(0);
  }, 300_000);
});

describe('pipeline bad input gets a clear error', () => {
  test.each([
    [['run', '--data', '/nope', '--run', '/tmp/x'], /\/nope: data folder not found/],
    [['run', '--task', 'movie_tagging'], /--task: unknown "movie_tagging"/],
    [['run', '--config', '/nope.yaml'], /\/nope.yaml: config file not found/],
    [['decode', '--sampling-runs', '0', '--run', '/tmp/x'], /command-line flags: decode.sampling.runs: Too small: expected number to be >0 \(got 0\)/],
  ])('%j', async (args, pattern) => {
    const r = await run(args as string[]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(pattern as RegExp);
  });

  test.each([
    ['tam:\n  learningrate: 0.5\n', /run.yaml: tam.learningrate: unknown key \(expected one of learningRate, epochs, /],
    ['tam:\n  learningRate: -1\n', /run.yaml: tam.learningRate: Too small: expected number to be >0 \(got -1\)/],
    ['oppu:\n  lora:\n    targetModules: [q_proj, qkv]\n', /run.yaml: oppu.lora.targetModules\[1\]: Invalid option: expected one of .* \(got "qkv"\)/],
    ['dpo:\n  beta: 0\n', /run.yaml: dpo.beta: Too small: expected number to be >0 \(got 0\)/],
    ['dpo:\n  lora: {r: 4}\n', /run.yaml: dpo.lora: unknown key \(expected one of learningRate, /],
    ['decode:\n  contrastive_alpha: 0.5\n', /run.yaml: decode.contrastive_alpha: unknown key \(expected one of contrastiveAlpha, /],
    ['decode:\n  sampling: {runs: 2, temprature: 0.5}\n', /run.yaml: decode.sampling.temprature: unknown key/],
    ['negatives: {n: 0}\n', /run.yaml: negatives.n: Too small: expected number to be >0 \(got 0\)/],
    ['modle: /models/x\n', /run.yaml: modle: unknown key \(expected one of tasks, dataDir, model, /],
    ['- a list\n', /run.yaml: expected a mapping of settings at the top level/],
  ])('config %j is refused by file and key path before anything is written', async (yaml, pattern) => {
    const dir = tmp();
    const file = path.join(dir, 'run.yaml');
    writeFileSync(file, yaml);
    const runDir = path.join(dir, 'run');
    const r = await run(['run', '--config', file, '--run', runDir]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(pattern);
    expect(existsSync(runDir)).toBe(false);
  });

  test('bad data of any task stops the run before any work, naming the full path, task, user and field', async () => {
    const dir = tmp();
    const { data, file, users } = dataWithUsers(dir, 'scholarly_title', (u) => (u[2].profile = []));
    const runDir = path.join(dir, 'run');
    const r = await run(['run', '--config', writeConfig(dir, { dataDir: data, tasks: ['news_headline', 'scholarly_title'] }), '--run', runDir]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${file}: [2].profile: empty profile: a target user needs at least one profile item to train an OPPU adapter on (task scholarly_title, user_id ${JSON.stringify(users[2].user_id)})`);
    expect(existsSync(runDir)).toBe(false);
  });

  test('profile items longer than the model context are cut to it, counted in one message for the user naming the items', async () => {
    const dir = tmp();
    const { data, users } = dataWithUsers(dir, 'news_headline', (u) => (u[0].profile[1].text = Array.from({ length: 700 }, (_, i) => `word${i}`).join(' ')));
    const cfg = writeConfig(dir, { dataDir: data, maxUsers: 1, tam: { ...config.tam, epochs: 1 } });
    const runDir = path.join(dir, 'run');
    expect((await run(['tam', '--config', cfg, '--run', runDir, '--json'])).code).toBe(0);
    const r = await run(['sft', '--config', cfg, '--run', runDir, '--json']);
    expect(r.code).toBe(0);
    const messages = r.err.split('\n').filter((l) => l.includes('"kind":"info"') && l.includes('cut to')).map((l) => JSON.parse(l).message);
    expect(messages).toEqual([`${users[0].user_id}: 1 of ${users[0].profile.length} profile items cut to 2048 tokens a part or 512 in all (the model's context): ${users[0].profile[1].id}`]);
  }, 120_000);

  test('a tokenizer whose vocabulary does not fit the model', async () => {
    const dir = tmp();
    const model = path.join(dir, 'model');
    mkdirSync(model);
    for (const f of ['config.json', 'model.safetensors']) copyFileSync(fixture('models', 'tiny-llama', f), path.join(model, f));
    for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(path.join(embeddedModel, f), path.join(model, f));
    const r = await run(['run', '--config', writeConfig(dir, { model }), '--run', path.join(dir, 'run')]);
    expect(r.err).toMatch(/tokenizer has \d+ tokens but config.json vocab_size is 320/);
  });

  test('a job failing in a worker fails the run with its error, and the workers stop', () => {
    const dir = tmp();
    const model = path.join(dir, 'model');
    mkdirSync(model);
    for (const f of ['config.json', 'model.safetensors']) copyFileSync(fixture('models', 'tiny-llama', f), path.join(model, f));
    for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(path.join(embeddedModel, f), path.join(model, f));
    const r = spawnSync(process.execPath, [bin, 'run', '--config', writeConfig(dir, { model }), '--run', path.join(dir, 'run'), '--workers', '2', '--json'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/error: .*tokenizer has \d+ tokens but config.json vocab_size is 320/);
  });

  test('an adapter made for another base', async () => {
    const r = await run(['generate', '--model', fixture('models', 'tiny-qwen2'), '--adapter', fixture('models', 'tiny-llama', 'adapter'), '--prompt-ids', '1,2']);
    expect(r.err).toMatch(/adapter made for another base/);
  });
});

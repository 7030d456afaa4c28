/**
 * `pnpm bench browser`: OPPU training in the browser page (headless Chromium, its Web Worker, wasm, one thread)
 * beside the same training in Node (wasm, one thread, in this process), alternating, on the embedded default's
 * user 0 and settings. Tokens/s are the medians of the trainers' own per-step figures.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '@cope/cli';
import { RunStore } from '@cope/pipeline';
import { browserCheck, CHROMIUM_PATHS } from '@cope/web';
import os from 'node:os';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', '..');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function cope(args: string[]): Promise<void> {
  let err = '';
  const code = await runCli(args, { out: () => undefined, err: (t) => (err += t + '\n') });
  if (code !== 0) throw new Error(`cope ${args.join(' ')}: ${err.trim().split('\n').at(-1)}`);
}

export async function benchBrowser(report: (rec: Record<string, unknown>) => void, rounds = 2): Promise<void> {
  if (!CHROMIUM_PATHS.some((p) => existsSync(p))) throw new Error(`bench browser: no Chromium at ${CHROMIUM_PATHS.join(' or ')}`);
  const run = mkdtempSync(path.join(os.tmpdir(), 'cope-bench-browser-'));
  const common = ['--run', run, '--task', 'news_headline', '--backend', 'wasm', '--workers', '1', '--threads', '1', '--json'];
  await cope(['tam', ...common]);
  const oppu = new RunStore(run).task('news_headline').layout.oppu(0);
  const node: number[] = [];
  const page: number[] = [];
  for (let r = 0; r < rounds; r++) {
    rmSync(oppu, { recursive: true, force: true });
    await cope(['sft', ...common, '--max-users', '1']);
    node.push(median(readFileSync(path.join(oppu, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).tokensPerSecond as number)));
    const res = await browserCheck({ model: path.join(root, 'data', 'models', 'cope-tiny'), data: path.join(root, 'data', 'embedded'), run, task: 'news_headline', user: 0, threads: 1 });
    page.push(median(res.sftTokensPerSecond));
  }
  rmSync(run, { recursive: true, force: true });
  report({
    config: 'embedded', measure: 'oppu_train_tokens_per_s_page_vs_node', value: median(page), node_tokens_per_s: median(node), page_runs: page, node_runs: node,
    ratio_node_over_page: median(node) / median(page),
    note: 'OPPU training of the embedded user 0: the browser page (headless Chromium, Web Worker, wasm, 1 thread) beside Node (wasm, 1 thread), alternating',
  });
}

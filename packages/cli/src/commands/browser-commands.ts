import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { TASK_NAMES, type TaskName } from '@cope/data';
import { RunStore } from '@cope/pipeline';
import { browserCheck, bundlePage, servePage } from '@cope/web';
import { parseNumber, type CliIo } from '../io.js';
import { configFrom } from './pipeline-commands.js';

/** Folders of a page or check: the same --config/--data/--model/--run resolution as `cope run`. */
function pageOptions(c: Command): Command {
  return c
    .option('--config <file>', 'YAML or JSON run config (flags override it)')
    .option('--data <dir>', 'data folder with <task>/user_*.json (default: the embedded dataset)')
    .option('--model <dir>', 'Hugging Face model folder (default: the embedded tiny model)')
    .option('--run <dir>', 'run folder holding the task\'s TAM and the method settings (default: runs/default)')
    .option('--task <name>', TASK_NAMES.join(' | '), 'news_headline')
    .option('--threads <n>', 'threads of the page\'s wasm backend', '1');
}

function taskOf(o: Record<string, string>): TaskName {
  if (!(TASK_NAMES as readonly string[]).includes(o.task)) throw new Error(`--task: unknown "${o.task}" (expected one of ${TASK_NAMES.join(', ')})`);
  return o.task as TaskName;
}

/** The run folder's predictions of a method for the given query ids, by id (null when the run has no such file). */
async function runOutputsOf(runDir: string, task: TaskName, method: string): Promise<Map<string, string> | null> {
  const file = new RunStore(runDir).task(task).layout.output(method);
  const text = await readFile(file, 'utf8').catch(() => null);
  if (text === null) return null;
  return new Map((JSON.parse(text) as { golds: Array<{ id: string; output: string }> }).golds.map((g) => [String(g.id), g.output]));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

/** `cope page` (serve the page) and `cope browser-check` (run it unattended in headless Chromium). */
export function registerBrowserCommands(program: Command, io: CliIo): void {
  pageOptions(program.command('page').description('Serve the browser page (CoPe for one user in a tab) on localhost'))
    .option('--port <n>', 'port', '8080')
    .action(async (o) => {
      const config = await configFrom({ ...o, task: taskOf(o) });
      await bundlePage();
      const server = await servePage({ model: config.model, data: config.dataDir, run: config.runDir, port: parseNumber(o.port, '--port') });
      io.out(`${server.url}?task=${o.task}&threads=${o.threads}  (Ctrl-C stops)`);
      await new Promise(() => undefined);
    });
  pageOptions(program.command('browser-check').description('Personalize one user in the page in headless Chromium; print its outputs as JSON lines'))
    .option('--user <i>', 'the target user\'s index', '0')
    .option('--method <name>', 'the method whose outputs are printed', 'CoPe')
    .option('--generate', 'also generate the user\'s first query with OPPU, OPPU+CD and CoPe through the page')
    .option('--screenshot <file>', 'save a PNG of the page at the end')
    .action(async (o) => {
      const task = taskOf(o);
      const config = await configFrom({ ...o, task });
      const user = parseNumber(o.user, '--user');
      const res = await browserCheck({
        model: config.model, data: config.dataDir, run: config.runDir, task, user, method: o.method, generate: o.generate === true,
        threads: parseNumber(o.threads, '--threads'), screenshot: o.screenshot,
      });
      for (const r of res.outputs) io.out(JSON.stringify({ id: r.id, output: r.output }));
      if (res.generated) io.err(JSON.stringify({ generated: res.generated, shown: res.shown }));
      // The same user's OPPU training in the run (Node), step by step, beside the page's.
      const nodeMetrics = await readFile(`${new RunStore(config.runDir).task(task).layout.oppu(user)}/metrics.jsonl`, 'utf8').catch(() => '');
      const nodeRates = nodeMetrics.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { tokensPerSecond: number }).tokensPerSecond);
      io.err(JSON.stringify({ personalizeSeconds: res.seconds, pageOppuTokensPerSecond: median(res.sftTokensPerSecond), runOppuTokensPerSecond: nodeRates.length ? median(nodeRates) : null }));
      const expected = await runOutputsOf(config.runDir, task, o.method);
      if (!expected) return io.err(`no ${o.method}.json in ${config.runDir} to compare with`);
      const differ = res.outputs.filter((r) => expected.get(r.id) !== r.output);
      if (differ.length) throw new Error(`${differ.length} of ${res.outputs.length} outputs differ from ${config.runDir}'s ${o.method}.json: ${differ.map((d) => d.id).join(', ')}`);
      io.err(`identical to ${config.runDir}'s ${o.method}.json for user ${user}'s ${res.outputs.length} queries`);
    });
}

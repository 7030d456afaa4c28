import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { TASK_NAMES } from '@cope/data';
import type { CliIo } from '../io.js';
import { parseNumber } from '../io.js';
import { METHODS, RunStore, STAGE_ORDER, methodOf, runConfigSchema, runPipeline, samplingRunsSchema, type MethodSpec, type StageName } from '@cope/pipeline';
import { loadRunConfig } from '../config-file.js';
import { metricsTable } from '../metrics-table.js';
import { jsonReporter, terminalReporter } from '../reporter.js';
import { writeReport } from '../report.js';
import { cliVersion } from '../version.js';
import { schemaOption } from '../schema-options.js';
import { BACKEND_HELP } from './model-commands.js';

/** The repository root when running from a checkout (for the embedded defaults). */
function repoRoot(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
}

export const EMBEDDED = {
  data: () => path.join(repoRoot(), 'data', 'embedded'),
  model: () => path.join(repoRoot(), 'data', 'models', 'cope-tiny'),
  config: () => path.join(repoRoot(), 'data', 'embedded', 'cope-tiny.yaml'),
};

/** A run flag from @cope/pipeline's run config schema (help, choices; the default named, since a config file may set it). */
const runOption = (key: string, flags: string) => schemaOption(runConfigSchema.shape, key, flags);

export function addRunOptions(c: Command): Command {
  return c
    .option('--config <file>', 'YAML or JSON run config (flags override it)')
    .option('--data <dir>', 'data folder with <task>/user_*.json (default: the embedded dataset)')
    .option('--model <dir>', 'Hugging Face model folder (default: the embedded tiny model)')
    .option('--run <dir>', 'run folder (default: runs/default)')
    .option('--task <name>', `${TASK_NAMES.join(' | ')} | all`)
    .addOption(runOption('seed', '--seed <n>'))
    .addOption(runOption('workers', '--workers <n>'))
    .addOption(runOption('threads', '--threads <n>'))
    .addOption(runOption('shard', '--shard <i/n>'))
    .addOption(runOption('maxUsers', '--max-users <n>'))
    .option('--backend <name>', BACKEND_HELP)
    .addOption(runOption('chatTemplate', '--chat-template <name>'))
    .option('--json', 'JSON-lines progress even on a terminal')
    .option('--redo', 'results made with other settings (named when refused) are deleted and made again');
}

export async function configFrom(o: Record<string, any>, extra: Record<string, unknown> = {}) {
  const flags: Record<string, unknown> = {
    dataDir: o.data, model: o.model, runDir: o.run, backend: o.backend, chatTemplate: o.chatTemplate, shard: o.shard,
    seed: o.seed !== undefined ? parseNumber(o.seed, '--seed') : undefined,
    workers: o.workers !== undefined ? parseNumber(o.workers, '--workers') : undefined,
    threads: o.threads !== undefined ? parseNumber(o.threads, '--threads') : undefined,
    maxUsers: o.maxUsers !== undefined ? parseNumber(o.maxUsers, '--max-users') : undefined,
    tasks: o.task === undefined ? undefined : o.task === 'all' ? [...TASK_NAMES] : [o.task],
    ...extra,
  };
  if (o.task !== undefined && o.task !== 'all' && !(TASK_NAMES as readonly string[]).includes(o.task)) {
    throw new Error(`--task: unknown "${o.task}" (expected one of ${TASK_NAMES.join(', ')}, or all)`);
  }
  // Without a config, data or model, the embedded default runs with its own settings file.
  const configFile = o.config ?? (o.data === undefined && o.model === undefined ? EMBEDDED.config() : undefined);
  // Where neither the config file nor a flag says otherwise: the embedded data and model, runs/default.
  const defaults = { dataDir: EMBEDDED.data(), model: EMBEDDED.model(), runDir: path.resolve('runs', 'default') };
  const config = await loadRunConfig(configFile, flags, defaults);
  if (!existsSync(config.model)) throw new Error(`${config.model}: model folder not found`);
  if (!existsSync(config.dataDir)) throw new Error(`${config.dataDir}: data folder not found`);
  return config;
}

/** The sampling runs' default settings, as the help names them. */
const SAMPLING_SETTINGS = (({ temperature, topK, topP }) => `temperature ${temperature}, top-k ${topK}, top-p ${topP}`)(samplingRunsSchema.parse({}));

/** `--sampling-runs n` as a config override (the rest of `decode.sampling` keeps its config or default values). */
function samplingFlag(o: Record<string, any>): Record<string, unknown> {
  return o.samplingRuns === undefined ? {} : { decode: { sampling: { runs: parseNumber(o.samplingRuns, '--sampling-runs') } } };
}

async function execute(io: CliIo, o: Record<string, any>, stages: StageName[], extra: Record<string, unknown> = {}) {
  const config = await configFrom(o, extra);
  const tty = process.stderr.isTTY && !o.json;
  const reporter = tty ? terminalReporter() : jsonReporter((l) => io.err(l));
  try {
    const summaries = await runPipeline(config, stages, reporter, { redo: o.redo === true, versions: { '@cope/cli': cliVersion() } });
    if (stages.includes('eval')) io.out(metricsTable(summaries));
  } finally {
    if ('stop' in reporter) (reporter as { stop(): void }).stop();
  }
}

/** `cope run|tam|sft|negatives|score|dpo|decode|evaluate`: the CoPe pipeline over a run folder. */
export function registerPipelineCommands(program: Command, io: CliIo): void {
  addRunOptions(program.command('run').description('Run every stage (TAM, OPPU, negatives, scoring, DPO, decoding, evaluation); resumable'))
    .option('--sampling-runs <n>', `sample each method n times (${SAMPLING_SETTINGS} unless the config says otherwise) instead of greedy decoding`)
    .action((o) => execute(io, o, [...STAGE_ORDER], samplingFlag(o)));
  addRunOptions(program.command('tam').description('Train the task-adapted LoRA on the non-target users (ckpt/TAM/<task>)'))
    .action((o) => execute(io, o, ['tam']));
  addRunOptions(program.command('sft').description('Train each user\'s OPPU adapter on the TAM model (ckpt/OPPU_SFT/<task>/user_<i>)'))
    .action((o) => execute(io, o, ['sft']));
  addRunOptions(program.command('negatives').description('Sample pseudo-negative candidates from the TAM model'))
    .action((o) => execute(io, o, ['negatives']));
  addRunOptions(program.command('score').description('Score candidates by implicit reward and select the negative'))
    .action((o) => execute(io, o, ['score']));
  addRunOptions(program.command('dpo').description('Train DPO per user from the OPPU adapter (ckpt/OPPU_SFT+DPO/<task>/user_<i>)'))
    .action((o) => execute(io, o, ['dpo']));
  addRunOptions(program.command('decode').description('Decode the target users\' queries'))
    .option('--decoding <name>', [...new Set(Object.values(METHODS).map((m) => m.decoder))].join(' | '), 'greedy')
    .option('--adapter-stage <stage>', 'none (TAM) | sft (OPPU) | dpo (OPPU+DPO)', 'dpo')
    .option('--sampling-runs <n>', `sample n times (${SAMPLING_SETTINGS} unless the config says otherwise) instead of greedy decoding`)
    .action((o) => {
      const method = methodOf({ decoder: o.decoding, adapter: o.adapterStage === 'none' ? null : o.adapterStage } as MethodSpec);
      if (!method) throw new Error(`--decoding ${o.decoding} with --adapter-stage ${o.adapterStage} is not a method (contrastive needs an adapter)`);
      return execute(io, o, ['decode', 'eval'], { methods: [method], ...samplingFlag(o) });
    });

  addRunOptions(program.command('merge').description('Join shard run folders into --run, then assemble and evaluate'))
    .argument('<shards...>', 'run folders of the shards')
    .action(async (shards: string[], o) => {
      const config = await configFrom(o, { shard: '0/1', workers: 1 });
      const store = new RunStore(config.runDir);
      const lock = await store.lock();
      const copied = await store.mergeFrom(shards.map((s) => path.resolve(s))).finally(() => lock.release());
      io.err(`merged ${copied} files into ${config.runDir}`);
      await execute(io, { ...o, run: config.runDir }, ['eval']);
    });
  program
    .command('report')
    .description('Write one self-contained HTML report of a run folder (metrics, loss curves, per-user gains)')
    .option('--run <dir>', 'run folder', path.resolve('runs', 'default'))
    .option('--out <file>', 'HTML file (default: <run>/report.html)')
    .action(async (o) => {
      const out = path.resolve(o.out ?? path.join(o.run, 'report.html'));
      const tasks = await writeReport(path.resolve(o.run), out);
      io.out(JSON.stringify({ report: out, tasks }));
    });
}

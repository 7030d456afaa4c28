import { ChatFormatter, TASKS, loadTokenizer, readOtherUsers, readTargetUsers, type CopeTokenizer, type LabelFile, type TaskName, type UserRecord } from '@cope/data';
import { disposeModel, initBackend, loadLoraAdapter, loadModel, mergeLoraAdapter, disposeAdapter, type CausalLM } from '@cope/model';
import type { TaskContext } from '@cope/negatives';
import type { RunConfig } from './config.js';
import { runLayout, type RunLayout } from './layout.js';

/** Everything a stage of one task needs, loaded once per process (or worker). */
export interface StageContext {
  config: RunConfig;
  taskName: TaskName;
  layout: RunLayout;
  tokenizer: CopeTokenizer;
  chat: ChatFormatter;
  base: CausalLM;
  users: UserRecord[];
  labels: LabelFile | null;
  /** Indices of the target users this process handles (max-users and shard applied). */
  userIndices: number[];
  /** The TAM-merged model, once TAM is trained. */
  tamModel?: CausalLM;
}

export function taskContext(ctx: StageContext): TaskContext {
  if (!ctx.tamModel) throw new Error('TAM model not loaded: run the tam stage first');
  return { model: ctx.tamModel, tokenizer: ctx.tokenizer, chat: ctx.chat, task: TASKS[ctx.taskName] };
}

/** Loads the base model, tokenizer and data of a task; checks that the tokenizer fits the model. */
export async function openTask(config: RunConfig, taskName: TaskName, shard: { index: number; count: number }): Promise<StageContext> {
  await initBackend(config.backend, { threads: config.threads });
  const tokenizer = await loadTokenizer(config.model);
  const base = await loadModel(config.model);
  if (tokenizer.vocabSize > base.config.vocabSize) {
    disposeModel(base);
    throw new Error(`${config.model}: tokenizer has ${tokenizer.vocabSize} tokens but config.json vocab_size is ${base.config.vocabSize}`);
  }
  const dir = `${config.dataDir}/${taskName}`;
  const { users, labels } = await readTargetUsers(dir, taskName);
  const n = Math.min(users.length, config.maxUsers ?? users.length);
  const userIndices = Array.from({ length: n }, (_, i) => i).filter((i) => i % shard.count === shard.index);
  return { config, taskName, layout: runLayout(config.runDir, taskName), tokenizer, chat: new ChatFormatter(tokenizer, config.chatTemplate), base, users, labels, userIndices };
}

/** Loads the trained TAM adapter and merges it into the base (CoPe merges TAM before every later stage). */
export async function loadTam(ctx: StageContext): Promise<CausalLM> {
  if (ctx.tamModel) return ctx.tamModel;
  const adapter = await loadLoraAdapter(ctx.base, ctx.layout.tam, 'TAM');
  ctx.tamModel = mergeLoraAdapter(ctx.base, adapter);
  disposeAdapter(adapter);
  return ctx.tamModel;
}

export function closeTask(ctx: StageContext): void {
  if (ctx.tamModel) disposeModel(ctx.tamModel);
  disposeModel(ctx.base);
}

export { readOtherUsers };

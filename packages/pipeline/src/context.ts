import { ChatFormatter, TASKS, TaskCodec, loadTokenizer, readTargetUsers, type LabelFile, type TaskName, type UserRecord } from '@cope/data';
import { disposeModel, initBackend, modelFloat32Bytes, loadModel, stopTokenIds } from '@cope/model';
import type { RunConfig, Shard } from './config.js';
import { RunStore, type TaskStore } from './run-store.js';
import type { UserStageContext } from './user-context.js';

/** A task's data and run-folder layout: what assembling and evaluating its outputs need. */
export interface TaskData {
  config: RunConfig;
  taskName: TaskName;
  /** The task's part of the run folder. */
  store: TaskStore;
  users: UserRecord[];
  labels: LabelFile | null;
  /** Indices of the run's target users (the first max-users), over all shards. */
  allUsers: number[];
  /** Indices of the target users this process handles (max-users and shard applied). */
  userIndices: number[];
}

/** Everything a stage of one task needs, loaded once per process (or worker); its results go to the run folder. */
export interface StageContext extends TaskData, UserStageContext {
  config: RunConfig;
}

/** Reads a task's target users and labels; picks this process's users (max-users and shard applied). */
export async function readTaskData(config: RunConfig, taskName: TaskName, shard: Shard): Promise<TaskData> {
  const dir = `${config.dataDir}/${taskName}`;
  const { users, labels } = await readTargetUsers(dir, taskName);
  const n = Math.min(users.length, config.maxUsers ?? users.length);
  const allUsers = Array.from({ length: n }, (_, i) => i);
  const userIndices = allUsers.filter((i) => i % shard.count === shard.index);
  return { config, taskName, store: new RunStore(config.runDir).task(taskName), users, labels, allUsers, userIndices };
}

/** Loads the base model, tokenizer and data of a task; checks that the tokenizer fits the model. */
export async function openTask(config: RunConfig, taskName: TaskName, shard: Shard): Promise<StageContext> {
  await initBackend(config.backend, { threads: config.threads, modelBytes: await modelFloat32Bytes(config.model) });
  const tokenizer = await loadTokenizer(config.model);
  const base = await loadModel(config.model);
  if (tokenizer.vocabSize > base.config.vocabSize) {
    disposeModel(base);
    throw new Error(`${config.model}: tokenizer has ${tokenizer.vocabSize} tokens but config.json vocab_size is ${base.config.vocabSize}`);
  }
  const data = await readTaskData(config, taskName, shard);
  const eosTokenIds = await stopTokenIds(config.model, base.config.eosTokenIds, tokenizer.eosId);
  const chat = new ChatFormatter(tokenizer, config.chatTemplate);
  return { ...data, results: data.store, tokenizer, chat, codec: new TaskCodec(tokenizer, chat, TASKS[taskName], base.config.maxPositionEmbeddings), base, eosTokenIds };
}

/**
 * The context of another task in a process that has `previous` open: the base model and tokenizer (the same
 * for every task of a run) are kept, the previous task's TAM model is freed.
 */
export async function switchTask(previous: StageContext, taskName: TaskName, shard: Shard): Promise<StageContext> {
  if (previous.taskName === taskName) return previous;
  const data = await readTaskData(previous.config, taskName, shard);
  if (previous.tamModel) disposeModel(previous.tamModel);
  const codec = new TaskCodec(previous.tokenizer, previous.chat, TASKS[taskName], previous.base.config.maxPositionEmbeddings);
  return { ...data, results: data.store, tokenizer: previous.tokenizer, chat: previous.chat, codec, base: previous.base, eosTokenIds: previous.eosTokenIds };
}

export function closeTask(ctx: StageContext): void {
  if (ctx.tamModel) disposeModel(ctx.tamModel);
  disposeModel(ctx.base);
}

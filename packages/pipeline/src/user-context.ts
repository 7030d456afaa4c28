import type { ChatFormatter, CopeTokenizer, TaskCodec, TaskName, UserRecord } from '@cope/data';
import { disposeAdapter, mergeLoraAdapter, readLoraAdapter, type CausalLM } from '@cope/model';
import type { TaskContext } from '@cope/negatives';
import type { MethodSettings } from './method-settings.js';
import type { UserResults } from './user-results.js';

/**
 * What a per-user stage needs: the method's settings, a task's target users, the tokenizer and codec, the base
 * model, and where results go. A run folder's context (`StageContext`) is one; a browser builds one from fetched
 * bytes with `memoryResults()`.
 */
export interface UserStageContext {
  config: MethodSettings;
  taskName: TaskName;
  /** The task's target users (stages take an index into this list). */
  users: UserRecord[];
  tokenizer: CopeTokenizer;
  chat: ChatFormatter;
  /** The task's tokenization for the base model (examples, triples, prompts, scoring pairs, pad id). */
  codec: TaskCodec;
  base: CausalLM;
  /** Ids that end a generation: the model folder's EOS ids and the tokenizer's (@cope/model's `stopTokenIdsOf`). */
  eosTokenIds: number[];
  /** Where adapters and per-user parts are kept. */
  results: UserResults;
  /** The TAM-merged model, once TAM is trained (set it when the TAM comes merged already). */
  tamModel?: CausalLM;
}

/** Loads the trained TAM adapter and merges it into the base (CoPe merges TAM before every later stage). */
export async function tamModel(ctx: UserStageContext): Promise<CausalLM> {
  if (ctx.tamModel) return ctx.tamModel;
  const adapter = await readLoraAdapter(ctx.results.adapterFiles('tam'), ctx.base, 'TAM');
  ctx.tamModel = mergeLoraAdapter(ctx.base, adapter);
  disposeAdapter(adapter);
  return ctx.tamModel;
}

/** What @cope/negatives' stages need: the TAM model, the task's codec and the stop ids. */
export async function negativesContext(ctx: UserStageContext): Promise<TaskContext> {
  return { model: await tamModel(ctx), codec: ctx.codec, eosTokenIds: ctx.eosTokenIds };
}

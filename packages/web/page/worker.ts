/**
 * The page's Web Worker: the wasm backend, the base model with the task's TAM merged, and every CoPe stage for one
 * user (the same @cope/pipeline stage code as `cope run`, with its results in memory). Nothing leaves the page:
 * the worker only fetches the page's own inputs.
 */
import { ChatFormatter, TASKS, TaskCodec, tokenizerFromJson, validateTargetUsers, type TaskName } from '@cope/data';
import { PEFT_CONFIG_FILE, PEFT_WEIGHTS_FILE, initBrowserBackend, modelFromBytes, parseGenerationConfig, stopTokenIdsOf } from '@cope/model';
import { decodeQueries, memoryResults, methodSettingsSchema, personalizeUser, type UserStageContext } from '@cope/pipeline';
import { ROUTES, type FromWorker, type PageMethod, type ToWorker, type UserJson } from './protocol.js';

/** The worker's global scope, as far as this file uses it (the page's lib is DOM's, not WebWorker's). */
const scope = self as unknown as { postMessage(m: FromWorker): void; onmessage: ((e: MessageEvent<ToWorker>) => void) | null; location: Location };
const post = (m: FromWorker) => scope.postMessage(m);

async function bytes(url: string): Promise<Uint8Array> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: ${r.status} ${r.statusText}`);
  return new Uint8Array(await r.arrayBuffer());
}

async function json(url: string, optional = false): Promise<unknown> {
  const r = await fetch(url);
  if (optional && r.status === 404) return undefined;
  if (!r.ok) throw new Error(`${url}: ${r.status} ${r.statusText}`);
  return r.json();
}

/** The task's context, shared by every user of the page; each personalized user gets fresh results. */
let base: Omit<UserStageContext, 'results' | 'users'> | null = null;
let users: UserJson[] = [];
let ctx: UserStageContext | null = null;
let current = -1;

async function open(task: TaskName, settingsIn: unknown, threads: number): Promise<void> {
  const backend = await initBrowserBackend({ wasmPaths: new URL(ROUTES.wasm, scope.location.href).href, threads });
  const settings = methodSettingsSchema.parse(settingsIn);
  const tokenizer = tokenizerFromJson(await json(`${ROUTES.model}tokenizer.json`), (await json(`${ROUTES.model}tokenizer_config.json`, true)) ?? {}, 'model');
  const model = await modelFromBytes(await json(`${ROUTES.model}config.json`), await bytes(`${ROUTES.model}model.safetensors`), 'model');
  const generation = await json(`${ROUTES.model}generation_config.json`, true);
  const eosTokenIds = stopTokenIdsOf(generation === undefined ? null : parseGenerationConfig(generation, 'model/generation_config.json'), model.config.eosTokenIds, tokenizer.eosId);
  const chat = new ChatFormatter(tokenizer, settings.chatTemplate);
  const codec = new TaskCodec(tokenizer, chat, TASKS[task], model.config.maxPositionEmbeddings);
  users = validateTargetUsers(await json(`${ROUTES.users}${task}`), task, `users of ${task}`);
  base = { config: settings, taskName: task, tokenizer, chat, codec, base: model, eosTokenIds };
  post({ type: 'opened', users, backend, settings });
}

/** The task's TAM adapter files, fetched once and copied into each user's results. */
let tamFiles: Array<[string, Uint8Array]> | null = null;

async function personalize(user: number, record: UserJson | undefined): Promise<void> {
  if (!base) throw new Error('open a task first');
  const task = base.taskName;
  const all = record ? [...users.slice(0, user), ...validateTargetUsers([record], task, 'the typed user')] : users;
  const results = memoryResults();
  tamFiles ??= await Promise.all(['adapter_config.json', 'adapter_model.safetensors'].map(async (f) => [f, await bytes(`${ROUTES.tam}${task}/${f}`)] as [string, Uint8Array]));
  for (const [f, b] of tamFiles) await results.adapterFiles('tam').write(f, b);
  // The merged TAM model is the same for every user: keep it across users.
  ctx = { ...base, users: all, results, tamModel: ctx?.tamModel };
  const t0 = performance.now();
  await personalizeUser(ctx, user, { event: (event) => post({ type: 'event', event }) });
  current = user;
  post({ type: 'personalized', user, seconds: (performance.now() - t0) / 1000 });
}

async function generateOne(method: PageMethod, input: string): Promise<void> {
  if (!ctx || current < 0) throw new Error('personalize a user first');
  const c = ctx;
  const t0 = performance.now();
  const ids: number[] = [];
  const [out] = await decodeQueries(c, { method, name: method }, current, [{ id: 'typed', input }], {
    onToken: (_q, token) => {
      ids.push(token);
      post({ type: 'token', method, text: c.tokenizer.decode(ids, { skipSpecialTokens: true }) });
    },
  });
  post({ type: 'generated', method, output: out.output, seconds: (performance.now() - t0) / 1000 });
}

async function outputs(method: PageMethod): Promise<void> {
  if (!ctx || current < 0) throw new Error('personalize a user first');
  const part = await ctx.results.readOutputs(method, current);
  post({ type: 'outputs', method, outputs: part });
}

async function adapter(): Promise<void> {
  if (!ctx || current < 0) throw new Error('personalize a user first');
  const store = ctx.results.adapterFiles('dpo', current);
  const files = [];
  for (const name of [PEFT_CONFIG_FILE, PEFT_WEIGHTS_FILE]) files.push({ name, bytes: (await store.read(name))! });
  post({ type: 'adapter', files });
}

scope.onmessage = async (e: MessageEvent<ToWorker>) => {
  const m = e.data;
  try {
    if (m.type === 'open') await open(m.task as TaskName, m.settings, m.threads);
    else if (m.type === 'personalize') await personalize(m.user, m.record);
    else if (m.type === 'generate') await generateOne(m.method, m.input);
    else if (m.type === 'adapter') await adapter();
    else await outputs(m.method);
  } catch (err) {
    post({ type: 'error', message: (err as Error).stack ?? String(err) });
  }
};

/**
 * The page: picks or edits a person, asks the worker to personalize (progress bar, loss plot), then generates a
 * query's text with OPPU, OPPU+CD and CoPe side by side as the tokens arrive. With `?check=1` it runs one user
 * unattended and leaves its outputs on `window.copeCheck` for `@cope/web`'s headless check.
 */
import { PAGE_METHODS, ROUTES, type FromWorker, type PageMethod, type ToWorker, type UserJson } from './protocol.js';
import { LossPlot } from './loss-plot.js';

const params = new URLSearchParams(location.search);
const task = params.get('task') ?? 'news_headline';
const check = params.get('check') === '1';
const threads = Number(params.get('threads') ?? '1');

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = $<HTMLParagraphElement>('status');
const errorBox = $<HTMLParagraphElement>('error');
const userSelect = $<HTMLSelectElement>('user');
const record = $<HTMLTextAreaElement>('record');
const personalizeButton = $<HTMLButtonElement>('personalize');
const generateButton = $<HTMLButtonElement>('generate');
const downloadButton = $<HTMLButtonElement>('download');
const stage = $<HTMLSpanElement>('stage');
const progress = $<HTMLProgressElement>('progress');
const query = $<HTMLTextAreaElement>('query');
const plot = new LossPlot($<HTMLCanvasElement>('loss'));

/** What the unattended check reads. */
interface CheckState {
  done: boolean;
  error?: string;
  outputs?: Array<{ id: string; output: string }>;
  generated?: Record<string, string>;
  sftTokensPerSecond?: number[];
  seconds?: number;
}
const state: CheckState = { done: false, sftTokensPerSecond: [] };
(window as unknown as { copeCheck: CheckState }).copeCheck = state;

const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
const send = (m: ToWorker) => worker.postMessage(m);
let users: UserJson[] = [];
let pending: Array<(m: FromWorker) => boolean> = [];
/** Resolves with the first message `match` accepts. */
const next = (match: (m: FromWorker) => boolean) => new Promise<FromWorker>((resolve) => pending.push((m) => (match(m) ? (resolve(m), true) : false)));

worker.onmessage = (e: MessageEvent<FromWorker>) => {
  const m = e.data;
  if (m.type === 'error') {
    errorBox.textContent = m.message;
    state.error = m.message;
    state.done = true;
    personalizeButton.disabled = false;
    return;
  }
  if (m.type === 'event') onEvent(m.event);
  if (m.type === 'token') $<HTMLParagraphElement>(`out-${m.method}`).textContent = m.text;
  pending = pending.filter((p) => !p(m));
};

function onEvent(e: { stage: string; kind: string; step?: unknown; total?: unknown; loss?: unknown; tokensPerSecond?: unknown; method?: unknown }): void {
  const names: Record<string, string> = { sft: 'training OPPU', negatives: 'sampling pseudo-negatives', score: 'scoring them', dpo: 'DPO', decode: 'decoding the user\'s queries' };
  if (e.kind === 'step') {
    progress.max = Number(e.total);
    progress.value = Number(e.step);
    plot.add(e.stage === 'dpo' ? 1 : 0, Number(e.loss));
    if (e.stage === 'sft') state.sftTokensPerSecond!.push(Number(e.tokensPerSecond));
    stage.textContent = `${names[e.stage] ?? e.stage}: step ${e.step} of ${e.total}, loss ${Number(e.loss).toFixed(3)}`;
  } else if (e.kind === 'done') {
    stage.textContent = `${names[e.stage] ?? e.stage}: done`;
  } else if (e.kind === 'info' && e.method) {
    stage.textContent = `decoded the user's queries with ${e.method}`;
  }
}

function showUser(i: number): void {
  record.value = JSON.stringify(users[i], null, 1);
  query.value = users[i].query[0]?.input ?? '';
}

async function personalize(): Promise<number> {
  personalizeButton.disabled = generateButton.disabled = downloadButton.disabled = true;
  errorBox.textContent = '';
  plot.clear();
  const i = Number(userSelect.value);
  let typed: UserJson | undefined;
  try {
    const parsed = JSON.parse(record.value) as UserJson;
    if (JSON.stringify(parsed) !== JSON.stringify(users[i])) typed = parsed;
  } catch (e) {
    errorBox.textContent = `the record is not JSON: ${(e as Error).message}`;
    personalizeButton.disabled = false;
    throw e;
  }
  // A typed person is a new user after the embedded ones (their seeds are a new user's).
  const user = typed ? users.length : i;
  send({ type: 'personalize', user, record: typed });
  const done = await next((m) => m.type === 'personalized');
  const seconds = done.type === 'personalized' ? done.seconds : 0;
  stage.textContent = `personalized in ${seconds.toFixed(1)} s`;
  personalizeButton.disabled = generateButton.disabled = downloadButton.disabled = false;
  state.seconds = seconds;
  return user;
}

async function generateAll(): Promise<Record<string, string>> {
  generateButton.disabled = true;
  const out: Record<string, string> = {};
  for (const method of PAGE_METHODS) {
    $<HTMLParagraphElement>(`out-${method}`).textContent = '…';
    send({ type: 'generate', method, input: query.value });
    const m = await next((x) => x.type === 'generated' && x.method === method);
    if (m.type === 'generated') out[method] = $<HTMLParagraphElement>(`out-${method}`).textContent = m.output;
  }
  generateButton.disabled = false;
  return out;
}

/** Saves the personalized adapter's two files (a PEFT folder: `PeftModel.from_pretrained` loads them). */
async function download(): Promise<void> {
  send({ type: 'adapter' });
  const m = await next((x) => x.type === 'adapter');
  if (m.type !== 'adapter') return;
  for (const f of m.files) {
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([f.bytes as BlobPart]));
    a.download = f.name;
    a.click();
    URL.revokeObjectURL(a.href);
  }
}

async function main(): Promise<void> {
  const settings = (await (await fetch(ROUTES.settings)).json()) as Record<string, unknown>;
  send({ type: 'open', task, settings: { ...settings, methods: [...PAGE_METHODS] }, threads });
  const opened = await next((m) => m.type === 'opened');
  if (opened.type !== 'opened') return;
  users = opened.users;
  userSelect.innerHTML = users.map((u, i) => `<option value="${i}">${i}: user ${u.user_id ?? i} (${u.profile.length} texts, ${u.query.length} queries)</option>`).join('');
  userSelect.onchange = () => showUser(Number(userSelect.value));
  userSelect.value = params.get('user') ?? '0';
  showUser(Number(userSelect.value));
  status.textContent = `${task} · ${opened.backend} backend, ${threads} thread${threads > 1 ? 's' : ''} · crossOriginIsolated: ${self.crossOriginIsolated}`;
  personalizeButton.disabled = false;
  personalizeButton.onclick = () => void personalize().catch(() => undefined);
  generateButton.onclick = () => void generateAll();
  downloadButton.onclick = () => void download();
  if (check) {
    await personalize();
    const method = (params.get('method') ?? 'CoPe') as PageMethod;
    send({ type: 'outputs', method });
    const m = await next((x) => x.type === 'outputs');
    if (m.type === 'outputs') state.outputs = m.outputs;
    if (params.get('generate') === '1') state.generated = await generateAll();
    state.done = true;
  }
}

main().catch((e) => {
  errorBox.textContent = (e as Error).stack ?? String(e);
  state.error = String(e);
  state.done = true;
});

/**
 * `pnpm bench`: speed of the model, training step and decoding on the small and medium configs.
 * Prints one JSON line per measurement and appends them to bench/results.jsonl. Median of 5 runs after a
 * warm-up. Not part of the test suite.
 */
import { Rng } from '@cope/core';
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import {
  adapterVariables, backendThreads, createLoraAdapter, currentBackend, disposeModel, forward, initBackend, parseModelConfig, tf, weightsFromHost, disposeAdapter, wasmHeapBytes, loadModel, type CausalLM, type HostTensor, type LoraAdapter,
} from '@cope/model';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import { randomBf16Model } from './bf16-model.js';
import { benchBrowser } from './browser.js';
import { PromptCache, contrastiveDecoder, generate, plainDecoder, type Decoder } from '@cope/decoding';
import { DEFAULT_DPO_LOSS, dpoGradients } from '@cope/dpo';
import { completionLogProbSums, opsFor } from '@cope/model';
import { maskedCrossEntropy } from '@cope/sft';

const CONFIGS = {
  small: { vocab_size: 8000, hidden_size: 256, num_hidden_layers: 4, num_attention_heads: 8, num_key_value_heads: 2, intermediate_size: 688, seq: 128, batch: 8 },
  medium: { vocab_size: 32000, hidden_size: 512, num_hidden_layers: 8, num_attention_heads: 8, num_key_value_heads: 2, intermediate_size: 1376, seq: 128, batch: 4 },
  // Qwen2-0.5B's shape (494M parameters, 1.84 GiB of float32 weights, the tied embedding held once), random
  // weights: half the 4 GiB heap, so most weights have no packed copy. Decoding only unless groups are named.
  large: { vocab_size: 151936, hidden_size: 896, num_hidden_layers: 24, num_attention_heads: 14, num_key_value_heads: 2, intermediate_size: 4864, seq: 128, batch: 1 },
  // Qwen2-1.5B's shape (1.54B parameters, 5.8 GiB of float32 weights, the tied embedding held once): past the
  // wasm heap; the native backend's. The pipeline group only unless groups are named.
  xl: { vocab_size: 151936, hidden_size: 1536, num_hidden_layers: 28, num_attention_heads: 12, num_key_value_heads: 2, intermediate_size: 8960, seq: 128, batch: 1 },
  // Mistral-7B's shape (7.24B parameters) as a BF16 file kept in bf16 (14.5 GB; native backend): contrastive
  // decoding only (`decode` group).
  '7b': { vocab_size: 32000, hidden_size: 4096, num_hidden_layers: 32, num_attention_heads: 32, num_key_value_heads: 8, intermediate_size: 14336, seq: 64, batch: 1 },
};
/** The groups a config runs when none are named: all, or decoding only for the large config. */
const DEFAULT_GROUPS: Partial<Record<keyof typeof CONFIGS, readonly string[]>> = { large: ['decode'], xl: ['pipeline'], '7b': ['decode'] };

function randomModel(c: (typeof CONFIGS)['small'], rng: Rng): CausalLM {
  const config = parseModelConfig({ model_type: 'llama', ...c, tie_word_embeddings: true, rms_norm_eps: 1e-5 });
  const host = new Map<string, HostTensor>();
  const rand = (shape: number[], scale: number) => ({ shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal() * scale) });
  const H = config.hiddenSize;
  const kv = config.numKvHeads * config.headDim;
  host.set('model.embed_tokens.weight', rand([config.vocabSize, H], 0.02));
  host.set('model.norm.weight', { shape: [H], data: new Float32Array(H).fill(1) });
  for (let l = 0; l < config.numLayers; l++) {
    const p = `model.layers.${l}`;
    host.set(`${p}.input_layernorm.weight`, { shape: [H], data: new Float32Array(H).fill(1) });
    host.set(`${p}.post_attention_layernorm.weight`, { shape: [H], data: new Float32Array(H).fill(1) });
    host.set(`${p}.self_attn.q_proj.weight`, rand([H, H], 0.02));
    host.set(`${p}.self_attn.k_proj.weight`, rand([kv, H], 0.02));
    host.set(`${p}.self_attn.v_proj.weight`, rand([kv, H], 0.02));
    host.set(`${p}.self_attn.o_proj.weight`, rand([H, H], 0.02));
    host.set(`${p}.mlp.gate_proj.weight`, rand([config.intermediateSize, H], 0.02));
    host.set(`${p}.mlp.up_proj.weight`, rand([config.intermediateSize, H], 0.02));
    host.set(`${p}.mlp.down_proj.weight`, rand([H, config.intermediateSize], 0.02));
  }
  return { config, weights: weightsFromHost(config, host, 'bench') };
}

/**
 * Median seconds of one LoRA training step on `name`: on `model` in-process (a second copy of the large
 * config's weights would not fit the heap next to it), on a model of its own inside worker threads.
 */
async function trainStepSeconds(name: keyof typeof CONFIGS, model?: CausalLM, runs = 5): Promise<number> {
  const c = CONFIGS[name];
  const rng = new Rng(1);
  const own = model === undefined;
  model ??= randomModel(c, rng);
  const ids = Array.from({ length: c.batch }, () => Array.from({ length: c.seq }, () => rng.int(c.vocab_size)));
  const adapter = createLoraAdapter(model, 'bench', { r: 8, alpha: 8, targetModules: ['q_proj', 'v_proj'], dropout: 0.05 }, rng);
  const vars = adapterVariables(adapter);
  const labelMask = ids.map((r) => r.map(() => 1));
  const t = await median(runs, async () => {
    const { value, grads } = tf.variableGrads(() => maskedCrossEntropy(forward(model, ids, { adapters: adapter, dropoutRng: rng }).logits, ids, labelMask), vars);
    await value.data();
    tf.dispose([value, ...Object.values(grads)]);
  });
  disposeAdapter(adapter);
  if (own) disposeModel(model);
  return t;
}

async function median(runs: number, fn: () => Promise<void>): Promise<number> {
  await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    times.push((performance.now() - t) / 1000);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)];
}

const out = path.resolve(process.cwd(), 'bench', 'results.jsonl');
mkdirSync(path.dirname(out), { recursive: true });
/** The wasm heap's size in GiB (its high-water mark), else undefined. */
function wasmHeapGiB(): number | undefined {
  const bytes = wasmHeapBytes();
  return bytes === undefined ? undefined : Math.round((bytes / 2 ** 30) * 1000) / 1000;
}

function reportLine(rec: Record<string, unknown>): void {
  // Peak resident memory of the process so far (the native backend's tensors live outside the wasm heap).
  const peakRssGiB = process.resourceUsage().maxRSS / 1024 ** 2;
  const line = JSON.stringify({ ...rec, backend: currentBackend(), threads: backendThreads(), heap_gib: wasmHeapGiB(), peak_rss_gib: peakRssGiB, node: process.version, date: new Date().toISOString() });
  console.log(line);
  appendFileSync(out, line + '\n');
}

const report = reportLine;

type ConfigName = keyof typeof CONFIGS;
type Config = (typeof CONFIGS)[ConfigName];
const GROUPS = ['forward', 'train', 'dpo', 'decode', 'pipeline'] as const;

async function benchForward(name: ConfigName, c: Config, model: CausalLM, rng: Rng): Promise<void> {
  const ids = Array.from({ length: c.batch }, () => Array.from({ length: c.seq }, () => rng.int(c.vocab_size)));
  const fwd = await median(5, async () => {
    const { logits } = forward(model, ids);
    await logits.data();
    logits.dispose();
  });
  report({ config: name, measure: 'forward_tokens_per_s', value: (c.batch * c.seq) / fwd });
}

/** FLOP/s figures the training line's utilisation is measured against (GFLOP/s on a 512³ product). */
interface MatmulFigures {
  /** The backend's own product (tf.matMul), the reference. */
  backend: number;
  /** The product this toolkit runs for frozen weights (the rows kernel, split over helper threads on more than one). */
  frozen: number;
}

async function benchTrain(name: ConfigName, c: Config, model: CausalLM, gflops: MatmulFigures): Promise<void> {
  const step = await trainStepSeconds(name, model);
  const tokS = (c.batch * c.seq) / step;
  // The cost model: about 6 FLOP per parameter per token (about 30 MFLOP/token on small).
  const params = c.num_hidden_layers * (2 * c.hidden_size ** 2 + 2 * c.hidden_size * (c.hidden_size / 4) + 3 * c.hidden_size * c.intermediate_size) + c.vocab_size * c.hidden_size;
  report({
    config: name, measure: 'lora_train_tokens_per_s', value: tokS,
    mfu: (6 * params * tokS) / (gflops.backend * 1e9), mfu_vs_frozen_matmul: (6 * params * tokS) / (gflops.frozen * 1e9),
    note: 'mfu: over the backend\'s 512³ matmul figure (the issue\'s definition); mfu_vs_frozen_matmul: over the faster product the model runs for frozen weights',
  });

  // Two users trained at once, one worker thread (own single-threaded wasm backend) each.
  const script = fileURLToPath(import.meta.url);
  const per = await Promise.all([0, 1].map(() => new Promise<number>((resolve, reject) => {
    const w = new Worker(script, { workerData: { config: name } });
    w.on('message', (m: number) => resolve(m));
    w.on('error', reject);
  })));
  report({ config: name, measure: 'lora_train_tokens_per_s_2_workers', value: per.reduce((a, s) => a + (c.batch * c.seq) / s, 0) });
}

/** One DPO step on `pairs` (policy: `adapter`; reference log-probs given): the loss and the adapter's gradients. */
async function dpoStep(model: CausalLM, pairs: Array<{ prompt: number[]; chosen: number[]; rejected: number[] }>, adapter: LoraAdapter, rng: Rng, separate = false): Promise<void> {
  const batch = pairs.map((p) => ({ ...p, refChosen: 0, refRejected: 0 }));
  const g = await dpoGradients(model, adapter, batch, DEFAULT_DPO_LOSS, rng, adapterVariables(adapter), separate);
  await g.loss.data();
  tf.dispose([g.loss, ...Object.values(g.grads), ...Object.values(g.logs ?? {})]);
}

async function benchDpo(name: ConfigName, c: Config, model: CausalLM, adapter: LoraAdapter, rng: Rng): Promise<void> {
  // DPO: batch of pairs (prompt 64 + completion 64 tokens each), reference log-probs precomputed.
  // One pair per batch row (medium: 4 pairs, 3.35 GiB of the 4 GiB wasm heap after the forward and training lines).
  const nPairs = c.batch;
  const pairs = Array.from({ length: nPairs }, () => ({
    prompt: Array.from({ length: 64 }, () => rng.int(c.vocab_size)),
    chosen: Array.from({ length: 64 }, () => rng.int(c.vocab_size)),
    rejected: Array.from({ length: 64 }, () => rng.int(c.vocab_size)),
  }));
  const dpo = await median(5, () => dpoStep(model, pairs, adapter, rng));
  report({ config: name, measure: 'dpo_pairs_per_s', value: nPairs / dpo, note: `${nPairs} pairs per step, prompt 64 + completion 64 tokens per side` });
}

/** Seconds of one call of `fn` (the pipeline group's stages are too slow at these sizes for medians). */
async function once(fn: () => Promise<void>): Promise<number> {
  const t = performance.now();
  await fn();
  return (performance.now() - t) / 1000;
}

/**
 * CoPe's per-user stages once each on 512-token inputs: a LoRA training step (TAM and OPPU), sampling a
 * pseudo-negative, scoring it (log-probs with and without the adapter, in one batch), a DPO step on a pair,
 * and contrastive decoding. One line per stage with its seconds and the process's peak memory so far.
 */
async function benchPipeline(name: ConfigName, c: Config, model: CausalLM, adapter: LoraAdapter, rng: Rng): Promise<void> {
  const tokens = (n: number) => Array.from({ length: n }, () => rng.int(c.vocab_size));
  const vars = adapterVariables(adapter);
  const ids = [tokens(512)];
  const train = await once(async () => {
    const { value, grads } = tf.variableGrads(() => maskedCrossEntropy(forward(model, ids, { adapters: adapter, dropoutRng: rng }).logits, ids, [ids[0].map(() => 1)]), vars);
    await value.data();
    tf.dispose([value, ...Object.values(grads)]);
  });
  report({ config: name, measure: 'pipeline_lora_step_s', value: train, tokens_per_s: 512 / train, note: 'one LoRA step (TAM / OPPU) on 512 tokens' });
  const prompt = tokens(448);
  const sampler = plainDecoder({ doSample: true, temperature: 1, topK: 0, topP: 0.95 });
  const sample = await once(async () => void (await generate(model, [prompt], { maxNewTokens: 64, eosTokenIds: [], adapter: null, decoder: sampler, rng })));
  report({ config: name, measure: 'pipeline_sample_s', value: sample, note: 'a pseudo-negative: prompt 448 + 64 sampled tokens (temperature 1, top-p 0.95), TAM model' });
  const completion = tokens(64);
  const score = await once(async () => {
    const sums = completionLogProbSums(model, [{ prompt, completion }, { prompt, completion }], [adapter, null]);
    await sums.data();
    sums.dispose();
  });
  report({ config: name, measure: 'pipeline_score_s', value: score, note: 'implicit reward: log-probs of a 448 + 64 pair with and without the adapter, one batch' });
  // The 1.5B shape's pair does not fit 24 GiB in one tape: each completion gets its own backward pass there.
  const separate = name === 'xl';
  const dpo = await once(() => dpoStep(model, [{ prompt, chosen: completion, rejected: tokens(64) }], adapter, rng, separate));
  report({ config: name, measure: 'pipeline_dpo_step_s', value: dpo, separate_backward: separate, note: 'one DPO step on a pair: prompt 448 + 64 tokens per side' });
  const decode = await once(async () => void (await generate(model, [prompt], { maxNewTokens: 32, eosTokenIds: [], adapter, decoder: contrastiveDecoder() })));
  report({ config: name, measure: 'pipeline_contrastive_decode_s', value: decode, tokens_per_s: 32 / decode, note: 'CoPe decoding: prompt 448 + 32 tokens, expert (adapter) and amateur rows' });
}

/** Rounds of each kind of decoding run: the per-round ratios' median steadies near 30 on this VM (12 moved it by ±0.1). */
const ROUNDS = 30;

/**
 * Batch-1 greedy and contrastive decoding (prompt 64, 32 new tokens). Greedy decodes with the user's
 * adapter, as OPPU greedy does; contrastive adds the amateur row. Runs alternate greedy / contrastive so
 * the VM's drift affects both alike, and ratios are medians of the per-round ratios.
 */
async function benchDecode(name: ConfigName, c: Config, model: CausalLM, adapter: LoraAdapter, rng: Rng, weights: 'float32' | 'bf16' = 'float32'): Promise<void> {
  const report = (rec: Record<string, unknown>) => reportLine(weights === 'bf16' ? { ...rec, weights } : rec);
  const prompt = Array.from({ length: 64 }, () => rng.int(c.vocab_size));
  const timed = async (decoder?: Decoder, promptCache?: PromptCache, withAdapter = true) => {
    let firstToken = 0;
    const t = performance.now();
    await generate(model, [prompt], { maxNewTokens: 32, eosTokenIds: [], adapter: withAdapter ? adapter : null, decoder, promptCache, onToken: (_s, _t, step) => { if (step === 0) firstToken = performance.now(); } });
    const end = performance.now();
    return { total: (end - t) / 1000, prompt: (firstToken - t) / 1000, steps: (end - firstToken) / 1000 };
  };
  // The pipeline's case: the TAM model (the amateur) has read this prompt before (the TAM baseline or another
  // contrastive method decoded it), so a contrastive call reads the prompt with the expert row only.
  const amateurRead = new PromptCache();
  await timed();
  await timed(contrastiveDecoder());
  await timed(contrastiveDecoder(), amateurRead);
  const g: Array<Awaited<ReturnType<typeof timed>>> = [];
  const cd: typeof g = [];
  const cdCached: typeof g = [];
  const bare: typeof g = [];
  // The kinds of run take turns going first, so whatever a run leaves behind (garbage to collect, a cooled cache)
  // falls on each kind alike.
  const kinds = [
    async () => g.push(await timed()),
    async () => cd.push(await timed(contrastiveDecoder())),
    async () => cdCached.push(await timed(contrastiveDecoder(), amateurRead)),
    async () => bare.push(await timed(undefined, undefined, false)),
  ];
  for (let i = 0; i < ROUNDS; i++) for (let j = 0; j < kinds.length; j++) await kinds[(i + j) % kinds.length]();
  amateurRead.dispose();
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const ratio = (k: 'total' | 'prompt' | 'steps', runs: typeof g) => med(g.map((x, i) => runs[i][k] / x[k]));
  /** The medians of a set of runs as one measurement line's common fields. */
  const timing = (measure: string, runs: typeof g) => {
    const m = { total: med(runs.map((x) => x.total)), prompt: med(runs.map((x) => x.prompt)), steps: med(runs.map((x) => x.steps)) };
    return { config: name, measure, value: 32 / m.total, per_step_tokens_per_s: 31 / m.steps, prompt_ms: m.prompt * 1000 };
  };
  const ratios = (runs: typeof g) => ({ cost_ratio_vs_greedy: ratio('total', runs), per_step_cost_ratio: ratio('steps', runs), prompt_cost_ratio: ratio('prompt', runs) });
  report({ ...timing('greedy_decode_tokens_per_s', g), note: 'batch 1, prompt 64, 32 new, KV cache, with the user adapter; value includes the prompt (prompt_ms: prompt forward and first token)' });
  report({ ...timing('greedy_decode_bare_tokens_per_s', bare), note: 'as greedy, the base model alone (what llama-bench runs)' });
  report({ ...timing('contrastive_decode_tokens_per_s', cd), ...ratios(cd) });
  report({
    ...timing('contrastive_decode_amateur_prompt_cached_tokens_per_s', cdCached), ...ratios(cdCached),
    note: 'as contrastive, with a PromptCache holding the amateur\'s read of this prompt (the pipeline: the TAM baseline or another contrastive method read it before), so the prompt is read by the expert row only',
  });
  // Sampling as the pseudo-negative stage samples (temperature 1, top-p 0.95, no top-k): on this untrained
  // model nearly every token is in the nucleus, the processors' worst case.
  const sampler = plainDecoder({ doSample: true, temperature: 1, topK: 0, topP: 0.95 });
  await timed(sampler);
  const sampled: typeof g = [];
  for (let i = 0; i < 5; i++) sampled.push(await timed(sampler));
  report({ ...timing('sample_decode_tokens_per_s', sampled), note: 'as greedy, sampling with temperature 1, top-p 0.95, no top-k (the pseudo-negative settings)' });
}

/**
 * Contrastive and greedy decoding of a model whose weights stay bf16 (written once as a random BF16 file under
 * the OS temp folder, loaded with `weights: 'bf16'`): prompt 64, 16 new tokens, expert (adapter) and amateur rows.
 */
async function benchBf16Decode(name: ConfigName, c: Config): Promise<void> {
  if (currentBackend() !== 'native') throw new Error(`the ${name} config keeps its weights in bf16, which needs the native backend (COPE_BACKEND=native)`);
  const { seq, batch, ...hf } = c;
  void batch;
  const dir = await randomBf16Model(path.join(os.tmpdir(), `cope-bench-${name}-bf16`), { model_type: 'mistral', ...hf, rms_norm_eps: 1e-5, rope_theta: 1e6 });
  const tLoad = performance.now();
  const model = await loadModel(dir, { weights: 'bf16' });
  report({ config: name, measure: 'bf16_load_s', value: (performance.now() - tLoad) / 1000, note: `${dir}: projections and head kept in bf16` });
  const rng = new Rng(1);
  const adapter = createLoraAdapter(model, 'bench', { r: 8, alpha: 8, targetModules: ['q_proj', 'v_proj'], dropout: 0.05 }, rng);
  const prompt = Array.from({ length: seq }, () => rng.int(c.vocab_size));
  for (const [measure, decoder] of [['bf16_contrastive_decode_tokens_per_s', contrastiveDecoder()], ['bf16_greedy_decode_tokens_per_s', undefined]] as const) {
    let first = 0;
    const t = performance.now();
    await generate(model, [prompt], { maxNewTokens: 16, eosTokenIds: [], adapter, decoder, onToken: (_s, _t, step) => { if (step === 0) first = performance.now(); } });
    const end = performance.now();
    report({ config: name, measure, value: 15 / ((end - first) / 1000), prompt_s: (first - t) / 1000, note: `per decoding step after the prompt (${seq} tokens), 16 new tokens` });
  }
  disposeAdapter(adapter);
  disposeModel(model);
}

/** {@link benchDecode} on a random model of config `name`'s shape whose weights stay bf16 (native backend). */
async function benchDecodeBf16(name: ConfigName, c: Config): Promise<void> {
  const { seq, batch, ...hf } = c;
  void seq;
  void batch;
  const dir = await randomBf16Model(path.join(os.tmpdir(), `cope-bench-${name}-bf16`), { model_type: 'llama', ...hf, rms_norm_eps: 1e-5 });
  const model = await loadModel(dir, { weights: 'bf16' });
  const rng = new Rng(1);
  const adapter = createLoraAdapter(model, 'bench', { r: 8, alpha: 8, targetModules: ['q_proj', 'v_proj'], dropout: 0.05 }, rng);
  await benchDecode(name, c, model, adapter, rng, 'bf16');
  disposeAdapter(adapter);
  disposeModel(model);
}

/**
 * `pnpm bench [small,medium,large,xl,7b] [forward,train,dpo,decode,pipeline]`: configs (small and medium by default) and
 * measurement groups (all by default; decoding only for large, the pipeline group only for xl).
 */
async function main(): Promise<void> {
  if (process.argv[2] === 'browser') return benchBrowser(report);
  const which = (process.argv[2] ?? 'small,medium').split(',') as ConfigName[];
  const named = process.argv[3] !== undefined;
  const groups = new Set((process.argv[3] ?? GROUPS.join(',')).split(','));
  for (const n of which) if (!(n in CONFIGS)) throw new Error(`unknown config "${n}": expected ${Object.keys(CONFIGS).join(', ')}`);
  for (const g of groups) if (!(GROUPS as readonly string[]).includes(g)) throw new Error(`unknown group "${g}": expected ${GROUPS.join(', ')}`);
  const runsFor = (name: ConfigName) => (g: string) => groups.has(g) && (named || !DEFAULT_GROUPS[name] || DEFAULT_GROUPS[name]!.includes(g));
  // A run that trains nothing keeps weight copies as the CLI's inference commands do (`pnpm bench large`: the
  // 0.5B model keeps its packed copies).
  await initBackend(process.env.COPE_BACKEND ?? 'auto', { inferenceOnly: which.every((n) => !runsFor(n)('train') && !runsFor(n)('dpo')) });
  const a = tf.randomNormal([512, 512]);
  const b = tf.randomNormal([512, 512]);
  const gflopsOf = async (product: () => tf.Tensor) => {
    const s = await median(15, async () => {
      const c = product();
      await c.data();
      c.dispose();
    });
    return (2 * 512 ** 3) / s / 1e9;
  };
  const frozenB: { kernel: tf.Tensor2D; packed?: tf.Tensor1D } = { kernel: b as tf.Tensor2D };
  const gflops: MatmulFigures = { backend: await gflopsOf(() => tf.matMul(a, b)), frozen: await gflopsOf(() => opsFor().frozenMatmul(a as tf.Tensor2D, frozenB)) };
  tf.dispose([a, b]);
  frozenB.packed?.dispose();
  report({ measure: 'matmul_512_gflops', value: gflops.backend, note: 'the backend\'s product (tf.matMul)' });
  report({ measure: 'frozen_matmul_512_gflops', value: gflops.frozen, note: 'the frozen-weight product forward passes run: wasm, the rows kernel over a packed copy; native, the row-invariant product' });

  for (const name of which) {
    const c = CONFIGS[name];
    if (name === '7b') {
      if (runsFor(name)('decode')) await benchBf16Decode(name, c);
      continue;
    }
    const rng = new Rng(1);
    const model = randomModel(c, rng);
    const runs = runsFor(name);
    if (runs('forward')) await benchForward(name, c, model, rng);
    if (runs('train')) await benchTrain(name, c, model, gflops);
    const adapter = createLoraAdapter(model, 'bench', { r: 8, alpha: 8, targetModules: ['q_proj', 'v_proj'], dropout: 0.05 }, rng);
    if (runs('dpo')) await benchDpo(name, c, model, adapter, rng);
    if (runs('decode')) await benchDecode(name, c, model, adapter, rng);
    // The same shape with 16-bit weights, as llama.cpp's converter writes them (f16 by default): half the bytes a step.
    if (runs('decode') && currentBackend() === 'native' && (name === 'small' || name === 'medium')) await benchDecodeBf16(name, c);
    if (runs('pipeline')) await benchPipeline(name, c, model, adapter, rng);
    disposeAdapter(adapter);
    disposeModel(model);
  }
}

if (isMainThread) {
  main().catch((e) => {
    console.error(`bench failed: ${(e as Error).message}`);
    process.exit(1);
  });
} else {
  (async () => {
    await initBackend(process.env.COPE_BACKEND ?? 'auto', { threads: 1 });
    parentPort!.postMessage(await trainStepSeconds((workerData as { config: keyof typeof CONFIGS }).config));
  })();
}

import { tf } from './tf.js';
import type { Tensor1D, Tensor2D } from './tf.js';
import type { ModelConfig } from './config.js';
import type { FrozenKernel } from './frozen-copies.js';
import { transposeU16 } from './dtype.js';
import { opsFor } from './ops/select.js';
import type { HostTensor } from './safetensors.js';

/** The seven projections of a Llama block; LoRA may target any of them. */
export const PROJECTIONS = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const;
export type ProjectionName = (typeof PROJECTIONS)[number];

/** A linear layer: kernel [in, out] (the transpose of the Hugging Face [out, in] weight), optional bias [out]. */
export interface Linear extends FrozenKernel {
  bias?: Tensor1D;
}

export interface LayerWeights {
  inputNorm: Tensor1D;
  postAttentionNorm: Tensor1D;
  proj: Record<ProjectionName, Linear>;
}

/**
 * All weights of a causal LM. `lmHead` is [hidden, vocab]. `embed` is [vocab, hidden], absent with tied
 * embeddings: the head's kernel is then the only copy (lookups read its columns, or its `kernelT` copy while the
 * transposed-copy budget keeps one), which saves vocab × hidden floats (544 MB at Qwen2-0.5B's size).
 */
export interface ModelWeights {
  embed?: Tensor2D;
  layers: LayerWeights[];
  norm: Tensor1D;
  lmHead: FrozenKernel;
}

/** A model is data: its config plus its weights. Functions in this package run it. */
export interface CausalLM {
  config: ModelConfig;
  weights: ModelWeights;
  /**
   * Identifies the weights without reading them back: sha256 over the config and every safetensors byte the
   * model was loaded from, or over its parts' fingerprints for a merged model. Absent for models built in memory.
   */
  fingerprint?: string;
}

const MODULE_OF: Record<ProjectionName, 'self_attn' | 'mlp'> = {
  q_proj: 'self_attn', k_proj: 'self_attn', v_proj: 'self_attn', o_proj: 'self_attn',
  gate_proj: 'mlp', up_proj: 'mlp', down_proj: 'mlp',
};

/** The Hugging Face parameter name of a projection, e.g. `model.layers.3.self_attn.q_proj`. */
export function projectionPath(layer: number, proj: ProjectionName): string {
  return `model.layers.${layer}.${MODULE_OF[proj]}.${proj}`;
}

/** Expected [out, in] shape of a projection's Hugging Face weight. */
export function projectionShape(c: ModelConfig, proj: ProjectionName): [number, number] {
  const q = c.numHeads * c.headDim;
  const kv = c.numKvHeads * c.headDim;
  switch (proj) {
    case 'q_proj': return [q, c.hiddenSize];
    case 'k_proj': case 'v_proj': return [kv, c.hiddenSize];
    case 'o_proj': return [c.hiddenSize, q];
    case 'gate_proj': case 'up_proj': return [c.intermediateSize, c.hiddenSize];
    case 'down_proj': return [c.hiddenSize, c.intermediateSize];
  }
}

/**
 * Builds device weights from host tensors in Hugging Face naming. Checks that every tensor exists with
 * the shape the config implies; errors name the tensor, `source`, and the expected shape. `consume`: delete each
 * entry from `host` once it is a tensor.
 */
export function weightsFromHost(config: ModelConfig, host: Map<string, HostTensor>, source = 'model', opts: { consume?: boolean } = {}): ModelWeights {
  const take = (name: string, shape: number[]): HostTensor => {
    const t = host.get(name);
    // Consumed: the map lets go of each host copy once it is a tensor (a 7B model's would otherwise be held twice).
    if (opts.consume) host.delete(name);
    if (!t) throw new Error(`${source}: missing tensor "${name}" (expected shape [${shape}])`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new Error(`${source}: tensor "${name}" has shape [${t.shape}], expected [${shape}] from config.json`);
    }
    return t;
  };
  const vec = (name: string, n: number) => tf.tensor1d(take(name, [n]).data);
  const kernelOf = (name: string, outIn: [number, number]): FrozenKernel => {
    const t = take(name, outIn);
    if (t.bf16) {
      // [out, in] bits → [in, out], then viewed as int32 pairs: tfjs has no bf16 dtype.
      const [out, inDim] = outIn;
      if (out % 2 !== 0) throw new Error(`${source}: tensor "${name}" kept in bf16 needs an even output size, got [${outIn}]`);
      return { kernel: tf.tensor2d(new Int32Array(transposeU16(t.bf16, out, inDim).buffer), [inDim, out / 2], 'int32'), bf16: true };
    }
    return { kernel: tf.tidy(() => opsFor().transpose(tf.tensor2d(t.data, outIn))) };
  };
  const H = config.hiddenSize;
  const layers: LayerWeights[] = [];
  for (let l = 0; l < config.numLayers; l++) {
    const proj = {} as Record<ProjectionName, Linear>;
    for (const p of PROJECTIONS) {
      const shape = projectionShape(config, p);
      const path = projectionPath(l, p);
      const lin: Linear = kernelOf(`${path}.weight`, shape);
      if (config.qkvBias && (p === 'q_proj' || p === 'k_proj' || p === 'v_proj')) lin.bias = vec(`${path}.bias`, shape[0]);
      proj[p] = lin;
    }
    layers.push({
      inputNorm: vec(`model.layers.${l}.input_layernorm.weight`, H),
      postAttentionNorm: vec(`model.layers.${l}.post_attention_layernorm.weight`, H),
      proj,
    });
  }
  const norm = vec('model.norm.weight', H);
  if (config.tieWordEmbeddings || !host.has('lm_head.weight')) {
    if (!config.tieWordEmbeddings) throw new Error(`${source}: missing tensor "lm_head.weight" (tie_word_embeddings is false)`);
    // One layout only, the head's [hidden, vocab]: lookups read its columns (transformer.ts).
    return { layers, norm, lmHead: kernelOf('model.embed_tokens.weight', [config.vocabSize, H]) };
  }
  const embed = tf.tensor2d(take('model.embed_tokens.weight', [config.vocabSize, H]).data, [config.vocabSize, H]);
  return { embed, layers, norm, lmHead: kernelOf('lm_head.weight', [config.vocabSize, H]) };
}

/** Host copies of the weights under Hugging Face names (for saving a model we trained or merged). */
export async function weightsToHost(model: CausalLM): Promise<Map<string, HostTensor>> {
  refuseBf16(model, 'saving');
  const out = new Map<string, HostTensor>();
  const put = async (name: string, t: tf.Tensor) => out.set(name, { shape: t.shape.slice(), data: (await t.data()) as Float32Array });
  const putKernel = async (name: string, k: Tensor2D) => {
    const t = tf.transpose(k);
    await put(name, t);
    t.dispose();
  };
  const w = model.weights;
  if (w.embed) await put('model.embed_tokens.weight', w.embed);
  else await putKernel('model.embed_tokens.weight', w.lmHead.kernel);
  for (let l = 0; l < w.layers.length; l++) {
    const layer = w.layers[l];
    await put(`model.layers.${l}.input_layernorm.weight`, layer.inputNorm);
    await put(`model.layers.${l}.post_attention_layernorm.weight`, layer.postAttentionNorm);
    for (const p of PROJECTIONS) {
      await putKernel(`${projectionPath(l, p)}.weight`, layer.proj[p].kernel);
      const b = layer.proj[p].bias;
      if (b) await put(`${projectionPath(l, p)}.bias`, b);
    }
  }
  await put('model.norm.weight', w.norm);
  if (!model.config.tieWordEmbeddings) await putKernel('lm_head.weight', w.lmHead.kernel);
  return out;
}

/**
 * Every tensor a model owns (each once), e.g. to dispose it. With `derived` false, only the parameters:
 * the copies built lazily (transposed and packed) are left out.
 */
export function modelTensors(model: CausalLM, derived = true): tf.Tensor[] {
  const w = model.weights;
  // Embedding first, as before tied embeddings lost their separate copy: DPO's reference cache keys on this order.
  const ts = new Set<tf.Tensor>(w.embed ? [w.embed, w.norm, w.lmHead.kernel] : [w.norm, w.lmHead.kernel]);
  const addCopies = (k: FrozenKernel) => {
    if (!derived) return;
    if (k.kernelT) ts.add(k.kernelT);
    if (k.packed) ts.add(k.packed);
    if (k.packedT) ts.add(k.packedT);
  };
  addCopies(w.lmHead);
  for (const l of w.layers) {
    ts.add(l.inputNorm);
    ts.add(l.postAttentionNorm);
    for (const p of PROJECTIONS) {
      const lin = l.proj[p];
      ts.add(lin.kernel);
      addCopies(lin);
      if (lin.bias) ts.add(lin.bias);
    }
  }
  return [...ts];
}

/** Frees a model's tensors. */
export function disposeModel(model: CausalLM): void {
  for (const t of modelTensors(model)) t.dispose();
}

/**
 * Full-parameter training: a copy of the model whose parameters are trainable `tf.Variable`s (the
 * input model is left as is). Tied embeddings are not supported here (the head is a transposed copy).
 */
export function trainableModel(model: CausalLM, prefix = 'full'): { model: CausalLM; variables: tf.Variable[] } {
  refuseBf16(model, 'full-parameter training');
  if (model.config.tieWordEmbeddings || !model.weights.embed) throw new Error('full-parameter training needs untied embeddings (tie_word_embeddings: false)');
  const vars: tf.Variable[] = [];
  const v = <T extends tf.Tensor>(t: T, name: string): T => {
    const x = tf.variable(t, true, `${prefix}/${name}#${vars.length}`);
    vars.push(x);
    return x as unknown as T;
  };
  const w = model.weights;
  const layers = w.layers.map((l, i) => ({
    inputNorm: v(l.inputNorm, `${i}/inputNorm`),
    postAttentionNorm: v(l.postAttentionNorm, `${i}/postNorm`),
    proj: Object.fromEntries(PROJECTIONS.map((p) => [p, { kernel: v(l.proj[p].kernel, `${i}/${p}`), bias: l.proj[p].bias ? v(l.proj[p].bias!, `${i}/${p}/bias`) : undefined }])) as Record<ProjectionName, Linear>,
  }));
  const out: CausalLM = { config: model.config, weights: { embed: v(w.embed!, 'embed'), layers, norm: v(w.norm, 'norm'), lmHead: { kernel: v(w.lmHead.kernel, 'lm_head') } } };
  return { model: out, variables: vars };
}

/** Throws when the model keeps weights in bf16 (loaded for inference on the native backend): `what` needs float32 weights. */
export function refuseBf16(model: CausalLM, what: string): void {
  const kept = model.weights.lmHead.bf16 || model.weights.layers.some((l) => PROJECTIONS.some((p) => l.proj[p].bf16));
  if (kept) throw new Error(`${what} needs float32 weights; this model keeps bf16 ones (loadModel(dir, { weights: 'bf16' }) is for inference): load it with weights: 'float32'`);
}

import { z } from 'zod';
import { parseProblem } from '@cope/core';

/** Architectures this package runs: all Llama-shaped decoder-only transformers. */
export const SUPPORTED_MODEL_TYPES = ['llama', 'mistral', 'qwen2'] as const;

const ropeScalingSchema = z
  .object({
    rope_type: z.string().optional(),
    type: z.string().optional(),
    factor: z.number().optional(),
    low_freq_factor: z.number().optional(),
    high_freq_factor: z.number().optional(),
    original_max_position_embeddings: z.number().optional(),
  })
  .passthrough();

const hfConfigSchema = z
  .object({
    model_type: z.string(),
    vocab_size: z.number().int().positive(),
    hidden_size: z.number().int().positive(),
    intermediate_size: z.number().int().positive(),
    num_hidden_layers: z.number().int().positive(),
    num_attention_heads: z.number().int().positive(),
    num_key_value_heads: z.number().int().positive().optional(),
    head_dim: z.number().int().positive().nullish(),
    hidden_act: z.string().default('silu'),
    max_position_embeddings: z.number().int().positive().default(2048),
    rms_norm_eps: z.number().positive().default(1e-6),
    rope_theta: z.number().positive().default(10000),
    rope_scaling: ropeScalingSchema.nullish(),
    tie_word_embeddings: z.boolean().optional(),
    attention_bias: z.boolean().optional(),
    mlp_bias: z.boolean().optional(),
    bos_token_id: z.union([z.number(), z.null()]).optional(),
    eos_token_id: z.union([z.number(), z.array(z.number()), z.null()]).optional(),
    pad_token_id: z.union([z.number(), z.null()]).optional(),
  })
  .passthrough();

/** Llama-3 style RoPE frequency scaling. */
export interface Llama3RopeScaling {
  type: 'llama3';
  factor: number;
  lowFreqFactor: number;
  highFreqFactor: number;
  originalMaxPositionEmbeddings: number;
}

/** The model hyper-parameters the transformer needs, normalised across architectures. */
export interface ModelConfig {
  modelType: (typeof SUPPORTED_MODEL_TYPES)[number];
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  maxPositionEmbeddings: number;
  rmsNormEps: number;
  ropeTheta: number;
  ropeScaling: Llama3RopeScaling | null;
  tieWordEmbeddings: boolean;
  /** q/k/v projections carry a bias (Qwen2, or `attention_bias`). */
  qkvBias: boolean;
  bosTokenId: number | null;
  eosTokenIds: number[];
  padTokenId: number | null;
}

/**
 * Normalises a parsed `config.json`. Throws an error naming `source` for an unknown `model_type`,
 * an unsupported activation or RoPE scaling, or a missing/ill-typed field.
 */
export function parseModelConfig(raw: unknown, source = 'config.json'): ModelConfig {
  const parsed = hfConfigSchema.safeParse(raw);
  if (!parsed.success) throw new Error(parseProblem(source, parsed.error));
  const c = parsed.data;
  if (!(SUPPORTED_MODEL_TYPES as readonly string[]).includes(c.model_type)) {
    throw new Error(`${source}: model_type: unsupported "${c.model_type}" (expected one of ${SUPPORTED_MODEL_TYPES.join(', ')})`);
  }
  if (c.hidden_act !== 'silu') throw new Error(`${source}: hidden_act: unsupported "${c.hidden_act}" (expected "silu")`);
  if (c.mlp_bias) throw new Error(`${source}: mlp_bias: true is not supported`);
  let ropeScaling: Llama3RopeScaling | null = null;
  if (c.rope_scaling) {
    const kind = c.rope_scaling.rope_type ?? c.rope_scaling.type;
    if (kind === 'llama3') {
      const r = c.rope_scaling;
      ropeScaling = {
        type: 'llama3',
        factor: r.factor ?? 8,
        lowFreqFactor: r.low_freq_factor ?? 1,
        highFreqFactor: r.high_freq_factor ?? 4,
        originalMaxPositionEmbeddings: r.original_max_position_embeddings ?? 8192,
      };
    } else if (kind !== 'default') {
      throw new Error(`${source}: rope_scaling: unsupported type "${kind}" (supported: llama3)`);
    }
  }
  const numKvHeads = c.num_key_value_heads ?? c.num_attention_heads;
  if (c.num_attention_heads % numKvHeads !== 0) {
    throw new Error(`${source}: num_attention_heads (${c.num_attention_heads}) must be a multiple of num_key_value_heads (${numKvHeads})`);
  }
  const modelType = c.model_type as ModelConfig['modelType'];
  const eos = c.eos_token_id;
  return {
    modelType,
    vocabSize: c.vocab_size,
    hiddenSize: c.hidden_size,
    intermediateSize: c.intermediate_size,
    numLayers: c.num_hidden_layers,
    numHeads: c.num_attention_heads,
    numKvHeads,
    headDim: c.head_dim ?? c.hidden_size / c.num_attention_heads,
    maxPositionEmbeddings: c.max_position_embeddings,
    rmsNormEps: c.rms_norm_eps,
    ropeTheta: c.rope_theta,
    ropeScaling,
    // transformers defaults tie_word_embeddings to true for llama/mistral's PretrainedConfig, but
    // Qwen2 and every released Llama/Mistral checkpoint state it; default as PretrainedConfig does.
    tieWordEmbeddings: c.tie_word_embeddings ?? true,
    qkvBias: modelType === 'qwen2' ? true : Boolean(c.attention_bias),
    bosTokenId: c.bos_token_id ?? null,
    eosTokenIds: eos == null ? [] : Array.isArray(eos) ? eos : [eos],
    padTokenId: c.pad_token_id ?? null,
  };
}

/** Back to the Hugging Face `config.json` form (for models we train and save). */
export function toHfConfig(c: ModelConfig): Record<string, unknown> {
  const arch = { llama: 'LlamaForCausalLM', mistral: 'MistralForCausalLM', qwen2: 'Qwen2ForCausalLM' }[c.modelType];
  return {
    architectures: [arch],
    model_type: c.modelType,
    vocab_size: c.vocabSize,
    hidden_size: c.hiddenSize,
    intermediate_size: c.intermediateSize,
    num_hidden_layers: c.numLayers,
    num_attention_heads: c.numHeads,
    num_key_value_heads: c.numKvHeads,
    head_dim: c.headDim,
    hidden_act: 'silu',
    max_position_embeddings: c.maxPositionEmbeddings,
    rms_norm_eps: c.rmsNormEps,
    rope_theta: c.ropeTheta,
    rope_scaling: c.ropeScaling
      ? { rope_type: 'llama3', factor: c.ropeScaling.factor, low_freq_factor: c.ropeScaling.lowFreqFactor, high_freq_factor: c.ropeScaling.highFreqFactor, original_max_position_embeddings: c.ropeScaling.originalMaxPositionEmbeddings }
      : null,
    tie_word_embeddings: c.tieWordEmbeddings,
    attention_bias: c.modelType === 'qwen2' ? undefined : c.qkvBias,
    bos_token_id: c.bosTokenId,
    eos_token_id: c.eosTokenIds.length === 1 ? c.eosTokenIds[0] : c.eosTokenIds,
    pad_token_id: c.padTokenId,
    torch_dtype: 'float32',
  };
}


/**
 * Trains the embedded tiny base model from scratch (full-parameter) on the embedded corpus of the
 * NON-target users only (target users stay unseen until personalization), and saves it in Hugging Face
 * layout next to the tokenizer, with @cope/sft's full-parameter trainer (resumable: an interrupted run
 * continues from `<modelDir>/.pretrain/checkpoint`). Reproducible: seeded init, seeded order.
 *
 * Usage: `node tools/dist/pretrain/pretrain.js [dataDir] [modelDir] [epochs]`
 */
import { Rng, folderStore } from '@cope/core';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ChatFormatter, TASKS, encodeTurn, loadTokenizer, tamTurns, type SftExample, type TaskName } from '@cope/data';
import {
  currentBackend, disposeModel, initBackend, parseModelConfig, saveModel, weightsFromHost, type CausalLM, type HostTensor, type ModelConfig,
} from '@cope/model';
import { resolveSftConfig, trainFull } from '@cope/sft';

export const TINY_ARCH = { hidden_size: 128, intermediate_size: 352, num_hidden_layers: 4, num_attention_heads: 4, num_key_value_heads: 2 };

/** GPT-2 style init: N(0, 0.02), norms at 1. */
export function initModel(config: ModelConfig, rng: Rng): CausalLM {
  const host = new Map<string, HostTensor>();
  const normal = (shape: number[], std: number) => ({ shape, data: Float32Array.from({ length: shape[0] * (shape[1] ?? 1) }, () => rng.normal() * std) });
  const ones = (n: number) => ({ shape: [n], data: new Float32Array(n).fill(1) });
  const H = config.hiddenSize;
  const kv = config.numKvHeads * config.headDim;
  const resid = 0.02 / Math.sqrt(2 * config.numLayers);
  host.set('model.embed_tokens.weight', normal([config.vocabSize, H], 0.02));
  host.set('lm_head.weight', normal([config.vocabSize, H], 0.02));
  host.set('model.norm.weight', ones(H));
  for (let l = 0; l < config.numLayers; l++) {
    const p = `model.layers.${l}`;
    host.set(`${p}.input_layernorm.weight`, ones(H));
    host.set(`${p}.post_attention_layernorm.weight`, ones(H));
    host.set(`${p}.self_attn.q_proj.weight`, normal([config.numHeads * config.headDim, H], 0.02));
    host.set(`${p}.self_attn.k_proj.weight`, normal([kv, H], 0.02));
    host.set(`${p}.self_attn.v_proj.weight`, normal([kv, H], 0.02));
    host.set(`${p}.self_attn.o_proj.weight`, normal([H, config.numHeads * config.headDim], resid));
    host.set(`${p}.mlp.gate_proj.weight`, normal([config.intermediateSize, H], 0.02));
    host.set(`${p}.mlp.up_proj.weight`, normal([config.intermediateSize, H], 0.02));
    host.set(`${p}.mlp.down_proj.weight`, normal([H, config.intermediateSize], resid));
  }
  return { config, weights: weightsFromHost(config, host, 'init') };
}

/** Pretraining examples: the non-target users' queries and profile items as chat turns, plus raw texts. */
export async function pretrainExamples(dataDir: string, modelDir: string): Promise<SftExample[]> {
  const tok = await loadTokenizer(modelDir);
  const chat = new ChatFormatter(tok);
  const out: SftExample[] = [];
  for (const task of Object.keys(TASKS) as TaskName[]) {
    const spec = TASKS[task];
    const others = JSON.parse(readFileSync(path.join(dataDir, task, 'user_others.json'), 'utf8'));
    for (const turn of tamTurns(spec, others)) out.push(encodeTurn(tok, chat, turn, 256));
    for (const u of others) {
      for (const item of u.profile) {
        out.push(encodeTurn(tok, chat, { system: spec.system, user: spec.itemTestPrompt(item), target: item[spec.targetField] }, 256));
        // Raw text documents: the whole sequence is the target (plain language modelling).
        const ids = tok.encode(Object.entries(item).filter(([k]) => k !== 'id').map(([, v]) => v).join('\n')).slice(0, 256);
        if (tok.eosId != null) ids.push(tok.eosId);
        out.push({ ids, labelMask: ids.map((_, i) => (i === 0 ? 0 : 1)), promptLength: 1, truncated: false });
      }
    }
  }
  return out;
}

/** Pretraining settings: full-parameter SFT at a higher learning rate than fine-tuning, gentler clipping. */
export const PRETRAIN_CONFIG = { learningRate: 3e-3, batchSize: 16, warmupRatio: 0.05, maxGradNorm: 1.0, weightDecay: 0.01, checkpointEvery: 100 };

export async function pretrain(dataDir: string, modelDir: string, epochs = 6, seed = 1234): Promise<void> {
  await initBackend(process.env.COPE_BACKEND ?? 'auto');
  const tok = await loadTokenizer(modelDir);
  const config = parseModelConfig({
    model_type: 'llama', vocab_size: tok.vocabSize, ...TINY_ARCH, max_position_embeddings: 512, rms_norm_eps: 1e-5, rope_theta: 10000,
    tie_word_embeddings: false, bos_token_id: tok.bosId, eos_token_id: tok.eosId, pad_token_id: tok.padId,
  });
  const init = initModel(config, new Rng(seed));
  const examples = await pretrainExamples(dataDir, modelDir);
  console.log(`backend ${currentBackend()}; ${examples.length} examples, ${examples.reduce((a, e) => a + e.ids.length, 0)} tokens per epoch`);
  // Trains into a work folder (resumable), then copies the weights next to the tokenizer.
  const work = path.join(modelDir, '.pretrain');
  const { model } = await trainFull({
    model: init, examples, store: folderStore(work), padId: tok.padId ?? 0,
    config: resolveSftConfig(null, { ...PRETRAIN_CONFIG, epochs, seed }),
    onStep: (l) => { if (l.step % 20 === 0 || l.step === l.totalSteps) console.log(`step ${l.step}/${l.totalSteps} loss ${l.loss.toFixed(4)} ${l.elapsedSeconds.toFixed(0)}s`); },
  });
  await saveModel(model, modelDir);
  writeFileSync(path.join(modelDir, 'generation_config.json'), JSON.stringify({ bos_token_id: tok.bosId, eos_token_id: tok.eosId, pad_token_id: tok.padId }, null, 2) + '\n');
  rmSync(work, { recursive: true, force: true });
  disposeModel(model);
  disposeModel(init);
}

if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) {
  const dataDir = process.argv[2] ?? path.resolve('data', 'embedded');
  const modelDir = process.argv[3] ?? path.resolve('data', 'models', 'cope-tiny');
  pretrain(dataDir, modelDir, Number(process.argv[4] ?? 6)).then(() => console.log(`saved ${modelDir}`));
}

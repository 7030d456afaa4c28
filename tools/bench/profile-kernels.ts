/**
 * `node tools/dist/bench/profile-kernels.js [small|medium] [train|decode]`: the backend's kernels in one
 * training step (or one greedy decoding call), their summed time by name, slowest first. A tool for finding
 * where a backend spends a step; not part of the test suite.
 */
import { Rng } from '@cope/core';
import { adapterVariables, createLoraAdapter, disposeCache, forward, initBackend, parseModelConfig, tf, weightsFromHost, type HostTensor } from '@cope/model';
import { maskedCrossEntropy } from '@cope/sft';

const CONFIGS = {
  small: { vocab_size: 8000, hidden_size: 256, num_hidden_layers: 4, num_attention_heads: 8, num_key_value_heads: 2, intermediate_size: 688, seq: 128, batch: 8 },
  medium: { vocab_size: 32000, hidden_size: 512, num_hidden_layers: 8, num_attention_heads: 8, num_key_value_heads: 2, intermediate_size: 1376, seq: 128, batch: 4 },
};

async function main(): Promise<void> {
  await initBackend(process.env.COPE_BACKEND ?? 'auto');
  const c = CONFIGS[(process.argv[2] ?? 'small') as keyof typeof CONFIGS];
  const rng = new Rng(1);
  const config = parseModelConfig({ model_type: 'llama', ...c, tie_word_embeddings: true, rms_norm_eps: 1e-5 });
  const host = new Map<string, HostTensor>();
  const rand = (shape: number[]) => ({ shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal() * 0.02) });
  const H = config.hiddenSize;
  const kv = config.numKvHeads * config.headDim;
  host.set('model.embed_tokens.weight', rand([config.vocabSize, H]));
  host.set('model.norm.weight', { shape: [H], data: new Float32Array(H).fill(1) });
  for (let l = 0; l < config.numLayers; l++) {
    const p = `model.layers.${l}`;
    host.set(`${p}.input_layernorm.weight`, { shape: [H], data: new Float32Array(H).fill(1) });
    host.set(`${p}.post_attention_layernorm.weight`, { shape: [H], data: new Float32Array(H).fill(1) });
    for (const [n, s] of [['self_attn.q_proj', [H, H]], ['self_attn.k_proj', [kv, H]], ['self_attn.v_proj', [kv, H]], ['self_attn.o_proj', [H, H]], ['mlp.gate_proj', [config.intermediateSize, H]], ['mlp.up_proj', [config.intermediateSize, H]], ['mlp.down_proj', [H, config.intermediateSize]]] as const) {
      host.set(`${p}.${n}.weight`, rand([...s]));
    }
  }
  const model = { config, weights: weightsFromHost(config, host, 'prof') };
  const ids = Array.from({ length: c.batch }, () => Array.from({ length: c.seq }, () => rng.int(c.vocab_size)));
  const adapter = createLoraAdapter(model, 'p', { r: 8, alpha: 8, targetModules: ['q_proj', 'v_proj'], dropout: 0.05 }, rng);
  const vars = adapterVariables(adapter);
  const train = () => {
    const { value, grads } = tf.variableGrads(() => maskedCrossEntropy(forward(model, ids, { adapters: adapter, dropoutRng: rng }).logits, ids, ids.map((r) => r.map(() => 1))), vars);
    tf.dispose([value, ...Object.values(grads)]);
  };
  // Greedy decoding as the bench measures it: a 64-token prompt, then 32 one-token steps on the KV cache.
  const decode = () => {
    let r = forward(model, [ids[0].slice(0, 64)], { useCache: true, lastOnly: true, adapters: adapter });
    for (let i = 0; i < 32; i++) {
      const next = tf.tidy(() => tf.argMax(r.logits.reshape([-1])).dataSync()[0]);
      const n = forward(model, [[next]], { cache: r.cache, useCache: true, lastOnly: true, adapters: adapter });
      disposeCache(r.cache);
      r.logits.dispose();
      r = n;
    }
    disposeCache(r.cache);
    r.logits.dispose();
  };
  const step = process.argv[3] === 'decode' ? decode : train;
  step();
  if (process.env.COPE_PROFILE_WRAP) {
    // Times each kernel call by wrapping the backend's kernels: tf.profile reads every output, which on the
    // native backend keeps outputs out of its memory pool and so slows the kernels it measures.
    const times = new Map<string, { ms: number; n: number }>();
    for (const k of tf.getKernelsForBackend(tf.getBackend())) {
      const f = k.kernelFunc;
      tf.unregisterKernel(k.kernelName, k.backendName);
      tf.registerKernel({ ...k, kernelFunc: ((args: unknown) => {
        const t = performance.now();
        const out = (f as (a: unknown) => unknown)(args);
        const e = times.get(k.kernelName) ?? { ms: 0, n: 0 };
        e.ms += performance.now() - t;
        e.n++;
        times.set(k.kernelName, e);
        return out;
      }) as typeof f });
    }
    step();
    times.clear();
    const t = performance.now();
    step();
    const total = performance.now() - t;
    const rows = [...times.entries()].sort((a, b) => b[1].ms - a[1].ms);
    console.log(`step ${total.toFixed(0)} ms, kernels ${rows.reduce((a, r) => a + r[1].ms, 0).toFixed(0)} ms`);
    for (const [name, e] of rows.slice(0, 25)) console.log(`${name.padEnd(24)} ${e.ms.toFixed(1).padStart(8)} ms  ${String(e.n).padStart(5)} calls`);
    return;
  }
  const t0 = performance.now();
  const info = await tf.profile(step);
  const total = performance.now() - t0;
  const by = new Map<string, { ms: number; n: number }>();
  for (const k of info.kernels) {
    const e = by.get(k.name) ?? { ms: 0, n: 0 };
    e.ms += Number(k.kernelTimeMs) || 0;
    e.n++;
    by.set(k.name, e);
  }
  const rows = [...by.entries()].sort((a, b) => b[1].ms - a[1].ms);
  console.log(`step ${total.toFixed(0)} ms (profiled), kernels ${rows.reduce((a, r) => a + r[1].ms, 0).toFixed(0)} ms`);
  for (const [name, e] of rows.slice(0, 25)) console.log(`${name.padEnd(24)} ${e.ms.toFixed(1).padStart(8)} ms  ${String(e.n).padStart(5)} calls`);
  const detail = process.env.COPE_PROFILE_KERNEL;
  if (detail) {
    const calls = info.kernels.filter((k) => k.name === detail).sort((p, q) => Number(q.kernelTimeMs) - Number(p.kernelTimeMs));
    for (const k of calls.slice(0, 15)) console.log(`  ${Number(k.kernelTimeMs).toFixed(2)} ms ${JSON.stringify(k.inputShapes)} -> ${JSON.stringify(k.outputShapes)}`);
  }
}

void main();

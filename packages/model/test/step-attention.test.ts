import { Rng } from '@cope/core';
import { disposeCache, disposeModel, forward, parseModelConfig, tf, weightsFromHost, type CausalLM, type HostTensor, type KvCache } from '@cope/model';
import { stepAttention, stepAttentionAvailable } from '../src/wasm/step-attention.js';
import { setupBackend, onWasm } from './helpers.js';

beforeAll(setupBackend);

/** Float64 reference: per query head, softmax over the cache of scale·q·k + bias, times the values. */
function hostAttention(q: Float32Array, k: Float32Array, vT: Float32Array, bias: Float32Array, B: number, H: number, kvH: number, T: number, hd: number, scale: number): Float64Array {
  const g = H / kvH;
  const out = new Float64Array(B * H * hd);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const kv = b * kvH + Math.floor(h / g);
      const s = Array.from({ length: T }, (_, t) => {
        let dot = 0;
        for (let d = 0; d < hd; d++) dot += q[(b * H + h) * hd + d] * k[(kv * T + t) * hd + d];
        return dot * scale + bias[b * T + t];
      });
      const m = Math.max(...s);
      const e = s.map((x) => Math.exp(x - m));
      const z = e.reduce((a, c) => a + c, 0);
      for (let d = 0; d < hd; d++) {
        let acc = 0;
        for (let t = 0; t < T; t++) acc += e[t] * vT[(kv * hd + d) * T + t];
        out[(b * H + h) * hd + d] = acc / z;
      }
    }
  }
  return out;
}

describe('decoding-step attention kernel (wasm)', () => {
  const rng = new Rng(5);
  const rand = (n: number, s = 1) => Float32Array.from({ length: n }, () => rng.normal() * s);

  // [B, H, kvH, T, hd]: one cached token, grouped heads with a ragged cache length, plain multi-head,
  // a long cache with large scores (the softmax's shift matters).
  test.each([[1, 4, 2, 1, 8], [2, 8, 2, 67, 64], [3, 4, 4, 5, 16], [1, 8, 2, 600, 32]])('B %i, H %i, kvH %i, T %i, hd %i: equals a float64 computation within 1e-5 (float32 sums over the cache)', (B, H, kvH, T, hd) => {
    if (!onWasm()) return;
    expect(stepAttentionAvailable()).toBe(true);
    const q = rand(B * H * hd, 2);
    const k = rand(B * kvH * T * hd, 2);
    const vT = rand(B * kvH * hd * T);
    // Left padding: the first positions of every other row are masked, as forward's bias does.
    const bias = new Float32Array(B * T);
    for (let b = 1; b < B; b += 2) bias.fill(-1e9, b * T, b * T + Math.floor(T / 2));
    const scale = 1 / Math.sqrt(hd);
    const before = tf.memory().numTensors;
    const out = tf.tidy(() => stepAttention(tf.tensor3d(q, [B, H, hd]), tf.tensor4d(k, [B, kvH, T, hd]), tf.tensor4d(vT, [B, kvH, hd, T]), tf.tensor2d(bias, [B, T]), scale));
    expect(out.shape).toEqual([B, H, hd]);
    const got = out.dataSync();
    out.dispose();
    expect(tf.memory().numTensors).toBe(before);
    const want = hostAttention(q, k, vT, bias, B, H, kvH, T, hd, scale);
    let worst = 0;
    want.forEach((w, i) => (worst = Math.max(worst, Math.abs(got[i] - w))));
    expect(worst).toBeLessThan(1e-5);
  });

  test('masked positions get exactly zero weight', () => {
    if (!onWasm()) return;
    // Two cached tokens, the first masked and holding huge values: they must not leak into the output.
    const out = tf.tidy(() => stepAttention(tf.tensor3d([1, 0, 0, 0], [1, 1, 4]), tf.tensor4d([0, 0, 0, 0, 1, 0, 0, 0], [1, 1, 2, 4]),
      tf.tensor4d([3e38, 1, 3e38, 2, 3e38, 3, 3e38, 4], [1, 1, 4, 2]), tf.tensor2d([-1e9, 0], [1, 2]), 1));
    expect(Array.from(out.dataSync())).toEqual([1, 2, 3, 4]);
    out.dispose();
  });

  test('the scratch row is freed: the backend holds no more data after a call', () => {
    if (!onWasm()) return;
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const inputs = [tf.zeros([1, 2, 4]), tf.zeros([1, 1, 3, 4]), tf.zeros([1, 1, 4, 3]), tf.zeros([1, 3])] as const;
    const ids = backend.numDataIds();
    const out = stepAttention(inputs[0] as tf.Tensor3D, inputs[1] as tf.Tensor4D, inputs[2] as tf.Tensor4D, inputs[3] as tf.Tensor2D, 0.5);
    expect(backend.numDataIds()).toBe(ids + 1);
    tf.dispose([out, ...inputs]);
  });

  test('bad shapes are named', () => {
    if (!onWasm()) return;
    tf.tidy(() => {
      expect(() => stepAttention(tf.zeros([1, 3, 4]), tf.zeros([1, 2, 5, 4]), tf.zeros([1, 2, 4, 5]), tf.zeros([1, 5]), 1)).toThrow(/mismatched shapes: q \[1,3,4\]/);
      expect(() => stepAttention(tf.zeros([1, 2, 4]), tf.zeros([1, 2, 5, 4]), tf.zeros([1, 2, 5, 4]), tf.zeros([1, 5]), 1)).toThrow(/vT \[1,2,5,4\]/);
      expect(() => stepAttention(tf.zeros([1, 2, 6]), tf.zeros([1, 2, 5, 6]), tf.zeros([1, 2, 6, 5]), tf.zeros([1, 5]), 1)).toThrow(/multiple of 4/);
    });
  });
});

/** A random Llama with the given head size (2 query heads sharing 1 kv head). */
function randomModel(hd: number, seed: number): CausalLM {
  const rng = new Rng(seed);
  const H = 2 * hd;
  const config = parseModelConfig({ model_type: 'llama', vocab_size: 40, hidden_size: H, num_hidden_layers: 2, num_attention_heads: 2, num_key_value_heads: 1, intermediate_size: 24, tie_word_embeddings: true });
  const host = new Map<string, HostTensor>();
  const rand = (shape: number[]) => ({ shape, data: Float32Array.from({ length: shape[0] * (shape[1] ?? 1) }, () => rng.normal() * 0.3) });
  host.set('model.embed_tokens.weight', rand([40, H]));
  host.set('model.norm.weight', { shape: [H], data: new Float32Array(H).fill(1) });
  for (let l = 0; l < 2; l++) {
    const p = `model.layers.${l}`;
    host.set(`${p}.input_layernorm.weight`, { shape: [H], data: new Float32Array(H).fill(1) });
    host.set(`${p}.post_attention_layernorm.weight`, { shape: [H], data: new Float32Array(H).fill(1) });
    for (const [name, shape] of [['self_attn.q_proj', [H, H]], ['self_attn.k_proj', [hd, H]], ['self_attn.v_proj', [hd, H]], ['self_attn.o_proj', [H, H]], ['mlp.gate_proj', [24, H]], ['mlp.up_proj', [24, H]], ['mlp.down_proj', [H, 24]]] as const) {
      host.set(`${p}.${name}.weight`, rand([...shape]));
    }
  }
  return { config, weights: weightsFromHost(config, host, 'test') };
}

// Head size 8 decodes through the kernel on wasm; 6 (not a multiple of 4) through the op-based path that
// other backends use.
test.each([8, 6])('decoding steps (head size %i, left-padded batch of two) equal the full forward', async (hd) => {
  const model = randomModel(hd, hd);
  const rows = [[0, 0, 5, 9, 2, 7, 30, 11], [4, 8, 15, 16, 23, 42 % 40, 1, 3]];
  const mask = [[0, 0, 1, 1, 1, 1, 1, 1], rows[1].map(() => 1)];
  const full = forward(model, rows, { attentionMask: mask });
  const want = (await full.logits.array()) as number[][][];
  full.logits.dispose();
  // The first 4 positions as a prompt, then one token per step against the cache.
  const prompt = forward(model, rows.map((r) => r.slice(0, 4)), { attentionMask: mask.map((m) => m.slice(0, 4)), useCache: true });
  prompt.logits.dispose();
  let cache = prompt.cache;
  let worst = 0;
  for (let t = 4; t < 8; t++) {
    const step = forward(model, rows.map((r) => [r[t]]), { attentionMask: [[1], [1]], cache, useCache: true });
    disposeCache(cache as KvCache);
    cache = step.cache;
    const got = (await step.logits.array()) as number[][][];
    step.logits.dispose();
    for (let b = 0; b < 2; b++) got[b][0].forEach((x, v) => (worst = Math.max(worst, Math.abs(x - want[b][t][v]))));
  }
  disposeCache(cache as KvCache);
  disposeModel(model);
  expect(worst).toBeLessThan(1e-5);
});

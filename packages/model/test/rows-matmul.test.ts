import { Rng, disposeModel, forward, tf, weightsFromHost, parseModelConfig, modelTensors, type CausalLM, type HostTensor } from '@cope/model';
import { packPanels, rowsMatmul, rowsMatmulAvailable } from '../src/kernels/rows-matmul.js';
import { setupBackend } from './helpers.js';

beforeAll(setupBackend);

/** Float64 reference product on the host. */
function hostProduct(x: Float32Array, w: Float32Array, rows: number, K: number, N: number): Float64Array {
  const y = new Float64Array(rows * N);
  for (let r = 0; r < rows; r++) for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) y[r * N + n] += x[r * K + k] * w[k * N + n];
  return y;
}

const onWasm = () => tf.getBackend() === 'wasm';

describe('rows kernel (one- and two-row products for decoding on wasm)', () => {
  test('is available on the wasm backend', () => {
    if (!onWasm()) return;
    expect(rowsMatmulAvailable()).toBe(true);
  });

  test.each([
    [1, 7, 5], [2, 7, 5], [2, 16, 16], [1, 3, 17], [2, 33, 40], [2, 64, 1914], [1, 256, 688], [2, 256, 688], [2, 688, 256],
  ])('%i row(s) × [%i, %i]: equals a float64 product and the backend matmul bit for bit', (rows, K, N) => {
    if (!onWasm()) return;
    const rng = new Rng(K * 1000 + N + rows);
    const xs = Float32Array.from({ length: rows * K }, () => rng.normal());
    const ws = Float32Array.from({ length: K * N }, () => rng.normal());
    const before = tf.memory().numTensors;
    const x = tf.tensor2d(xs, [rows, K]);
    const w = tf.tensor2d(ws, [K, N]);
    const packed = packPanels(w);
    expect(packed.size).toBe(Math.ceil(N / 16) * 16 * K);
    const y = rowsMatmul(x, packed, N);
    expect(y.shape).toEqual([rows, N]);
    const got = y.dataSync();
    const ref = hostProduct(xs, ws, rows, K, N);
    let worst = 0;
    for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(got[i] - ref[i]) / (1 + Math.abs(ref[i])));
    expect(worst).toBeLessThan(1e-5 * Math.sqrt(K));
    // Same summation order as the backend's own product (k ascending, multiply then add).
    const backend = tf.tidy(() => tf.matMul(x, w));
    expect(Buffer.from(got.buffer, got.byteOffset, got.byteLength).equals(Buffer.from(backend.dataSync().buffer))).toBe(true);
    backend.dispose();
    tf.dispose([x, w, packed, y]);
    expect(tf.memory().numTensors).toBe(before);
  });

  test('rejects other row counts and a packed weight of the wrong size', () => {
    if (!onWasm()) return;
    tf.tidy(() => {
      const packed = packPanels(tf.zeros([4, 8]) as tf.Tensor2D);
      expect(() => rowsMatmul(tf.zeros([3, 4]) as tf.Tensor2D, packed, 8)).toThrow(/1 or 2 rows, got 3/);
      expect(() => rowsMatmul(tf.zeros([1, 4]) as tf.Tensor2D, packed, 20)).toThrow(/expected 128 for \[4, 20\]/);
      expect(() => rowsMatmul(tf.zeros([1, 0]) as tf.Tensor2D, packed, 8)).toThrow(/empty product/);
    });
  });

  test('decoding steps pack each weight once, keep the copies with the model and free them with it', async () => {
    const rng = new Rng(5);
    const config = parseModelConfig({ model_type: 'llama', vocab_size: 50, hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, intermediate_size: 40, tie_word_embeddings: true });
    const host = new Map<string, HostTensor>();
    const rand = (shape: number[]) => ({ shape, data: Float32Array.from({ length: shape[0] * (shape[1] ?? 1) }, () => rng.normal() * 0.2) });
    host.set('model.embed_tokens.weight', rand([50, 32]));
    host.set('model.norm.weight', { shape: [32], data: new Float32Array(32).fill(1) });
    for (let l = 0; l < 2; l++) {
      const p = `model.layers.${l}`;
      host.set(`${p}.input_layernorm.weight`, { shape: [32], data: new Float32Array(32).fill(1) });
      host.set(`${p}.post_attention_layernorm.weight`, { shape: [32], data: new Float32Array(32).fill(1) });
      for (const [name, shape] of [['self_attn.q_proj', [32, 32]], ['self_attn.k_proj', [16, 32]], ['self_attn.v_proj', [16, 32]], ['self_attn.o_proj', [32, 32]], ['mlp.gate_proj', [40, 32]], ['mlp.up_proj', [40, 32]], ['mlp.down_proj', [32, 40]]] as const) {
        host.set(`${p}.${name}.weight`, rand([...shape]));
      }
    }
    const model: CausalLM = { config, weights: weightsFromHost(config, host, 'test') };
    const start = tf.memory().numTensors;
    const params = modelTensors(model, false).length;
    // Two one-token rows (the contrastive layout), three times: the packed copies appear on the first step only.
    const step = () => { const { logits } = forward(model, [[3], [4]]); logits.dispose(); };
    step();
    const afterFirst = tf.memory().numTensors;
    if (onWasm()) expect(afterFirst).toBeGreaterThan(start);
    step();
    step();
    expect(tf.memory().numTensors).toBe(afterFirst);
    expect(modelTensors(model).length - params).toBe(afterFirst - start);
    disposeModel(model);
    expect(tf.memory().numTensors).toBe(start - params);
  });
});

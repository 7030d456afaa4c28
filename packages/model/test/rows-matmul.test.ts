import { Rng } from '@cope/core';
import { adapterVariables, createLoraAdapter, disposeAdapter, disposeModel, forward, tf, tokenLogProbs, weightsFromHost, parseModelConfig, modelTensors, type CausalLM, type HostTensor } from '@cope/model';
import { packPanels, rowsMatmul, rowsMatmulAvailable, rowsMatmulChunked } from '../src/wasm/rows-matmul.js';
import { adapterMatmul } from '../src/wasm/products.js';
import { setupBackend, onWasm, bits, bytesOf } from './helpers.js';
import { setFrozenCopyBudgets } from '../src/frozen-copies.js';

beforeAll(setupBackend);

/** Float64 reference product on the host. */
function hostProduct(x: Float32Array, w: Float32Array, rows: number, K: number, N: number): Float64Array {
  const y = new Float64Array(rows * N);
  for (let r = 0; r < rows; r++) for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) y[r * N + n] += x[r * K + k] * w[k * N + n];
  return y;
}

/**
 * A small random Llama: untied by default, so every projection and the head are frozen kernels of their own; tied,
 * the head's kernel is also the embedding table.
 */
function smallModel(seed: number, tied = false): CausalLM {
  const rng = new Rng(seed);
  const config = parseModelConfig({ model_type: 'llama', vocab_size: 50, hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, intermediate_size: 40, tie_word_embeddings: tied });
  const host = new Map<string, HostTensor>();
  const rand = (shape: number[]) => ({ shape, data: Float32Array.from({ length: shape[0] * (shape[1] ?? 1) }, () => rng.normal() * 0.2) });
  host.set('model.embed_tokens.weight', rand([50, 32]));
  if (!tied) host.set('lm_head.weight', rand([50, 32]));
  host.set('model.norm.weight', { shape: [32], data: new Float32Array(32).fill(1) });
  for (let l = 0; l < 2; l++) {
    const p = `model.layers.${l}`;
    host.set(`${p}.input_layernorm.weight`, { shape: [32], data: new Float32Array(32).fill(1) });
    host.set(`${p}.post_attention_layernorm.weight`, { shape: [32], data: new Float32Array(32).fill(1) });
    for (const [name, shape] of [['self_attn.q_proj', [32, 32]], ['self_attn.k_proj', [16, 32]], ['self_attn.v_proj', [16, 32]], ['self_attn.o_proj', [32, 32]], ['mlp.gate_proj', [40, 32]], ['mlp.up_proj', [40, 32]], ['mlp.down_proj', [32, 40]]] as const) {
      host.set(`${p}.${name}.weight`, rand([...shape]));
    }
  }
  return { config, weights: weightsFromHost(config, host, 'test') };
}

/** Decoding-step logits (two rows) and LoRA gradients after one step, as host arrays. */
async function decodeAndTrain(model: CausalLM): Promise<{ logits: Float32Array; grads: Float32Array[] }> {
  const { logits } = forward(model, [[3], [4]]);
  const host = (await logits.data()) as Float32Array;
  logits.dispose();
  const adapter = createLoraAdapter(model, 'u', { r: 4, alpha: 8, dropout: 0, targetModules: ['q_proj', 'v_proj'] }, new Rng(9));
  // B starts at zero (PEFT init): make it non-zero so the gradient reaches the frozen kernels' backward.
  tf.tidy(() => adapterVariables(adapter).forEach((v, k) => v.assign(tf.randomNormal(v.shape, 0, 0.1, 'float32', 3 + k))));
  // Seven positions: products of many rows (pairs and an odd row) forward and backward.
  const ids = [[1, 5, 6, 7, 8, 9, 2]];
  const { value, grads } = tf.variableGrads(() => tf.neg(tf.mean(tokenLogProbs(forward(model, ids, { adapters: adapter }).logits, ids))) as tf.Scalar, adapterVariables(adapter));
  const out = await Promise.all(Object.keys(grads).sort().map(async (k) => (await grads[k].data()) as Float32Array));
  tf.dispose([value, ...Object.values(grads)]);
  disposeAdapter(adapter);
  return { logits: host, grads: out };
}

describe('rows kernel (products with packed frozen weights on wasm: decoding steps, prompts, training batches)', () => {
  test('is available on the wasm backend', () => {
    if (!onWasm()) return;
    expect(rowsMatmulAvailable()).toBe(true);
  });

  test.each([
    [1, 7, 5], [2, 7, 5], [2, 16, 16], [1, 3, 17], [2, 33, 40], [2, 64, 1914], [1, 256, 688], [2, 256, 688], [2, 688, 256],
    // LoRA's A and B products at rank 8.
    [2, 256, 8], [1, 8, 256], [2, 8, 688],
    // Prompts and training batches: pairs of rows per panel, an odd row left over, partial panels.
    [3, 33, 40], [5, 7, 5], [64, 256, 688], [129, 100, 37], [1024, 256, 64],
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

  test.each([
    // Streamed (up to 6 rows): K with and without a multiple of 4 left over, N with columns past the last 4.
    [1, 7, 5], [2, 9, 18], [1, 256, 688], [2, 256, 1000], [3, 33, 37], [5, 64, 1914], [6, 13, 40000],
    // Packed a few panels at a time: partial groups, a last partial panel, an odd row.
    [7, 33, 40], [64, 256, 688], [129, 100, 37], [9, 2048, 100], [1024, 256, 64],
  ])('%i row(s) × [%i, %i] from the plain weight (no packed copy kept): the backend matmul bit for bit', (rows, K, N) => {
    if (!onWasm()) return;
    const rng = new Rng(K * 1000 + N + rows + 7);
    const backend = tf.engine().backend as unknown as { numDataIds(): number };
    const before = tf.memory().numTensors;
    const x = tf.tensor2d(Float32Array.from({ length: rows * K }, () => rng.normal()), [rows, K]);
    const w = tf.tensor2d(Float32Array.from({ length: K * N }, () => rng.normal()), [K, N]);
    const buffers = backend.numDataIds();
    const y = rowsMatmulChunked(x, w);
    // The output is the one buffer left: the scratch of packed panels is freed.
    expect(backend.numDataIds()).toBe(buffers + 1);
    const ref = tf.tidy(() => tf.matMul(x, w));
    expect(y.shape).toEqual([rows, N]);
    expect(bits(y).equals(bits(ref))).toBe(true);
    tf.dispose([x, w, y, ref]);
    expect(tf.memory().numTensors).toBe(before);
  });

  test.each([[1, 1], [3, 5], [7, 16], [5, 17], [33, 40], [256, 688], [64, 1914]])('[%i, %i] packed on the heap: panel p row k is W[k, 16p ..] then zeros', (K, N) => {
    if (!onWasm()) return;
    const rng = new Rng(K * 31 + N);
    const ws = Float32Array.from({ length: K * N }, () => rng.normal());
    const size = Math.ceil(N / 16) * 16 * K;
    // Freed NaNs of the packed size first: the padding must be written, not left as the heap had it.
    tf.tensor1d(new Float32Array(size).fill(Number.NaN)).dispose();
    const w = tf.tensor2d(ws, [K, N]);
    const packed = packPanels(w);
    const got = packed.dataSync();
    const want = new Float32Array(size);
    for (let p = 0; p * 16 < N; p++) for (let k = 0; k < K; k++) for (let j = 0; j < 16 && 16 * p + j < N; j++) want[(p * K + k) * 16 + j] = ws[k * N + 16 * p + j];
    expect(Buffer.from(got.buffer, got.byteOffset, got.byteLength).equals(Buffer.from(want.buffer))).toBe(true);
    tf.dispose([w, packed]);
  });

  test('rejects an empty product and a packed weight of the wrong size', () => {
    if (!onWasm()) return;
    tf.tidy(() => {
      const packed = packPanels(tf.zeros([4, 8]) as tf.Tensor2D);
      expect(() => rowsMatmul(tf.zeros([0, 4]) as tf.Tensor2D, packed, 8)).toThrow(/empty product \[0, 4\]/);
      expect(() => rowsMatmul(tf.zeros([1, 4]) as tf.Tensor2D, packed, 20)).toThrow(/expected 128 for \[4, 20\]/);
      expect(() => rowsMatmul(tf.zeros([1, 0]) as tf.Tensor2D, packed, 8)).toThrow(/empty product/);
      expect(() => packPanels(tf.zeros([0, 8]) as tf.Tensor2D)).toThrow('packPanels: expected a non-empty float32 kernel, got float32 [0,8]');
      expect(() => rowsMatmulChunked(tf.zeros([1, 4]) as tf.Tensor2D, tf.zeros([5, 8]) as tf.Tensor2D)).toThrow(/x \[1,4\] and W \[5,8\] do not fit/);
      expect(() => rowsMatmulChunked(tf.zeros([0, 4]) as tf.Tensor2D, tf.zeros([4, 8]) as tf.Tensor2D)).toThrow(/empty product/);
    });
  });

  test('decoding steps pack each weight once, keep the copies with the model and free them with it', async () => {
    const model = smallModel(5);
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

  // Copies refused by zero budgets, or by a heap limit below what the tensors already take; backward products
  // then run over transposed blocks of 3 kernel rows (the head's 32 rows in 11 pieces, the last one partial).
  const refusals: Record<string, Parameters<typeof setFrozenCopyBudgets>[0]> = { budgets: { transposed: 0, packed: 0, piece: 3 * 50 * 4 }, 'heap limit': { heap: 0, piece: 3 * 50 * 4 } };
  test.each([false, true].flatMap((tied) => Object.keys(refusals).map((how) => [tied, how] as const)))('with copies refused nothing is kept, and decoding logits and LoRA gradients are bitwise the same, backward products in pieces (tied embeddings: %s; %s)', async (tied, how) => {
    const kept = smallModel(6, tied);
    const lean = smallModel(6, tied);
    const params = modelTensors(lean).length;
    const a = await decodeAndTrain(kept);
    expect(modelTensors(kept).length).toBeGreaterThan(params);
    // Tied: the lookups read the head's kept transposed copy (without the budget, its columns).
    expect(kept.weights.embed === undefined).toBe(tied);
    if (tied) expect(kept.weights.lmHead.kernelT?.shape).toEqual([50, 32]);
    // With the budgets, training ran on the rows kernel both ways: packed copies of every kernel, and of the
    // last layer's kernelsᵀ (layer 0's inputs need no gradient: the embeddings are frozen).
    if (onWasm()) {
      expect(kept.weights.layers.every((l) => Object.values(l.proj).every((k) => k.packed))).toBe(true);
      expect(Object.values(kept.weights.layers[1].proj).every((k) => k.packedT)).toBe(true);
    }
    setFrozenCopyBudgets(refusals[how]);
    try {
      const before = tf.memory().numTensors;
      const b = await decodeAndTrain(lean);
      // No transposed or packed kernel copies are kept.
      const kernels = [lean.weights.lmHead, ...lean.weights.layers.flatMap((l) => Object.values(l.proj))];
      expect(kernels.filter((k) => k.kernelT || k.packed || k.packedT)).toEqual([]);
      expect(modelTensors(lean).length).toBe(params);
      expect(tf.memory().numTensors).toBe(before);
      expect(bytesOf(b.logits).equals(bytesOf(a.logits))).toBe(true);
      expect(b.grads.length).toBe(a.grads.length);
      b.grads.forEach((g, i) => expect(bytesOf(g).equals(bytesOf(a.grads[i]))).toBe(true));
      expect(Math.max(...a.grads.map((g) => Math.max(...g.map(Math.abs))))).toBeGreaterThan(0);
    } finally {
      setFrozenCopyBudgets({ transposed: 256 * 1024 * 1024, packed: 512 * 1024 * 1024, heap: 1.75 * 2 ** 30, piece: 32 * 1024 * 1024 });
      disposeModel(kept);
      disposeModel(lean);
    }
    expect(() => setFrozenCopyBudgets({ packed: -1 })).toThrow(/packed must be >= 0 bytes/);
    expect(() => setFrozenCopyBudgets({ heap: NaN })).toThrow(/heap must be >= 0 bytes/);
  });

  test('the heap limit counts the tensors held when the forward pass began, not a step\'s activations and gradients', async () => {
    if (!onWasm()) return;
    const model = smallModel(7);
    const adapter = createLoraAdapter(model, 'u', { r: 4, alpha: 8, dropout: 0, targetModules: ['q_proj', 'v_proj'] }, new Rng(9));
    tf.tidy(() => adapterVariables(adapter).forEach((v, k) => v.assign(tf.randomNormal(v.shape, 0, 0.1, 'float32', 3 + k))));
    const ids = [[1, 5, 6, 7, 8, 9, 2]];
    // 8 MB more than the model and its copies will ever hold, and a 16 MB tensor alive through the step's backward.
    setFrozenCopyBudgets({ heap: tf.memory().numBytes + 8e6 });
    try {
      const { value, grads } = tf.variableGrads(() => {
        const logits = forward(model, ids, { adapters: adapter }).logits;
        const ballast = tf.zeros([4e6]);
        return tf.add(tf.neg(tf.mean(tokenLogProbs(logits, ids))), tf.mul(tf.sum(ballast), 0)) as tf.Scalar;
      }, adapterVariables(adapter));
      tf.dispose([value, ...Object.values(grads)]);
      // Every kernel got its packed copy, and the last layer's every kernelᵀ too, as without a limit.
      expect(model.weights.layers.every((l) => Object.values(l.proj).every((k) => k.packed))).toBe(true);
      expect(Object.values(model.weights.layers[1].proj).every((k) => k.packedT)).toBe(true);
    } finally {
      setFrozenCopyBudgets({ heap: 1.75 * 2 ** 30 });
      disposeAdapter(adapter);
      disposeModel(model);
    }
  });

  test('adapter weights in one- and two-row products: a packed copy tied to the weight\'s value, with the plain product\'s values and gradients, freed by disposeAdapter or once its weight is disposed', () => {
    const model = smallModel(7);
    const adapter = createLoraAdapter(model, 'u', { r: 4, alpha: 8, targetModules: ['q_proj'] }, new Rng(2));
    const [a] = adapterVariables(adapter);
    const start = tf.memory().numTensors;
    const x = tf.tensor2d(Float32Array.from({ length: 64 }, (_, i) => Math.sin(i)), [2, 32]);
    const check = () => tf.tidy(() => {
      expect(bits(adapterMatmul(x, a)).equals(bits(tf.matMul(x, a as unknown as tf.Tensor2D)))).toBe(true);
      expect(bits(adapterMatmul(x.slice([1, 0], [1, 32]), a)).equals(bits(tf.matMul(x.slice([1, 0], [1, 32]), a as unknown as tf.Tensor2D)))).toBe(true);
    });
    check();
    // x and, on wasm, the packed copy of A.
    expect(tf.memory().numTensors).toBe(start + (onWasm() ? 2 : 1));
    // A new value (as after a training step) is repacked, not read from the stale copy.
    const next = tf.randomNormal(a.shape, 0, 1, 'float32', 4);
    a.assign(next);
    next.dispose();
    check();
    expect(tf.memory().numTensors).toBe(start + (onWasm() ? 2 : 1));
    const grads = (f: (xi: tf.Tensor2D, ai: tf.Tensor2D) => tf.Tensor2D) =>
      tf.tidy(() => tf.grads((xi: tf.Tensor, ai: tf.Tensor) => tf.sum(tf.mul(f(xi as tf.Tensor2D, ai as tf.Tensor2D), tf.range(1, 5))))([x, a]).map(bits));
    const viaCopy = grads((xi) => adapterMatmul(xi, a));
    const plain = grads((xi, ai) => tf.matMul(xi, ai));
    viaCopy.forEach((g, i) => expect(g.equals(plain[i])).toBe(true));
    disposeAdapter(adapter);
    // The adapter's four variables (A and B of two layers) and the packed copy are gone; x remains.
    expect(tf.memory().numTensors).toBe(start - 4 + 1);
    // A weight disposed directly (not by disposeAdapter) loses its copy when the next copy is made.
    const other = createLoraAdapter(model, 'v', { r: 4, alpha: 8, targetModules: ['v_proj'] }, new Rng(3));
    const [oa, ob] = adapterVariables(other);
    const x4 = tf.ones([2, 4]) as tf.Tensor2D;
    const w = onWasm() ? 1 : 0;
    tf.dispose(adapterMatmul(x, oa));
    expect(tf.memory().numTensors).toBe(start + 2 + w);
    oa.dispose();
    tf.dispose(adapterMatmul(x4, ob));
    expect(tf.memory().numTensors).toBe(start + 1 + w);
    disposeAdapter(other);
    tf.dispose([x, x4]);
    expect(tf.memory().numTensors).toBe(start - 4);
    disposeModel(model);
  });
});

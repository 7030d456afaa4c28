import { Rng } from '@cope/core';
import { describeWithFixtures, fixture } from '#testing';
import { adapterVariables, createLoraAdapter, disposeAdapter, disposeModel, forward, initBackend, loadModel, tf } from '@cope/model';
import { AdamW, clipByGlobalNorm, linearWarmupLr, maskedCrossEntropy } from '@cope/sft';

beforeAll(async () => {
  await initBackend(process.env.COPE_BACKEND ?? 'wasm');
});

test('one AdamW step equals the hand-computed torch update', async () => {
  const p = tf.variable(tf.tensor1d([1, -2]), true, 'adamw-test-p');
  const opt = new AdamW({ weightDecay: 0.01 });
  const g = tf.tensor1d([0.5, -1]);
  opt.apply([p], { [p.name]: g }, 0.1);
  // Step 1: m = 0.1 g, v = 0.001 g², m̂ = g, v̂ = g² → update = lr · g/(|g| + eps) = ±0.1 (minus 1e-8 effects);
  // decoupled decay first: p ← p · (1 − lr · wd) = p · 0.999.
  const want = [1 * 0.999 - 0.1 * (0.5 / (0.5 + 1e-8)), -2 * 0.999 + 0.1 * (1 / (1 + 1e-8))];
  const got = Array.from(await p.data());
  expect(got[0]).toBeCloseTo(want[0], 6);
  expect(got[1]).toBeCloseTo(want[1], 6);
  opt.dispose();
  tf.dispose([p, g]);
});

test('linear schedule: warm-up end and last step', () => {
  // 100 steps, ratio 0.1 → 10 warm-up steps.
  expect(linearWarmupLr(1e-4, 0, 100, 0.1)).toBe(0);
  expect(linearWarmupLr(1e-4, 5, 100, 0.1)).toBeCloseTo(5e-5, 15);
  expect(linearWarmupLr(1e-4, 10, 100, 0.1)).toBeCloseTo(1e-4, 15);
  expect(linearWarmupLr(1e-4, 99, 100, 0.1)).toBeCloseTo(1e-4 / 90, 15);
  expect(linearWarmupLr(1e-4, 100, 100, 0.1)).toBe(0);
});

test('global-norm clipping scales by max/(norm + 1e-6)', async () => {
  const grads = { a: tf.tensor1d([3, 0]), b: tf.tensor1d([0, 4]) };
  const { grads: c, norm } = clipByGlobalNorm(grads, 0.3);
  expect(norm).toBeCloseTo(5, 6);
  expect((await c.a.data())[0]).toBeCloseTo((3 * 0.3) / (5 + 1e-6), 6);
  tf.dispose([...Object.values(grads), ...Object.values(c)]);
});

describeWithFixtures('LoRA training on tiny-llama', ['models/tiny-llama/model.safetensors'], () => {
  test('LoRA gradients equal central finite differences (relative error < 1e-2)', async () => {
    const model = await loadModel(fixture('models', 'tiny-llama'));
    const adapter = createLoraAdapter(model, 'fd', { r: 2, alpha: 4, targetModules: ['q_proj', 'v_proj'] }, new Rng(5));
    // Non-zero B so that A receives gradient too.
    tf.tidy(() => adapter.layers[0].v_proj!.b.assign(tf.randomNormal([2, 32], 0, 0.1, 'float32', 9)));
    const ids = [[1, 40, 50, 60, 70, 80]];
    const mask = [[0, 0, 0, 1, 1, 1]];
    const vars = adapterVariables(adapter);
    const loss = () => maskedCrossEntropy(forward(model, ids, { adapters: adapter }).logits, ids, mask);
    const { grads, value } = tf.variableGrads(loss, vars);
    value.dispose();
    const checks: Array<[tf.Variable, number]> = [[adapter.layers[0].v_proj!.a, 3], [adapter.layers[0].v_proj!.b, 7], [adapter.layers[1].q_proj!.b, 11]];
    for (const [v, idx] of checks) {
      const analytic = (await grads[v.name].data())[idx];
      const h = 1e-2;
      const base = Array.from(await v.data());
      const at = async (delta: number) => {
        const moved = base.slice();
        moved[idx] += delta;
        v.assign(tf.tensor(moved, v.shape));
        const l = loss();
        const x = (await l.data())[0];
        l.dispose();
        return x;
      };
      const numeric = ((await at(h)) - (await at(-h))) / (2 * h);
      v.assign(tf.tensor(base, v.shape));
      expect(Math.abs(analytic - numeric) / Math.max(Math.abs(numeric), 1e-3)).toBeLessThan(1e-2);
    }
    tf.dispose(Object.values(grads));
    disposeAdapter(adapter);
    disposeModel(model);
  });
});

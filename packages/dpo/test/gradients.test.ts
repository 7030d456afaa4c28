import { Rng } from '@cope/core';
import { describeWithFixtures } from '#testing';
import { withFixtureModel } from '#testing/models';
import { adapterVariables, createLoraAdapter, disposeAdapter, initBackend, tf, type CausalLM } from '@cope/model';
import { DEFAULT_DPO_LOSS, dpoGradients } from '@cope/dpo';

beforeAll(async () => {
  await initBackend(process.env.COPE_BACKEND ?? 'wasm');
});

describeWithFixtures('DPO gradients with each completion in its own backward pass', ['models/tiny-llama/config.json'], () => {
  let model: CausalLM;
  withFixtureModel('tiny-llama', (m) => (model = m));

  test('equal one tape over the whole batch: loss, every LoRA gradient and the reward statistics; no leaks', async () => {
    const rng = new Rng(5);
    const adapter = createLoraAdapter(model, 'u', { r: 4, alpha: 8, dropout: 0, targetModules: ['q_proj', 'v_proj'] }, new Rng(2));
    // B must not be zero, or every gradient of A is zero and the comparison says little.
    for (const v of adapterVariables(adapter)) v.assign(tf.randomNormal(v.shape, 0, 0.05, 'float32', 7));
    const batch = Array.from({ length: 3 }, (_, i) => ({
      prompt: [1, ...Array.from({ length: 5 + i }, () => 10 + rng.int(100))],
      chosen: Array.from({ length: 3 + i }, () => 100 + rng.int(50)),
      rejected: Array.from({ length: 4 }, () => 200 + rng.int(50)),
      refChosen: -20 - i,
      refRejected: -22 + i,
    }));
    const vars = adapterVariables(adapter);
    const read = async (g: Awaited<ReturnType<typeof dpoGradients>>) => {
      const out = {
        loss: (await g.loss.data())[0],
        grads: Object.fromEntries(await Promise.all(Object.entries(g.grads).map(async ([k, t]) => [k, Array.from(await t.data())] as const))),
        logs: Object.fromEntries(await Promise.all(Object.entries(g.logs ?? {}).map(async ([k, t]) => [k, (await t.data())[0]] as const))),
      };
      tf.dispose([g.loss, ...Object.values(g.grads), ...Object.values(g.logs ?? {})]);
      return out;
    };
    // A first pass keeps the weight copies the backward products use (wasm): counted before the compared passes.
    await read(await dpoGradients(model, adapter, batch, DEFAULT_DPO_LOSS, rng, vars, true));
    const n = tf.memory().numTensors;
    const together = await read(await dpoGradients(model, adapter, batch, DEFAULT_DPO_LOSS, rng, vars, false));
    const apart = await read(await dpoGradients(model, adapter, batch, DEFAULT_DPO_LOSS, rng, vars, true));
    expect(tf.memory().numTensors).toBe(n);
    expect(apart.loss).toBeCloseTo(together.loss, 6);
    expect(Object.keys(apart.grads).sort()).toEqual(Object.keys(together.grads).sort());
    let largest = 0;
    for (const [k, g] of Object.entries(together.grads)) {
      g.forEach((v, i) => {
        largest = Math.max(largest, Math.abs(v));
        expect(Math.abs(apart.grads[k][i] - v)).toBeLessThanOrEqual(1e-4 * Math.max(1e-3, Math.abs(v)) + 1e-7);
      });
    }
    expect(largest).toBeGreaterThan(1e-4);
    for (const [k, v] of Object.entries(together.logs)) expect(apart.logs[k]).toBeCloseTo(v, 4);
    disposeAdapter(adapter);
  });
});

import { Rng } from '@cope/core';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describeWithFixtures, fixture } from '#testing';
import { withTinyLlamaAndAdapter } from '#testing/models';
import {
  adapterVariables, createLoraAdapter, disposeAdapter, disposeModel, forward, loadLoraAdapter, loadModel, loraAdapterFromBytes, loraAdapterToBytes, mergeLoraAdapter, parseSafetensors, peftKey, saveLoraAdapter, tf, type CausalLM, type LoraAdapter,
} from '@cope/model';
import { maxAbsDiff, setupBackend } from './helpers.js';
import { tempDir } from '#testing/temp';

beforeAll(setupBackend);

describeWithFixtures('LoRA adapters', ['models/tiny-llama/adapter/adapter_config.json'], () => {
  let model: CausalLM;
  let adapter: LoraAdapter;
  const ids = [[5, 9, 12, 40, 7, 99, 3]];
  withTinyLlamaAndAdapter((m, a) => ((model = m), (adapter = a)));

  test('creating, loading and disposing adapters leaves no tensors behind', async () => {
    const before = tf.memory().numTensors;
    const bytes = tf.memory().numBytes;
    for (let i = 0; i < 3; i++) {
      disposeAdapter(createLoraAdapter(model, 'fresh', { r: 4, targetModules: ['q_proj', 'v_proj'] }, new Rng(i)));
      disposeAdapter(await loadLoraAdapter(model, fixture('models', 'tiny-llama', 'adapter')));
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(tf.memory().numBytes).toBe(bytes);
  });

  test('merged adapter gives the unmerged logits (1e-4) and leaves the base untouched', async () => {
    // The base's packed weight copies are built by a first forward; the merged model's are freed with it.
    forward(model, ids).logits.dispose();
    const n = tf.memory().numTensors;
    const merged = mergeLoraAdapter(model, adapter);
    const a = forward(model, ids, { adapters: adapter }).logits;
    const m = forward(merged, ids).logits;
    const base = forward(model, ids).logits;
    expect(maxAbsDiff(await a.data(), await m.data())).toBeLessThan(1e-4);
    expect(maxAbsDiff(await a.data(), await base.data())).toBeGreaterThan(1e-2);
    tf.dispose([a, m, base]);
    disposeModel(merged);
    expect(tf.memory().numTensors).toBe(n);
  });

  test('per-row adapters in one batch equal separate runs', async () => {
    const batch = [ids[0], ids[0], [1, 2, 3, 4, 5, 6, 7]];
    const mixed = forward(model, batch, { adapters: [adapter, null, adapter] }).logits;
    const withA = forward(model, batch, { adapters: adapter }).logits;
    const without = forward(model, batch).logits;
    const [mx, wa, wo] = [await mixed.array(), await withA.array(), await without.array()] as number[][][][];
    expect(maxAbsDiff(mx[0].flat(), wa[0].flat())).toBeLessThan(1e-5);
    expect(maxAbsDiff(mx[1].flat(), wo[1].flat())).toBeLessThan(1e-5);
    expect(maxAbsDiff(mx[2].flat(), wa[2].flat())).toBeLessThan(1e-5);
    tf.dispose([mixed, withA, without]);
  });

  test('PEFT save → load round trip is exact and uses PEFT key names and shapes', async () => {
    const dir = tempDir('cope-lora-');
    await saveLoraAdapter(adapter, dir);
    const cfg = JSON.parse(readFileSync(path.join(dir, 'adapter_config.json'), 'utf8'));
    expect(cfg).toMatchObject({ peft_type: 'LORA', r: 4, lora_alpha: 8, task_type: 'CAUSAL_LM' });
    const saved = parseSafetensors(readFileSync(path.join(dir, 'adapter_model.safetensors'))).tensors;
    const original = parseSafetensors(readFileSync(fixture('models', 'tiny-llama', 'adapter', 'adapter_model.safetensors'))).tensors;
    expect([...saved.keys()].sort()).toEqual([...original.keys()].sort());
    for (const [k, t] of original) {
      expect(saved.get(k)!.shape).toEqual(t.shape);
      expect(Array.from(saved.get(k)!.data)).toEqual(Array.from(t.data));
    }
    const again = await loadLoraAdapter(model, dir);
    const va = adapterVariables(adapter);
    const vb = adapterVariables(again);
    for (let i = 0; i < va.length; i++) expect(Array.from(await vb[i].data())).toEqual(Array.from(await va[i].data()));
    disposeAdapter(again);
  });

  test('from bytes (a browser\'s fetched or uploaded files) and back: the folder\'s adapter, fingerprint and files', async () => {
    const dir = fixture('models', 'tiny-llama', 'adapter');
    const config = JSON.parse(readFileSync(path.join(dir, 'adapter_config.json'), 'utf8'));
    const fromBytes = await loraAdapterFromBytes(model, config, readFileSync(path.join(dir, 'adapter_model.safetensors')), 'upload');
    try {
      expect(fromBytes.fingerprint).toBe(adapter.fingerprint);
      const [a, b] = [forward(model, ids, { adapters: adapter }).logits, forward(model, ids, { adapters: fromBytes }).logits];
      expect(Buffer.from((b.dataSync() as Float32Array).buffer).equals(Buffer.from((a.dataSync() as Float32Array).buffer))).toBe(true);
      tf.dispose([a, b]);
      // What a page offers for download is what saveLoraAdapter writes.
      const out = tempDir('cope-adapter-bytes-');
      await saveLoraAdapter(fromBytes, out);
      const bytes = await loraAdapterToBytes(fromBytes);
      expect(Buffer.from(bytes.safetensors).equals(readFileSync(path.join(out, 'adapter_model.safetensors')))).toBe(true);
      expect(JSON.stringify(bytes.config, null, 2) + '\n').toBe(readFileSync(path.join(out, 'adapter_config.json'), 'utf8'));
      await expect(loraAdapterFromBytes(model, config, new Uint8Array(3), 'upload')).rejects.toThrow(/upload\/adapter_model.safetensors: truncated file/);
    } finally {
      disposeAdapter(fromBytes);
    }
  });

  test('fresh adapters follow PEFT init: B is zero (output equals base), A within ±1/sqrt(in)', async () => {
    const fresh = createLoraAdapter(model, 'fresh', { r: 8, alpha: 16, targetModules: ['q_proj', 'v_proj', 'down_proj'] }, new Rng(1));
    const a = forward(model, ids, { adapters: fresh }).logits;
    const b = forward(model, ids).logits;
    expect(maxAbsDiff(await a.data(), await b.data())).toBe(0);
    const q = fresh.layers[0].q_proj!;
    const av = await q.a.data();
    const bound = 1 / Math.sqrt(model.config.hiddenSize);
    expect(Math.max(...Array.from(av).map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...Array.from(av).map(Math.abs))).toBeGreaterThan(bound * 0.8);
    expect(q.a.shape).toEqual([64, 8]);
    tf.dispose([a, b]);
    disposeAdapter(fresh);
  });

  test('an adapter made for another base is rejected with the tensor named', async () => {
    const other = await loadModel(fixture('models', 'tiny-qwen2'));
    await expect(loadLoraAdapter(other, fixture('models', 'tiny-llama', 'adapter'))).rejects.toThrow(/adapter made for another base/);
    disposeModel(other);
    expect(peftKey(1, 'q_proj', 'A')).toBe('base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight');
  });

  /** A copy of the fixture adapter whose adapter_config.json is changed by `edit`. */
  function adapterWith(edit: (cfg: Record<string, unknown>) => void): { dir: string; cfgFile: string; weightsFile: string } {
    const dir = tempDir('cope-adapter-');
    const src = fixture('models', 'tiny-llama', 'adapter');
    const cfg = JSON.parse(readFileSync(path.join(src, 'adapter_config.json'), 'utf8'));
    edit(cfg);
    writeFileSync(path.join(dir, 'adapter_config.json'), JSON.stringify(cfg));
    copyFileSync(path.join(src, 'adapter_model.safetensors'), path.join(dir, 'adapter_model.safetensors'));
    return { dir, cfgFile: path.join(dir, 'adapter_config.json'), weightsFile: path.join(dir, 'adapter_model.safetensors') };
  }

  test('adapter_config.json and the tensors are cross-checked as PEFT does, naming the disagreement', async () => {
    const notInModel = adapterWith((c) => { c.target_modules = ['q_proj', 'v_proj', 'o_proj', 'gate_proj', 'down_proj', 'c_attn']; });
    await expect(loadLoraAdapter(model, notInModel.dir)).rejects.toThrow(`${notInModel.cfgFile}: target_modules: c_attn not found in this base model (its adaptable modules: q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj)`);
    const noTensors = adapterWith((c) => { c.target_modules = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'down_proj']; });
    await expect(loadLoraAdapter(model, noTensors.dir)).rejects.toThrow(`${noTensors.cfgFile}: target_modules lists k_proj, but ${noTensors.weightsFile} has no LoRA tensors for it`);
    const unlisted = adapterWith((c) => { c.target_modules = ['q_proj', 'v_proj']; });
    await expect(loadLoraAdapter(model, unlisted.dir)).rejects.toThrow(`${unlisted.weightsFile}: LoRA tensors for o_proj, gate_proj, down_proj, which ${unlisted.cfgFile} target_modules (q_proj, v_proj) does not list`);
    const rank = adapterWith((c) => { c.r = 8; });
    await expect(loadLoraAdapter(model, rank.dir)).rejects.toThrow(/has shape \[4,64\] and .* \[\d+,4\], of rank 4, but .*adapter_config.json says r 8$/);
    const pattern = adapterWith((c) => { c.target_modules = '.*\\.(q_proj|v_proj)'; });
    await expect(loadLoraAdapter(model, pattern.dir)).rejects.toThrow(/LoRA tensors for model.layers.0.self_attn.o_proj, which .* target_modules ".*" does not match/);
    // Full module paths and a pattern covering every adapted module are PEFT's other spellings of the same adapter.
    for (const ok of [adapterWith((c) => { c.target_modules = '.*\\.(q_proj|v_proj|o_proj|gate_proj|down_proj)'; }), adapterWith((c) => { c.target_modules = (c.target_modules as string[]).map((m) => `model.layers.0.self_attn.${m}`); })]) {
      disposeAdapter(await loadLoraAdapter(model, ok.dir));
    }
  });
});

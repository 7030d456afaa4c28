import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fixture } from '#testing';
import { disposeAdapter, disposeModel, loadLoraAdapter, loadModel, mergeLoraAdapter, readModelConfig } from '@cope/model';
import { setupBackend } from './helpers.js';

beforeAll(setupBackend);

describe('model fingerprints come from the bytes loaded, not from reading weights back', () => {
  test('a loaded model: sha256 of its config and every safetensors byte; merged models combine their parts', async () => {
    const dir = fixture('models', 'tiny-llama');
    const model = await loadModel(dir);
    const expected = createHash('sha256').update(JSON.stringify(await readModelConfig(dir))).update(readFileSync(`${dir}/model.safetensors`)).digest('hex');
    expect(model.fingerprint).toBe(expected);
    const adapter = await loadLoraAdapter(model, `${dir}/adapter`);
    const merged = mergeLoraAdapter(model, adapter);
    const again = mergeLoraAdapter(model, adapter);
    expect(merged.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(merged.fingerprint).not.toBe(model.fingerprint);
    expect(again.fingerprint).toBe(merged.fingerprint);
    [merged, again, model].forEach(disposeModel);
    disposeAdapter(adapter);
  });
});

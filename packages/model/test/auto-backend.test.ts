import { readFileSync } from 'node:fs';
import { fixture } from '#testing';
import { AUTO_NATIVE_MODEL_BYTES, backendChoiceNote, initBackend, modelFloat32Bytes, parseSafetensors } from '@cope/model';

describe('auto backend choice', () => {
  test('modelFloat32Bytes reads the headers only: the float32 size of every tensor (bf16 files count double)', async () => {
    const file = fixture('models', 'tiny-qwen2', 'model.safetensors');
    const { tensors } = parseSafetensors(readFileSync(file), file);
    const expected = [...tensors.values()].reduce((a, t) => a + 4 * t.data.length, 0);
    expect(await modelFloat32Bytes(fixture('models', 'tiny-qwen2'))).toBe(expected);
    expect(await modelFloat32Bytes('/nonexistent')).toBe(0);
  });

  test('auto takes wasm for small models and native (when built) from 1 GiB of weights, and says why', async () => {
    expect(await initBackend('auto', { modelBytes: 1e6 })).toBe('wasm');
    expect(backendChoiceNote()).toMatch(/^auto: wasm for a model this size/);
    expect(await initBackend('auto', { modelBytes: AUTO_NATIVE_MODEL_BYTES })).toBe('native');
    expect(backendChoiceNote()).toBe('auto: native for 1.00 GiB of float32 weights');
    expect(await initBackend('wasm')).toBe('wasm');
    expect(backendChoiceNote()).toBe('');
  });
});

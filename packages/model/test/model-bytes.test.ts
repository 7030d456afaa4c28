import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fixture, readFixtureJson } from '#testing';
import { disposeModel, forward, loadModel, modelFromBytes, tf } from '@cope/model';
import { bits, setupBackend } from './helpers.js';

beforeAll(setupBackend);

/**
 * A model from bytes in memory (the browser's way: fetched or uploaded files) is the model read from its folder: the
 * same fingerprint, and logits bitwise the same; the folder's reader is the reference.
 */
describe('modelFromBytes', () => {
  test.each(['tiny-llama', 'tiny-qwen2'])('%s: the folder\'s fingerprint and logits', async (name) => {
    const dir = fixture('models', name);
    const fromDir = await loadModel(dir);
    const fromBytes = await modelFromBytes(JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')), readFileSync(path.join(dir, 'model.safetensors')), name);
    try {
      expect(fromBytes.fingerprint).toBe(fromDir.fingerprint);
      const ids = [readFixtureJson('models', name, 'expected.json').greedy.prompt];
      const [a, b] = [forward(fromDir, ids).logits, forward(fromBytes, ids).logits];
      expect(bits(b).equals(bits(a))).toBe(true);
      tf.dispose([a, b]);
    } finally {
      disposeModel(fromDir);
      disposeModel(fromBytes);
    }
  });

  test('bad bytes are refused naming the source and file', async () => {
    const config = readFixtureJson('models', 'tiny-llama', 'config.json');
    await expect(modelFromBytes(config, new Uint8Array(4), 'upload')).rejects.toThrow(/upload\/model.safetensors: truncated file/);
    await expect(modelFromBytes({ ...config, hidden_size: -1 }, new Uint8Array(4), 'upload')).rejects.toThrow(/upload\/config.json: hidden_size/);
  });
});

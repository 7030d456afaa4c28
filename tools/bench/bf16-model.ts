import { Rng } from '@cope/core';
import { createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { f32ToBf16, parseModelConfig, projectionPath, projectionShape, PROJECTIONS } from '@cope/model';

/** A Hugging Face config.json (llama family) the bench writes a random model for. */
export type HfConfig = Record<string, unknown> & { vocab_size: number; hidden_size: number; num_hidden_layers: number };

/**
 * A folder with `config.json` and a random BF16 `model.safetensors` of that shape (untied head), written once
 * and reused while the config matches: values about N(0, 0.02), drawn from a pool of random bf16 values read at
 * random offsets (a 7B model's 7.2G draws would take minutes). Written tensor by tensor, never whole in memory.
 */
export async function randomBf16Model(dir: string, hf: HfConfig, seed = 1): Promise<string> {
  const configText = JSON.stringify({ ...hf, torch_dtype: 'bfloat16', tie_word_embeddings: false }, null, 2) + '\n';
  const file = path.join(dir, 'model.safetensors');
  if (existsSync(file) && existsSync(path.join(dir, 'config.json')) && readFileSync(path.join(dir, 'config.json'), 'utf8') === configText) return dir;
  mkdirSync(dir, { recursive: true });
  const c = parseModelConfig(JSON.parse(configText));
  const H = c.hiddenSize;
  const tensors: Array<[string, number[]]> = [['model.embed_tokens.weight', [c.vocabSize, H]], ['model.norm.weight', [H]], ['lm_head.weight', [c.vocabSize, H]]];
  for (let l = 0; l < c.numLayers; l++) {
    tensors.push([`model.layers.${l}.input_layernorm.weight`, [H]], [`model.layers.${l}.post_attention_layernorm.weight`, [H]]);
    for (const p of PROJECTIONS) tensors.push([`${projectionPath(l, p)}.weight`, projectionShape(c, p)]);
  }
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [name, shape] of tensors) {
    const bytes = 2 * shape.reduce((a, b) => a * b, 1);
    header[name] = { dtype: 'BF16', shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const headerBytes = Buffer.from(JSON.stringify(header).padEnd(Math.ceil(JSON.stringify(header).length / 8) * 8, ' '));
  const rng = new Rng(seed);
  const pool = f32ToBf16(Float32Array.from({ length: 1 << 22 }, () => rng.normal() * 0.02));
  const ones = f32ToBf16(new Float32Array(H).fill(1));
  const tmp = `${file}.tmp`;
  const out = createWriteStream(tmp);
  const write = async (b: Uint8Array) => {
    if (!out.write(b)) await once(out, 'drain');
  };
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(headerBytes.length));
  await write(length);
  await write(headerBytes);
  for (const [name, shape] of tensors) {
    const n = shape.reduce((a, b) => a * b, 1);
    if (name.endsWith('norm.weight')) {
      await write(new Uint8Array(ones.buffer, 0, 2 * n));
      continue;
    }
    // Chunks of the pool from random starting points.
    for (let done = 0; done < n; ) {
      const start = rng.int(pool.length / 2);
      const take = Math.min(n - done, pool.length - start);
      await write(new Uint8Array(pool.slice(start, start + take).buffer));
      done += take;
    }
  }
  out.end();
  await once(out, 'finish');
  renameSync(tmp, file);
  writeFileSync(path.join(dir, 'config.json'), configText);
  return dir;
}

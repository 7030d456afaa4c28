import { writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  bf16ToF32, f16ToF32, f32ToBf16, parseModelConfig, parseSafetensors, readGenerationConfig, stopTokenIds, readModelWeights, ropeInvFreq, serializeSafetensors, SafetensorsError,
  type HostTensor,
} from '@cope/model';
import { tempDir } from '#testing/temp';

function file(header: object | string, data: Uint8Array = new Uint8Array(0), lenOverride?: number): Uint8Array {
  const h = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(lenOverride ?? h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

describe('safetensors', () => {
  test('round trip F32 is exact; BF16 rounds to nearest even', () => {
    const t: HostTensor = { shape: [2, 3], data: Float32Array.from([1, -2.5, 3.14159, 0, 1e-3, 65504]) };
    const back = parseSafetensors(serializeSafetensors(new Map([['w', t]]))).tensors.get('w')!;
    expect(back.shape).toEqual([2, 3]);
    expect(Array.from(back.data)).toEqual(Array.from(t.data));
    const bf = parseSafetensors(serializeSafetensors(new Map([['w', t]]), { dtype: 'BF16' })).tensors.get('w')!;
    // bf16 keeps 8 bits of mantissa: 3.14159 → 3.140625; 1e-3 is 0x3A83126F, low half < 0x8000 → 0x3A83 = 1.0234375·2^-10.
    expect(Array.from(bf.data)).toEqual([1, -2.5, 3.140625, 0, 0.00099945068359375, 65536]);
  });

  test('half-precision decoders match known bit patterns', () => {
    expect(Array.from(f16ToF32(Uint16Array.from([0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00])))).toEqual([1, -2, 65504, 2 ** -24, Infinity]);
    expect(Array.from(bf16ToF32(Uint16Array.from([0x3f80, 0xc049])))).toEqual([1, -3.140625]);
    expect(Array.from(f32ToBf16(Float32Array.from([1, 1.00390625, 1.01171875])))).toEqual([0x3f80, 0x3f80, 0x3f82]);
  });

  const ok = { w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
  test.each([
    ['truncated file', new Uint8Array(5), /model.safetensors: truncated file: 5 bytes/],
    ['header length past the end', file(ok, new Uint8Array(8), 10_000), /header length 10000 runs past the end/],
    ['bad JSON', file('{"w": ', new Uint8Array(0)), /header is not valid JSON/],
    ['unknown dtype', file({ w: { dtype: 'Q4', shape: [2], data_offsets: [0, 8] } }, new Uint8Array(8)), /tensor "w": unknown dtype "Q4"/],
    ['offsets out of range', file({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, new Uint8Array(8)), /tensor "w": data_offsets \[0, 16\] out of range/],
    ['overlapping offsets', file({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, new Uint8Array(12)), /"a" and "b" have overlapping data_offsets/],
    ['bytes not matching shape', file({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8)), /8 bytes do not match shape \[3\] of F32 \(12 bytes\)/],
    ['integer weights (a quantized checkpoint)', file({ 'model.layers.0.mlp.up_proj.weight': { dtype: 'I8', shape: [2], data_offsets: [0, 2] } }, new Uint8Array(2)),
      /model.safetensors: tensor "model.layers.0.mlp.up_proj.weight": dtype I8 is not a float weight \(expected one of F32, F16, BF16, F64; quantized checkpoints are not supported\)/],
  ])('%s gets a clear error naming the file', (_name, buf, pattern) => {
    expect(() => parseSafetensors(buf as Uint8Array, 'model.safetensors')).toThrow(pattern as RegExp);
    expect(() => parseSafetensors(buf as Uint8Array, 'model.safetensors')).toThrow(SafetensorsError);
  });

  test('integer tensors are widened to float32 only when asked to', () => {
    const buf = file({ ids: { dtype: 'I32', shape: [2], data_offsets: [0, 8] } }, new Uint8Array(Int32Array.from([-3, 7]).buffer));
    expect(Array.from(parseSafetensors(buf, 'ids.safetensors', { integers: 'widen' }).tensors.get('ids')!.data)).toEqual([-3, 7]);
  });

  test('sharded checkpoints load through model.safetensors.index.json', async () => {
    const dir = tempDir('cope-shard-');
    const a = new Map([['x', { shape: [2], data: Float32Array.from([1, 2]) }]]);
    const b = new Map([['y', { shape: [1], data: Float32Array.from([3]) }]]);
    writeFileSync(path.join(dir, 'model-00001-of-00002.safetensors'), serializeSafetensors(a));
    writeFileSync(path.join(dir, 'model-00002-of-00002.safetensors'), serializeSafetensors(b, { dtype: 'BF16' }));
    writeFileSync(path.join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { x: 'model-00001-of-00002.safetensors', y: 'model-00002-of-00002.safetensors' } }));
    const all = await readModelWeights(dir);
    expect(Array.from(all.get('x')!.data)).toEqual([1, 2]);
    expect(Array.from(all.get('y')!.data)).toEqual([3]);
    writeFileSync(path.join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { x: 'model-00001-of-00002.safetensors', z: 'model-00002-of-00002.safetensors' } }));
    await expect(readModelWeights(dir)).rejects.toThrow(/tensor "z" is listed in weight_map but missing/);
  });
});

describe('config.json', () => {
  const base = { model_type: 'llama', vocab_size: 10, hidden_size: 8, intermediate_size: 16, num_hidden_layers: 1, num_attention_heads: 2 };
  test('normalises llama, mistral and qwen2 (bias, GQA defaults, head_dim)', () => {
    expect(parseModelConfig(base)).toMatchObject({ numKvHeads: 2, headDim: 4, qkvBias: false, ropeScaling: null });
    expect(parseModelConfig({ ...base, model_type: 'qwen2', num_key_value_heads: 1 })).toMatchObject({ qkvBias: true, numKvHeads: 1 });
    expect(parseModelConfig({ ...base, model_type: 'mistral', head_dim: 8 })).toMatchObject({ headDim: 8 });
    expect(parseModelConfig({ ...base, rope_scaling: { rope_type: 'llama3', factor: 32, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 } }).ropeScaling).toMatchObject({ type: 'llama3', factor: 32 });
  });
  test.each([
    [{ ...base, model_type: 'gpt2' }, /config.json: model_type: unsupported "gpt2"/],
    [{ ...base, rope_scaling: { type: 'yarn', factor: 4 } }, /rope_scaling: unsupported type "yarn"/],
    [{ ...base, vocab_size: 'ten' }, /config.json: vocab_size: /],
    [{ ...base, num_key_value_heads: 3 }, /must be a multiple of num_key_value_heads/],
  ])('rejects %j clearly', (raw, pattern) => {
    expect(() => parseModelConfig(raw)).toThrow(pattern);
  });
});

describe('generation_config.json', () => {
  test('EOS ids as one id or a list, pad id; null without the file; bad values name the file and field', async () => {
    const dir = tempDir('cope-gencfg-');
    const file = path.join(dir, 'generation_config.json');
    expect(await readGenerationConfig(dir)).toBeNull();
    // Qwen2.5-Instruct's: generate stops at <|im_end|> (151645) as well as <|endoftext|>.
    writeFileSync(file, JSON.stringify({ bos_token_id: 151643, eos_token_id: [151645, 151643], pad_token_id: 151643, do_sample: true }));
    expect(await readGenerationConfig(dir)).toEqual({ eosTokenIds: [151645, 151643], padTokenId: 151643 });
    writeFileSync(file, JSON.stringify({ eos_token_id: 2 }));
    expect(await readGenerationConfig(dir)).toEqual({ eosTokenIds: [2] });
    writeFileSync(file, JSON.stringify({ eos_token_id: null, temperature: 0.7 }));
    expect(await readGenerationConfig(dir)).toEqual({});
    writeFileSync(file, JSON.stringify({ eos_token_id: 'two' }));
    await expect(readGenerationConfig(dir)).rejects.toThrow(`${file}: eos_token_id: `);
    writeFileSync(file, '{');
    await expect(readGenerationConfig(dir)).rejects.toThrow(`${file}: not valid JSON`);
  });

  test('stop ids: generation_config.json\'s EOS ids, else config.json\'s, plus the tokenizer\'s EOS once', async () => {
    const dir = tempDir('cope-stopids-');
    const file = path.join(dir, 'generation_config.json');
    // No generation_config.json: config.json's ids, and a tokenizer EOS they do not list.
    expect(await stopTokenIds(dir, [2], 2)).toEqual([2]);
    expect(await stopTokenIds(dir, [2], 7)).toEqual([2, 7]);
    expect(await stopTokenIds(dir, [], null)).toEqual([]);
    // Qwen2.5-Instruct: config.json says <|endoftext|> (151643), generation_config.json adds <|im_end|> (151645).
    writeFileSync(file, JSON.stringify({ eos_token_id: [151645, 151643] }));
    expect(await stopTokenIds(dir, [151643], 151645)).toEqual([151645, 151643]);
    expect(await stopTokenIds(dir, [151643], 5)).toEqual([151645, 151643, 5]);
    // A generation_config.json without EOS ids falls back to config.json's.
    writeFileSync(file, JSON.stringify({ temperature: 0.7 }));
    expect(await stopTokenIds(dir, [151643], 151645)).toEqual([151643, 151645]);
  });
});

describe('RoPE frequencies', () => {
  test('llama3 scaling follows transformers\' piecewise rule', () => {
    const base = { model_type: 'llama', vocab_size: 10, hidden_size: 64, intermediate_size: 16, num_hidden_layers: 1, num_attention_heads: 1, rope_theta: 500000 };
    const plain = ropeInvFreq(parseModelConfig(base));
    const scaled = ropeInvFreq(parseModelConfig({ ...base, rope_scaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 } }));
    // Wavelength 2π/f: below 8192/4 = 2048 unchanged; above 8192 divided by 8; in between smoothly interpolated.
    plain.forEach((f, i) => {
      const wavelen = (2 * Math.PI) / f;
      if (wavelen < 2048) expect(scaled[i]).toBeCloseTo(f, 15);
      else if (wavelen > 8192) expect(scaled[i]).toBeCloseTo(f / 8, 15);
      else {
        const smooth = (8192 / wavelen - 1) / (4 - 1);
        expect(scaled[i]).toBeCloseTo((1 - smooth) * (f / 8) + smooth * f, 15);
      }
    });
    expect(plain[0]).toBe(1);
    expect(plain[1]).toBeCloseTo(Math.pow(500000, -2 / 64), 15);
  });
});

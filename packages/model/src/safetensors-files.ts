import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileExists as exists, writeFileAtomic } from '@cope/core';
import { SafetensorsError, aligned, checkedHeader, serializeSafetensors, widen, type HostTensor, type SafetensorsEntry, type SafetensorsReadOptions } from './safetensors.js';

/** Safetensors files on disk: streaming reads (files past 4 GiB, one tensor in memory at a time) and atomic writes. */

/**
 * Reads a safetensors file tensor by tensor, in file order, handing each tensor's bytes to `onTensor` (valid
 * during the call only unless copied): memory for one tensor at a time, and files past Node's 4 GiB Buffer limit
 * (a 7B model's shards). Every byte of the file, in order, goes to `opts.hash`.
 */
export async function eachSafetensor(file: string, onTensor: (entry: SafetensorsEntry, bytes: Uint8Array) => void | Promise<void>, opts: SafetensorsReadOptions = {}): Promise<void> {
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(file, 'r');
  } catch (e) {
    throw new SafetensorsError(file, `cannot read file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    const size = (await fh.stat()).size;
    const read = async (pos: number, length: number): Promise<Uint8Array> => {
      // Never from Node's shared pool: tensors view these bytes in place.
      const buf = Buffer.allocUnsafeSlow(length);
      for (let done = 0; done < length; ) {
        const { bytesRead } = await fh.read(buf, done, Math.min(length - done, 1 << 30), pos + done);
        if (bytesRead === 0) throw new SafetensorsError(file, `truncated: ${size} bytes, read past the end at ${pos + done}`);
        done += bytesRead;
      }
      opts.hash?.update(buf);
      return buf;
    };
    if (size < 8) throw new SafetensorsError(file, `truncated file: ${size} bytes, need at least 8 for the header length`);
    const headerLen = Number(Buffer.from(await read(0, 8)).readBigUInt64LE(0));
    if (8 + headerLen > size) throw new SafetensorsError(file, `header length ${headerLen} runs past the end of the file (${size} bytes)`);
    const { entries } = checkedHeader(await read(8, headerLen), size - 8 - headerLen, file, opts);
    let pos = 8 + headerLen;
    for (const e of entries) {
      // Bytes between tensors are read too, so the hash covers the whole file.
      if (8 + headerLen + e.begin > pos) await read(pos, 8 + headerLen + e.begin - pos);
      await onTensor(e, await read(8 + headerLen + e.begin, e.end - e.begin));
      pos = 8 + headerLen + e.end;
    }
    if (size > pos) await read(pos, size - pos);
  } finally {
    await fh.close();
  }
}

/** Reads one safetensors file, tensor by tensor, widening every float weight to float32. */
export async function readSafetensors(file: string, opts: SafetensorsReadOptions = {}): Promise<Map<string, HostTensor>> {
  const tensors = new Map<string, HostTensor>();
  await eachSafetensor(file, (e, bytes) => {
    // Each tensor's bytes are a buffer of their own here: viewed in place when aligned (a fresh copy of a 7B
    // model's weights costs its page faults), copied otherwise.
    if (e.dtype === 'BF16' && opts.keepBf16?.(e.name, e.shape)) {
      const bits = bytes.byteOffset % 2 === 0 ? new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2) : new Uint16Array(aligned(bytes));
      tensors.set(e.name, { shape: e.shape, data: new Float32Array(0), bf16: bits });
    } else if (e.dtype === 'F32' && bytes.byteOffset % 4 === 0) tensors.set(e.name, { shape: e.shape, data: new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4) });
    else tensors.set(e.name, { shape: e.shape, data: widen(bytes, e.dtype) });
  }, opts);
  return tensors;
}

/** Bytes the tensors of a safetensors file take as float32, from its header alone. */
async function float32BytesOf(file: string): Promise<number> {
  const fh = await fs.open(file, 'r');
  try {
    const len = Buffer.alloc(8);
    await fh.read(len, 0, 8, 0);
    const headerLength = Number(len.readBigUInt64LE(0));
    const header = Buffer.alloc(headerLength);
    await fh.read(header, 0, headerLength, 8);
    const entries = JSON.parse(header.toString('utf8')) as Record<string, { shape?: number[] }>;
    return Object.entries(entries).reduce((a, [k, e]) => a + (k === '__metadata__' || !e.shape ? 0 : 4 * e.shape.reduce((p, q) => p * q, 1)), 0);
  } catch (e) {
    throw new SafetensorsError(file, `cannot read the header (${(e as Error).message})`);
  } finally {
    await fh.close();
  }
}

/**
 * The float32 size of a model folder's weights from its safetensors headers (no weights read): what choosing a
 * backend needs to know before loading. 0 when the folder has no safetensors.
 */
export async function modelFloat32Bytes(dir: string): Promise<number> {
  const indexFile = path.join(dir, 'model.safetensors.index.json');
  if (await exists(indexFile)) {
    const index = JSON.parse(await fs.readFile(indexFile, 'utf8')) as { weight_map?: Record<string, string> };
    const shards = [...new Set(Object.values(index.weight_map ?? {}))];
    let total = 0;
    for (const shard of shards) total += await float32BytesOf(path.join(dir, shard));
    return total;
  }
  const single = path.join(dir, 'model.safetensors');
  return (await exists(single)) ? float32BytesOf(single) : 0;
}

/** Writes a safetensors file atomically (temp file + rename). */
export async function writeSafetensors(file: string, tensors: Map<string, HostTensor>, opts: { dtype?: 'F32' | 'BF16'; metadata?: Record<string, string> } = {}): Promise<void> {
  await writeFileAtomic(file, serializeSafetensors(tensors, opts));
}

/**
 * Reads all weights of a Hugging Face model folder: `model.safetensors`, or the shards listed in
 * `model.safetensors.index.json`.
 */
export async function readModelWeights(dir: string, opts: SafetensorsReadOptions = {}): Promise<Map<string, HostTensor>> {
  const indexFile = path.join(dir, 'model.safetensors.index.json');
  const single = path.join(dir, 'model.safetensors');
  if (await exists(indexFile)) {
    let index: { weight_map?: Record<string, string> };
    try {
      index = JSON.parse(await fs.readFile(indexFile, 'utf8'));
    } catch (e) {
      throw new SafetensorsError(indexFile, `not valid JSON (${(e as Error).message})`);
    }
    if (!index.weight_map || typeof index.weight_map !== 'object') throw new SafetensorsError(indexFile, 'weight_map: expected an object of tensor name → shard file');
    const shards = [...new Set(Object.values(index.weight_map))];
    const all = new Map<string, HostTensor>();
    for (const shard of shards) {
      for (const [k, v] of await readSafetensors(path.join(dir, shard), opts)) all.set(k, v);
    }
    for (const name of Object.keys(index.weight_map)) {
      if (!all.has(name)) throw new SafetensorsError(indexFile, `tensor "${name}" is listed in weight_map but missing from ${index.weight_map[name]}`);
    }
    return all;
  }
  if (await exists(single)) return readSafetensors(single, opts);
  throw new Error(`${dir}: no model.safetensors or model.safetensors.index.json found`);
}

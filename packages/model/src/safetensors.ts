import { promises as fs } from 'node:fs';
import path from 'node:path';
import { bf16ToF32, f16ToF32, f32ToBf16 } from './dtype.js';
import { fileExists as exists, writeFileAtomic } from '@cope/core';

/** A tensor read from a safetensors file, widened to float32 on the host. */
export interface HostTensor {
  shape: number[];
  /** The values (empty when `bf16` holds them). */
  data: Float32Array;
  /** A BF16 tensor's raw bits, where the reader was asked to keep them ({@link SafetensorsReadOptions.keepBf16}). */
  bf16?: Uint16Array;
}

/** Float storage dtypes, read as float32 (F64 narrowed, F16 and BF16 widened). */
const FLOAT_DTYPES = new Set(['F32', 'F16', 'BF16', 'F64']);
/** Storage dtypes we read; integer ones only when asked to ({@link SafetensorsReadOptions}). */
const DTYPE_BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

/** Error for a malformed safetensors file; the message always names the file. */
export class SafetensorsError extends Error {
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = 'SafetensorsError';
  }
}

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/**
 * Parses a safetensors buffer. Every structural problem (truncated file, header length past the end,
 * bad JSON, unknown dtype, offsets out of range or overlapping, byte count not matching the shape)
 * throws a {@link SafetensorsError} naming `file`.
 */
export interface SafetensorsReadOptions {
  /**
   * Integer and boolean tensors are refused by default, naming the tensor: every file this toolkit reads holds
   * float weights, and a quantized checkpoint's integers widened to float32 would run as a model of garbage.
   * `'widen'` converts them to float32 values instead.
   */
  integers?: 'refuse' | 'widen';
  /** Fed every byte of the file as read (a model's or adapter's fingerprint). */
  hash?: { update(data: Uint8Array): unknown };
  /** BF16 tensors this returns true for keep their bits (`HostTensor.bf16`) instead of being widened. */
  keepBf16?: (name: string, shape: number[]) => boolean;
}

export function parseSafetensors(buf: Uint8Array, file = '<buffer>', opts: SafetensorsReadOptions = {}): { tensors: Map<string, HostTensor>; metadata: Record<string, string> } {
  if (buf.byteLength < 8) throw new SafetensorsError(file, `truncated file: ${buf.byteLength} bytes, need at least 8 for the header length`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (8 + headerLen > buf.byteLength) {
    throw new SafetensorsError(file, `header length ${headerLen} runs past the end of the file (${buf.byteLength} bytes)`);
  }
  const { entries, metadata } = checkedHeader(buf.subarray(8, 8 + headerLen), buf.byteLength - 8 - headerLen, file, opts);
  const dataStart = 8 + headerLen;
  const tensors = new Map<string, HostTensor>();
  for (const e of entries) {
    tensors.set(e.name, { shape: e.shape.slice(), data: widen(buf.subarray(dataStart + e.begin, dataStart + e.end), e.dtype) });
  }
  return { tensors, metadata };
}

/** A tensor's header entry: its dtype, shape and byte range in the data section. */
export interface SafetensorsEntry {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

/**
 * The header's tensors in file order, checked: every structural problem (bad JSON, unknown dtype, offsets out
 * of range or overlapping, byte count not matching the shape) throws a {@link SafetensorsError} naming `file`.
 */
function checkedHeader(headerBytes: Uint8Array, dataLen: number, file: string, opts: SafetensorsReadOptions): { entries: SafetensorsEntry[]; metadata: Record<string, string> } {
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(headerBytes));
  } catch (e) {
    throw new SafetensorsError(file, `header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new SafetensorsError(file, 'header is not a JSON object');
  const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
  const entries: SafetensorsEntry[] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const e = raw as HeaderEntry;
    if (!e || typeof e.dtype !== 'string' || !Array.isArray(e.shape) || !Array.isArray(e.data_offsets) || e.data_offsets.length !== 2) {
      throw new SafetensorsError(file, `tensor "${name}": expected {dtype, shape, data_offsets: [begin, end]}`);
    }
    const size = DTYPE_BYTES[e.dtype];
    if (size === undefined) throw new SafetensorsError(file, `tensor "${name}": unknown dtype "${e.dtype}" (expected one of ${Object.keys(DTYPE_BYTES).join(', ')})`);
    if (!FLOAT_DTYPES.has(e.dtype) && opts.integers !== 'widen') {
      throw new SafetensorsError(file, `tensor "${name}": dtype ${e.dtype} is not a float weight (expected one of ${[...FLOAT_DTYPES].join(', ')}; quantized checkpoints are not supported)`);
    }
    const [begin, end] = e.data_offsets;
    if (!Number.isInteger(begin) || !Number.isInteger(end) || begin < 0 || end < begin || end > dataLen) {
      throw new SafetensorsError(file, `tensor "${name}": data_offsets [${begin}, ${end}] out of range (data section has ${dataLen} bytes)`);
    }
    const count = e.shape.reduce((a, b) => a * b, 1);
    if (count * size !== end - begin) {
      throw new SafetensorsError(file, `tensor "${name}": ${end - begin} bytes do not match shape [${e.shape}] of ${e.dtype} (${count * size} bytes)`);
    }
    entries.push({ name, dtype: e.dtype, shape: e.shape.slice(), begin, end });
  }
  entries.sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < entries.length; i++) {
    if (entries[i].begin < entries[i - 1].end) {
      throw new SafetensorsError(file, `tensors "${entries[i - 1].name}" and "${entries[i].name}" have overlapping data_offsets`);
    }
  }
  return { entries, metadata };
}

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

/** The bytes copied into a buffer of their own: offsets inside the file need not be aligned to the element size. */
function aligned(bytes: Uint8Array): ArrayBuffer {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return copy.buffer;
}

function widen(bytes: Uint8Array, dtype: string): Float32Array {
  const b = aligned(bytes);
  switch (dtype) {
    case 'F32': return new Float32Array(b);
    case 'F16': return f16ToF32(new Uint16Array(b));
    case 'BF16': return bf16ToF32(new Uint16Array(b));
    case 'F64': return Float32Array.from(new Float64Array(b));
    case 'I64': return Float32Array.from(new BigInt64Array(b), (v) => Number(v));
    case 'I32': return Float32Array.from(new Int32Array(b));
    case 'I16': return Float32Array.from(new Int16Array(b));
    case 'I8': return Float32Array.from(new Int8Array(b));
    default: return Float32Array.from(new Uint8Array(b));
  }
}

/** Serialises tensors as safetensors, in F32 or BF16, names sorted as the Python writer does. */
export function serializeSafetensors(tensors: Map<string, HostTensor>, opts: { dtype?: 'F32' | 'BF16'; metadata?: Record<string, string> } = {}): Uint8Array {
  const dtype = opts.dtype ?? 'F32';
  const names = [...tensors.keys()].sort();
  const header: Record<string, unknown> = {};
  if (opts.metadata) header.__metadata__ = opts.metadata;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const name of names) {
    const t = tensors.get(name)!;
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) throw new Error(`serializeSafetensors: "${name}" has ${t.data.length} values for shape [${t.shape}]`);
    const bytes = dtype === 'F32' ? new Uint8Array(Float32Array.from(t.data).buffer) : new Uint8Array(f32ToBf16(Float32Array.from(t.data)).buffer);
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + bytes.byteLength] };
    chunks.push(bytes);
    offset += bytes.byteLength;
  }
  let json = JSON.stringify(header);
  // Pad the header with spaces to a multiple of 8 bytes, as the reference writer does.
  while ((8 + Buffer.byteLength(json)) % 8 !== 0) json += ' ';
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.byteLength;
  for (const c of chunks) {
    out.set(c, pos);
    pos += c.byteLength;
  }
  return out;
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

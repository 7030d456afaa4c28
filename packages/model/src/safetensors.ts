import { bf16ToF32, f16ToF32, f32ToBf16 } from './dtype.js';

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
export function checkedHeader(headerBytes: Uint8Array, dataLen: number, file: string, opts: SafetensorsReadOptions): { entries: SafetensorsEntry[]; metadata: Record<string, string> } {
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

/** The bytes copied into a buffer of their own: offsets inside the file need not be aligned to the element size. */
export function aligned(bytes: Uint8Array): ArrayBuffer {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return copy.buffer;
}

export function widen(bytes: Uint8Array, dtype: string): Float32Array {
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
  while ((8 + new TextEncoder().encode(json).byteLength) % 8 !== 0) json += ' ';
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


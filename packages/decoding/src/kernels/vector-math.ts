import { VECTOR_MATH_WASM } from './vector-math-binary.js';

/**
 * Float64 exp and log over arrays in a small WebAssembly SIMD module (vector-math.wat), for the passes
 * over the vocabulary that every decoding step makes. Arrays live in the module's memory: get them
 * from {@link workspace}.
 */

interface VectorMathExports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  expShiftSum(src: number, dst: number, n: number, shift: number, srcF32: number): number;
  logAffine(ptr: number, n: number, scale: number, offset: number): void;
}

/** The slice of the WebAssembly JS API used here (the project's `lib` setting has no WebAssembly types). */
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, never>) => { exports: unknown };
}

let instance: VectorMathExports | undefined;
function kernels(): VectorMathExports {
  if (!instance) {
    const WA = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;
    instance = new WA.Instance(new WA.Module(Buffer.from(VECTOR_MATH_WASM, 'base64')), {}).exports as VectorMathExports;
  }
  return instance;
}

/** Elements the module handles per iteration; the remainder is done here with Math.exp / Math.log. */
const LANES = 4;

export interface Workspace {
  f64: Float64Array[];
  f32: Float32Array[];
}

/**
 * Disjoint arrays of length n in the module's memory (32-byte aligned): `f64Count` float64 arrays, then
 * `f32Count` float32 arrays. Valid until the next call, which may grow (and so move) the memory.
 */
export function workspace(n: number, f64Count: number, f32Count = 0): Workspace {
  const k = kernels();
  const padded = Math.ceil(n / LANES) * LANES;
  const need = padded * (8 * f64Count + 4 * f32Count);
  if (k.memory.buffer.byteLength < need) k.memory.grow(Math.ceil((need - k.memory.buffer.byteLength) / 65536));
  const buf = k.memory.buffer;
  const f64 = Array.from({ length: f64Count }, (_, i) => new Float64Array(buf, i * padded * 8, n));
  const f32 = Array.from({ length: f32Count }, (_, i) => new Float32Array(buf, f64Count * padded * 8 + i * padded * 4, n));
  return { f64, f32 };
}

/** dst[i] = exp(src[i] − shift) (src and dst from {@link workspace}; dst may be src); returns Σ dst[i]. */
export function expShiftSum(src: Float64Array | Float32Array, dst: Float64Array, shift: number): number {
  const n = src.length;
  if (dst.length !== n) throw new Error(`expShiftSum: ${n} inputs, ${dst.length} outputs`);
  const bulk = n - (n % LANES);
  let sum = kernels().expShiftSum(src.byteOffset, dst.byteOffset, bulk, shift, src instanceof Float32Array ? 1 : 0);
  for (let i = bulk; i < n; i++) sum += dst[i] = Math.exp(src[i] - shift);
  return sum;
}

/** a[i] = log(a[i]·scale + offset) in place (a from {@link workspace}). */
export function logAffine(a: Float64Array, scale: number, offset: number): void {
  const bulk = a.length - (a.length % LANES);
  kernels().logAffine(a.byteOffset, bulk, scale, offset);
  for (let i = bulk; i < a.length; i++) a[i] = Math.log(a[i] * scale + offset);
}

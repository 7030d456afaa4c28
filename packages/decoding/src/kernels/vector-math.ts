import { VECTOR_MATH_WASM } from './vector-math-binary.js';

/**
 * Float64 exp and log over arrays in a small WebAssembly SIMD module (vector-math.wat), for the passes
 * over the vocabulary that every decoding step makes. Arrays live in the module's memory: get them
 * from {@link vectorArrays}.
 */

interface VectorMathExports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  expShiftSum(ptr: number, n: number, shift: number): number;
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

/**
 * `count` float64 arrays of length n in the module's memory, 32-byte aligned and disjoint. Valid until
 * the next call (which may grow and move the memory).
 */
export function vectorArrays(n: number, count: number): Float64Array[] {
  const k = kernels();
  const stride = Math.ceil(n / LANES) * LANES * 8;
  const need = stride * count;
  if (k.memory.buffer.byteLength < need) k.memory.grow(Math.ceil((need - k.memory.buffer.byteLength) / 65536));
  return Array.from({ length: count }, (_, i) => new Float64Array(k.memory.buffer, i * stride, n));
}

/** a[i] = exp(a[i] − shift) in place; returns Σ a[i]. `a` comes from {@link vectorArrays}. */
export function expShiftSum(a: Float64Array, shift: number): number {
  const bulk = a.length - (a.length % LANES);
  let sum = kernels().expShiftSum(a.byteOffset, bulk, shift);
  for (let i = bulk; i < a.length; i++) sum += a[i] = Math.exp(a[i] - shift);
  return sum;
}

/** a[i] = log(a[i]·scale + offset) in place. `a` comes from {@link vectorArrays}. */
export function logAffine(a: Float64Array, scale: number, offset: number): void {
  const bulk = a.length - (a.length % LANES);
  kernels().logAffine(a.byteOffset, bulk, scale, offset);
  for (let i = bulk; i < a.length; i++) a[i] = Math.log(a[i] * scale + offset);
}

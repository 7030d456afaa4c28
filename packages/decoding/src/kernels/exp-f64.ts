import { EXP_F64_WASM } from './exp-f64-binary.js';
import { ensureMemory, instantiateKernel } from './instantiate.js';

/**
 * Float64 exponentials over the vocabulary for the sampling path's softmax, bit for bit Math.exp (exp-f64.wat
 * runs fdlibm's sequence, which V8's Math.exp is, on two lanes at a time; the lanes outside its main range are
 * computed here with Math.exp), and several times faster than a Math.exp loop.
 */

interface ExpF64Exports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  expShiftF64(src: number, dst: number, n: number, shift: number, odd: number): number;
}

let instance: ExpF64Exports | undefined;

/**
 * exp(s[i] − shift) for every i, as `Math.exp(s[i] - shift)` computes it, in the module's memory: valid until
 * the next call (copy it to keep it).
 */
export function expShift(s: ArrayLike<number>, shift: number): Float64Array {
  const k = (instance ??= instantiateKernel<ExpF64Exports>(EXP_F64_WASM));
  const n = s.length;
  // Layout: the inputs, then the results, then the indices the kernel leaves to Math.exp (8-byte aligned).
  const padded = Math.ceil(n / 4) * 4;
  const buf = ensureMemory(k.memory, padded * 8 * 2 + padded * 4);
  const src = new Float64Array(buf, 0, n);
  const dst = new Float64Array(buf, padded * 8, n);
  src.set(s);
  const bulk = n - (n % 4);
  const odd = new Int32Array(buf, padded * 16, padded);
  const count = k.expShiftF64(0, padded * 8, bulk, shift, padded * 16);
  for (let j = 0; j < count; j++) dst[odd[j]] = Math.exp(src[odd[j]] - shift);
  for (let i = bulk; i < n; i++) dst[i] = Math.exp(src[i] - shift);
  return dst;
}

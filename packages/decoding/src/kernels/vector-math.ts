import { nativeThreads, nativeVectorMath, type NativeVectorMath } from '@cope/backend-native';
import { ensureMemory, instantiateKernel } from './instantiate.js';
import { VECTOR_MATH_WASM } from './vector-math-binary.js';

/**
 * Float32 max, exp, log, affine maps and thresholded sums and logarithms over arrays, in a small WebAssembly SIMD
 * module (vector-math.wat), for the passes over the vocabulary that every decoding step makes. Float32 like
 * the published PyTorch code's softmaxes and logarithms (within 2 ulp); sums are accumulated in float64.
 * Arrays live in the module's memory: get them from {@link workspace}. Under Node with @cope/backend-native's addon
 * built, the passes run on its AVX-512 twin of the module (bitwise the same results, several times faster).
 */

interface VectorMathExports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  maxF32(ptr: number, n: number): number;
  expShiftSum(src: number, dst: number, n: number, shift: number): number;
  logAffine(ptr: number, n: number, scale: number, offset: number): void;
  affine(src: number, dst: number, n: number, scale: number, offset: number): void;
  sumAtLeast(src: number, n: number, threshold: number): number;
  logContrastAtLeast(src: number, sub: number, dst: number, n: number, threshold: number, scale: number, offset: number, lam: number): void;
}

let instance: VectorMathExports | undefined;
function kernels(): VectorMathExports {
  return (instance ??= instantiateKernel<VectorMathExports>(VECTOR_MATH_WASM));
}

let preferNative = true;
/** The native passes when they are built and preferred, else null (the module's exports run). */
function native(): NativeVectorMath | null {
  return preferNative ? nativeVectorMath() : null;
}

/**
 * Which implementation runs the passes (`prefer` switches, e.g. to compare them): the addon's where it is built, else
 * the WebAssembly module. Both give the same bits.
 */
export function vectorMathImplementation(prefer?: 'native' | 'wasm'): 'native' | 'wasm' {
  if (prefer) preferNative = prefer === 'native';
  return native() ? 'native' : 'wasm';
}

/** Elements the module handles per iteration; the remainder is done here with Math.exp / Math.log. */
const LANES = 8;

/** The part of an array the module handles (a multiple of {@link LANES}). */
const bulkOf = (n: number) => n - (n % LANES);

/**
 * `count` disjoint float32 arrays of length n in the module's memory (32-byte aligned). Valid until the
 * next call, which may grow (and so move) the memory.
 */
export function workspace(n: number, count: number): Float32Array[] {
  const k = kernels();
  const padded = Math.ceil(n / LANES) * LANES;
  const buf = ensureMemory(k.memory, padded * 4 * count);
  return Array.from({ length: count }, (_, i) => new Float32Array(buf, i * padded * 4, n));
}

/**
 * `a` as an input of the passes: itself where they read any array (the native passes), else copied into `room` (an
 * array from {@link workspace} of its length), which is returned. Saves a pass over the vocabulary where it can.
 */
export function kernelInput(a: Float32Array, room: Float32Array): Float32Array {
  if (native()) return a;
  room.set(a);
  return room;
}

/**
 * The addon's one-call decoding steps ({@link NativeVectorMath.greedyPick}, `contrastivePick`) for a vocabulary of `n`,
 * where they apply: the native passes preferred and built, n a positive multiple of {@link LANES} (no remainder for
 * JavaScript to finish). Null otherwise: the passes below, one at a time, give the same bits.
 */
export function nativePicks(n: number): NativeVectorMath | null {
  return n > 0 && n % LANES === 0 ? native() : null;
}

let threadsSet: number | undefined;
/** Threads of the native one-call steps: the native backend's (its team has just written the logits, each thread its columns), unless set. */
export function pickThreads(): number {
  return threadsSet ?? nativeThreads();
}

/** Sets the native one-call steps' threads (undefined: the native backend's again); results are the same bits on any number. */
export function setPickThreads(threads: number | undefined): void {
  threadsSet = threads;
}

let scratch: Float32Array[] = [];
/** `count` disjoint arrays of length n (the native steps' scratch), the same ones while n and count stay. */
export function nativeScratch(n: number, count: number): Float32Array[] {
  if (scratch.length !== count || scratch[0].length !== n) {
    const all = new Float32Array(n * count);
    scratch = Array.from({ length: count }, (_, i) => all.subarray(i * n, (i + 1) * n));
  }
  return scratch;
}

/** The largest element of `a` (from {@link workspace}, or {@link kernelInput}'s); -Infinity when empty, NaN if any is NaN. */
export function maxOf(a: Float32Array): number {
  const bulk = bulkOf(a.length);
  const nk = native();
  let m = bulk === 0 ? -Infinity : nk ? nk.max(a, bulk) : kernels().maxF32(a.byteOffset, bulk);
  for (let i = bulk; i < a.length; i++) m = Number.isNaN(a[i]) ? NaN : Math.max(m, a[i]);
  return m;
}

/**
 * dst[i] = exp(src[i] − shift) (src from {@link workspace} or {@link kernelInput}, dst from workspace; dst may be src);
 * returns Σ dst[i] in float64: by chunks of 1024 elements (each from zero, the chunks' sums in order), then the elements
 * past the last eight one by one.
 */
export function expShiftSum(src: Float32Array, dst: Float32Array, shift: number): number {
  const n = src.length;
  if (dst.length !== n) throw new Error(`expShiftSum: ${n} inputs, ${dst.length} outputs`);
  const bulk = bulkOf(n);
  const nk = native();
  let sum = nk ? nk.expShiftSum(src, dst, bulk, shift) : kernels().expShiftSum(src.byteOffset, dst.byteOffset, bulk, shift);
  // The remainder as the module computes it: a float32 difference, a float32 result, summed as stored.
  for (let i = bulk; i < n; i++) sum += dst[i] = Math.fround(Math.exp(Math.fround(src[i] - shift)));
  return sum;
}

/** a[i] = log(a[i]·scale + offset) in place (a from {@link workspace}), in float32. */
export function logAffine(a: Float32Array, scale: number, offset: number): void {
  const bulk = bulkOf(a.length);
  const nk = native();
  if (nk) nk.logAffine(a, bulk, scale, offset);
  else kernels().logAffine(a.byteOffset, bulk, scale, offset);
  for (let i = bulk; i < a.length; i++) a[i] = Math.log(Math.fround(Math.fround(a[i] * Math.fround(scale)) + Math.fround(offset)));
}

/** dst[i] = src[i]·scale + offset in float32 (src and dst from {@link workspace}; dst may be src). */
export function affine(src: Float32Array, dst: Float32Array, scale: number, offset: number): void {
  const n = src.length;
  if (dst.length !== n) throw new Error(`affine: ${n} inputs, ${dst.length} outputs`);
  const bulk = bulkOf(n);
  const nk = native();
  if (nk) nk.affine(src, dst, bulk, scale, offset);
  else kernels().affine(src.byteOffset, dst.byteOffset, bulk, scale, offset);
  for (let i = bulk; i < n; i++) dst[i] = Math.fround(Math.fround(src[i] * Math.fround(scale)) + Math.fround(offset));
}

/** The sum of the elements of `src` (from {@link workspace}) that are >= threshold, in index order, in float64. */
export function sumAtLeast(src: Float32Array, threshold: number): number {
  const bulk = bulkOf(src.length);
  const th = Math.fround(threshold);
  const nk = native();
  let sum = nk ? nk.sumAtLeast(src, bulk, th) : kernels().sumAtLeast(src.byteOffset, bulk, th);
  for (let i = bulk; i < src.length; i++) if (src[i] >= th) sum += src[i];
  return sum;
}

/**
 * Where src[i] >= threshold: dst[i] = log(src[i]·scale + offset) − lam·sub[i] (the logarithm in float32 as
 * {@link logAffine} computes it, the difference in float64, stored as float32); elsewhere dst is unchanged.
 * All three arrays from {@link workspace}, of one length.
 */
export function logContrastAtLeast(src: Float32Array, sub: Float32Array, dst: Float32Array, threshold: number, scale: number, offset: number, lam: number): void {
  const n = src.length;
  if (sub.length !== n || dst.length !== n) throw new Error(`logContrastAtLeast: ${n} inputs, ${sub.length} subtrahends, ${dst.length} outputs`);
  const bulk = bulkOf(n);
  const th = Math.fround(threshold);
  const nk = native();
  if (nk) nk.logContrastAtLeast(src, sub, dst, bulk, th, scale, offset, lam);
  else kernels().logContrastAtLeast(src.byteOffset, sub.byteOffset, dst.byteOffset, bulk, th, scale, offset, lam);
  for (let i = bulk; i < n; i++) {
    if (src[i] >= th) dst[i] = Math.log(Math.fround(Math.fround(src[i] * Math.fround(scale)) + Math.fround(offset))) - lam * sub[i];
  }
}

import { tf } from '../tf.js';
import type { Tensor1D, Tensor2D } from '../tf.js';
import { ROWS_MATMUL_WASM } from './rows-matmul-binary.js';
import { heapModuleAvailable, registerHeapKernel, runHeapKernel, sharedHeapModule, type WasmBackendInternals } from './heap-module.js';
import { SPLIT_MIN_MACS, backendThreads, panelHelpersFactory, type PanelHelpers } from './runtime.js';

/**
 * Products with a panel-packed weight on the wasm backend: decoding steps, prompts and training batches.
 *
 * tfjs-wasm hands every product to XNNPACK, whose kernel for 2–4 rows computes 4 rows (contrastive decoding's
 * two rows then cost nearly what four do), and every op pays a dispatch. This kernel (rows-matmul.wat, a
 * WebAssembly SIMD module sharing the tfjs heap) reads each 16-column panel of the weight once per pair of rows
 * and tiles many rows with the panel in L1 (the model README's speed section has the figures). The sums equal
 * XNNPACK's bit for bit (same order, multiply then add). On tfjs's threaded build,
 * large products are split by panels over helper threads sharing the heap (rows-helpers.ts), bitwise the same.
 */

const KERNEL_NAME = 'CopeRowsMatMul';
/** Columns per packed panel (four 4-lane vectors), as in rows-matmul.wat. */
const PANEL = 16;

interface RowsExports {
  rows(x: number, w: number, y: number, rows: number, k: number, n: number): void;
  panels(x: number, w: number, y: number, rows: number, k: number, n: number, p0: number, p1: number): void;
  chunked(x: number, w: number, y: number, rows: number, k: number, n: number, scratch: number, group: number): void;
  stream(x: number, w: number, y: number, rows: number, k: number, n: number): void;
  pack(w: number, dst: number, k: number, n: number): void;
}

/**
 * Up to this many rows {@link rowsMatmulChunked} streams the weight once per pair of rows instead of packing it
 * by chunks (streaming is faster for few rows; from about eight the two cost the same).
 */
const STREAM_MAX_ROWS = 6;

const CHUNKED_KERNEL_NAME = 'CopeRowsMatMulChunked';
/** Bytes of packed panels {@link rowsMatmulChunked} keeps at a time: well inside a core's L2. */
const CHUNK_BYTES = 256 * 1024;

/** Each backend's helper threads (threaded build), or null (one thread, or a heap that is not shared). */
const helpersOf = new WeakMap<object, PanelHelpers | null>();

function helpers(be: WasmBackendInternals): PanelHelpers | null {
  let h = helpersOf.get(be);
  if (h === undefined) {
    const threads = backendThreads() ?? 1;
    const factory = panelHelpersFactory();
    const heap = threads > 1 && factory ? sharedHeapModule(be, ROWS_MATMUL_WASM) : null;
    helpersOf.set(be, (h = heap && factory ? factory(heap.memory, heap.module, threads - 1) : null));
  }
  return h;
}

function register(): void {
  registerHeapKernel<RowsExports>(KERNEL_NAME, ROWS_MATMUL_WASM, (inst, be, { x, packed }, { n }) => {
    const [rows, k] = x.shape;
    const out = be.makeOutput([rows, n], 'float32');
    const args = [be.getMemoryOffset(x.dataId), be.getMemoryOffset(packed.dataId), be.getMemoryOffset(out.dataId), rows, k, n] as const;
    const pool = rows * k * n >= SPLIT_MIN_MACS ? helpers(be) : null;
    if (pool) pool.run(inst.panels, ...args, Math.ceil(n / PANEL));
    else inst.rows(...args);
    return out;
  });
}

function registerChunked(): void {
  registerHeapKernel<RowsExports>(CHUNKED_KERNEL_NAME, ROWS_MATMUL_WASM, (inst, be, { x, w }) => {
    const [rows, k] = x.shape;
    const n = w.shape[1];
    const out = be.makeOutput([rows, n], 'float32');
    const at = (t: tf.TensorInfo) => be.getMemoryOffset(t.dataId);
    if (rows <= STREAM_MAX_ROWS) {
      inst.stream(at(x), at(w), at(out), rows, k, n);
      return out;
    }
    const group = Math.max(1, Math.min(Math.floor(n / PANEL), Math.floor(CHUNK_BYTES / (k * PANEL * 4))));
    const scratch = be.makeOutput([group * k * PANEL], 'float32');
    inst.chunked(at(x), at(w), at(out), rows, k, n, at(scratch), group);
    be.disposeData(scratch.dataId);
    return out;
  });
}

/** True when the active backend can run {@link rowsMatmul}. */
export function rowsMatmulAvailable(): boolean {
  return heapModuleAvailable(ROWS_MATMUL_WASM);
}

const PACK_KERNEL_NAME = 'CopePackPanels';

function registerPack(): void {
  registerHeapKernel<RowsExports>(PACK_KERNEL_NAME, ROWS_MATMUL_WASM, (inst, be, { w }) => {
    const [k, n] = w.shape;
    const out = be.makeOutput([Math.ceil(n / PANEL) * k * PANEL], 'float32');
    inst.pack(be.getMemoryOffset(w.dataId), be.getMemoryOffset(out.dataId), k, n);
    return out;
  });
}

/**
 * Packs a float32 kernel [K, N] into panels of 16 columns: panel p is W[:, 16p .. 16p+15] row after row,
 * zero-padded to a full panel, by the module on the wasm heap (no copy through the host: a 0.5B model's
 * embedding is 544 MB). Only on the wasm backend ({@link rowsMatmulAvailable}), as the products that use it.
 * @returns [ceil(N/16)·K·16]
 */
export function packPanels(kernel: Tensor2D): Tensor1D {
  // The module's loops run at least once: an empty kernel would be written past.
  if (kernel.size === 0 || kernel.dtype !== 'float32') throw new Error(`packPanels: expected a non-empty float32 kernel, got ${kernel.dtype} [${kernel.shape}]`);
  registerPack();
  return runHeapKernel<Tensor1D>('packPanels', PACK_KERNEL_NAME, { w: kernel }, {});
}

/**
 * `x [R, K] · W [K, N] → [R, N]` for any R ≥ 1, given W packed by {@link packPanels}. Only on the
 * wasm backend ({@link rowsMatmulAvailable}); no gradient (use it as the value of a custom gradient).
 */
export function rowsMatmul(x: Tensor2D, packed: Tensor1D, n: number): Tensor2D {
  const [rows, k] = x.shape;
  // The kernel's inner loops run at least once: empty products are the caller's to skip.
  if (rows < 1 || k < 1 || n < 1) throw new Error(`rowsMatmul: empty product [${rows}, ${k}] · [${k}, ${n}]`);
  // The heap itself is checked by the kernel (once per backend); matmulFrozen has checked it already.
  if (packed.size !== Math.ceil(n / PANEL) * PANEL * k) {
    throw new Error(`rowsMatmul: packed weight has ${packed.size} values, expected ${Math.ceil(n / PANEL) * PANEL * k} for [${k}, ${n}]`);
  }
  register();
  return runHeapKernel<Tensor2D>('rowsMatmul', KERNEL_NAME, { x, packed }, { n });
}

/**
 * `x [R, K] · W [K, N] → [R, N]` from the plain weight, with no packed copy kept, bit for bit {@link rowsMatmul}
 * and the backend's product: for weights whose packed copies do not fit the heap. A few rows (decoding) stream
 * the weight once per pair of rows (1.0–1.2× the packed product's time for one row, 1.3–1.5× for two); more
 * rows pack a few panels at a time into a 256 KB scratch and multiply there (1.1× for 64 rows). Only on the
 * wasm backend ({@link rowsMatmulAvailable}), one thread; no gradient.
 */
export function rowsMatmulChunked(x: Tensor2D, w: Tensor2D): Tensor2D {
  const [rows, k] = x.shape;
  const n = w.shape[1];
  if (rows < 1 || k < 1 || n < 1) throw new Error(`rowsMatmulChunked: empty product [${rows}, ${k}] · [${w.shape}]`);
  if (w.shape[0] !== k) throw new Error(`rowsMatmulChunked: x [${x.shape}] and W [${w.shape}] do not fit`);
  registerChunked();
  return runHeapKernel<Tensor2D>('rowsMatmulChunked', CHUNKED_KERNEL_NAME, { x, w });
}

import { tf } from '../tf.js';
import { installSharedIdentity } from './shared-identity.js';

/**
 * The wasm backend's start and run-time state, shared by the Node start (backend.ts) and the browser start
 * (browser-backend.ts): its thread count, heap size and the helper threads of the rows kernel.
 */

/** The loaded tfjs-backend-wasm module (its thread controls), once the wasm backend has been set up. */
let wasmModule: typeof import('@tensorflow/tfjs-backend-wasm') | undefined;
/** The thread count the wasm backend was started with, and whether a different later request was reported. */
let wasmStartedWith: number | undefined;
let reportedThreadMismatch = false;

/**
 * Starts tfjs's wasm backend with its binaries under `wasmPaths` (a folder path under Node, a URL prefix in a
 * browser), on `threads` threads when `threaded` (tfjs's threaded build), else one. The thread count is fixed when
 * the backend first starts; a later start with another count keeps it and says so once.
 */
export async function startWasmBackend(wasmPaths: string, threads: number, threaded: boolean): Promise<void> {
  if (tf.getBackend() === 'wasm') {
    if (wasmStartedWith !== undefined && threads !== wasmStartedWith && !reportedThreadMismatch) {
      reportedThreadMismatch = true;
      console.warn(`initBackend: the wasm backend already runs, started with threads ${wasmStartedWith}; threads ${threads} ignored (fixed when the backend starts)`);
    }
    return;
  }
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  wasm.setWasmPaths(wasmPaths);
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', threaded);
  wasm.setThreadsCount(threaded ? threads : 1);
  wasmModule = wasm;
  if (!(await tf.setBackend('wasm'))) throw new Error('wasm backend did not initialise');
  installSharedIdentity();
  wasmStartedWith = threads;
}

/**
 * Threads the active wasm backend runs its ops on (1: the single-threaded build); undefined for other
 * backends.
 */
export function backendThreads(): number | undefined {
  if (tf.getBackend() !== 'wasm') return undefined;
  return wasmModule?.getThreadsCount() ?? 1;
}

/**
 * The wasm backend's heap in bytes (it only grows, so the process's high-water mark); undefined for other
 * backends.
 */
export function wasmHeapBytes(): number | undefined {
  if (tf.getBackend() !== 'wasm') return undefined;
  return (tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }).wasm?.HEAPU8?.length;
}

/** The wasm heap's ceiling: tfjs-wasm is built for at most 4 GiB. */
const WASM_HEAP_MAX = 4 * 1024 ** 3;

/**
 * A note to append to an error raised when the wasm heap has grown to (nearly) its 4 GiB ceiling: there,
 * tfjs-wasm's allocations fail as aborts, out-of-bounds accesses or bad typed-array lengths, which say
 * nothing of memory. Empty otherwise. `heapBytes`: the heap's size (default: the active backend's).
 */
export function heapExhaustionNote(heapBytes: number | undefined = wasmHeapBytes()): string {
  if (heapBytes === undefined || heapBytes < 0.95 * WASM_HEAP_MAX) return '';
  const gib = (heapBytes / 1024 ** 3).toFixed(2);
  return ` (the wasm heap is at ${gib} of its 4 GiB: the model's weights and this step's activations do not fit; use shorter inputs, a smaller batch, or the native backend: --backend native)`;
}

/**
 * Products of fewer multiply-adds than this are not split: waking a sleeping helper costs more than a small product
 * gains, the more so when XNNPACK's pool thread still spins on the other core (the crossover: @cope/model's README, Threads).
 */
export const SPLIT_MIN_MACS = 1 << 25;

/** `panels(x, w, y, rows, k, n, p0, p1)`: the rows kernel's columns of panels p0 .. p1-1. */
export type PanelsFn = (x: number, w: number, y: number, rows: number, k: number, n: number, p0: number, p1: number) => void;

/** Threads that share a product's panels with the caller (rows-helpers.ts under Node). */
export interface PanelHelpers {
  run(own: PanelsFn, x: number, w: number, y: number, rows: number, k: number, n: number, panels: number): void;
}

/** Makes `count` helper threads on a shared heap `memory`, each instantiating the kernel `module`. */
export type PanelHelpersFactory = (memory: object, module: object, count: number) => PanelHelpers;

let helpersFactory: PanelHelpersFactory | null = null;

/** Where helper threads come from (Node's worker threads); without one, the rows kernel runs on the calling thread. */
export function setPanelHelpersFactory(factory: PanelHelpersFactory | null): void {
  helpersFactory = factory;
}

export function panelHelpersFactory(): PanelHelpersFactory | null {
  return helpersFactory;
}

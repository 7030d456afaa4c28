import { startWasmBackend } from './wasm/runtime.js';

export interface BrowserBackendOptions {
  /**
   * Where tfjs-backend-wasm's `.wasm` binaries are served: a URL prefix ending in `/` (the files of its `dist/`
   * folder: tfjs-backend-wasm.wasm, -simd.wasm, -threaded-simd.wasm).
   */
  wasmPaths: string;
  /**
   * Threads for tfjs's own ops (its threaded build); needs a cross-origin isolated page (COOP/COEP headers), else
   * one thread. This package's kernels run on the calling thread. Default 1: the same sums as Node's default run.
   */
  threads?: number;
}

/**
 * Starts the wasm backend in a browser (a page or a Web Worker; start it in a worker: the kernels compile their
 * modules synchronously, which browsers allow off the main thread only) and returns its name.
 */
export async function initBrowserBackend(options: BrowserBackendOptions): Promise<'wasm'> {
  const threads = options.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`initBrowserBackend: threads must be a positive integer, got ${threads}`);
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  await startWasmBackend(options.wasmPaths, threads, threads > 1 && isolated);
  return 'wasm';
}

import { base64ToBytes } from '@cope/core';
import { tf } from '../tf.js';

/**
 * WebAssembly kernels that run on tfjs-backend-wasm's own heap: each module imports the backend's memory,
 * so kernels read their inputs and write their outputs where the backend keeps tensors, without copies.
 */

/** The parts of tfjs-backend-wasm 4.22's backend these kernels use (its heap, offsets and outputs). */
export interface WasmBackendInternals {
  // The single-threaded build exports its memory; the threaded build creates a shared one and imports it.
  wasm: { asm?: { memory?: unknown }; wasmMemory?: unknown };
  getMemoryOffset(dataId: object): number;
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
  disposeData(dataId: object): boolean;
}

/** The slice of the WebAssembly JS API used here (the project's `lib` setting has no WebAssembly types). */
interface WebAssemblyApi {
  Memory: new (d: { initial: number }) => { buffer: ArrayBufferLike };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, unknown> };
}
const WA = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;

/** Compiled modules by binary, and their instances by backend. */
const modules = new Map<string, object>();
const instances = new WeakMap<object, Map<string, unknown>>();

/**
 * A heap kernel's binaries (base64): one importing an ordinary memory (tfjs's single-threaded build) and
 * one importing a shared memory (its threaded build); the code is the same.
 */
export interface HeapBinary {
  plain: string;
  shared: string;
}

/**
 * The module `binary` instantiated on this wasm backend's heap, once per backend; null where the backend's
 * heap cannot be found.
 */
export function heapModule<T>(backend: WasmBackendInternals, binary: HeapBinary): T | null {
  let perBackend = instances.get(backend);
  if (!perBackend) instances.set(backend, (perBackend = new Map()));
  if (perBackend.has(binary.plain)) return perBackend.get(binary.plain) as T | null;
  let inst: T | null = null;
  const heap = heapOf(backend, binary);
  if (heap) inst = new WA.Instance(heap.module, { env: { memory: heap.memory } }).exports as unknown as T;
  perBackend.set(binary.plain, inst);
  return inst;
}

/** The backend's heap memory and `binary` compiled for it (the shared-memory binary on a shared heap). */
function heapOf(backend: WasmBackendInternals, binary: HeapBinary): { memory: object; module: object; shared: boolean } | null {
  const memory = backend.wasm?.asm?.memory ?? backend.wasm?.wasmMemory;
  if (!(memory instanceof WA.Memory)) return null;
  const shared = memory.buffer instanceof SharedArrayBuffer;
  const bytes = shared ? binary.shared : binary.plain;
  let module = modules.get(bytes);
  if (!module) modules.set(bytes, (module = new WA.Module(base64ToBytes(bytes))));
  return { memory, module, shared };
}

/**
 * On tfjs's threaded build, whose heap is a shared memory: that memory and `binary`'s compiled shared-memory
 * module, which other threads instantiate to run the kernel on the same heap; null on other builds.
 */
export function sharedHeapModule(backend: WasmBackendInternals, binary: HeapBinary): { memory: object; module: object } | null {
  const heap = heapOf(backend, binary);
  return heap?.shared ? { memory: heap.memory, module: heap.module } : null;
}

/** True when the active backend, other than wasm, registers its own kernel `name` (the native backend's fused kernels). */
export function backendKernel(name: string): boolean {
  const backend = tf.getBackend();
  return backend !== 'wasm' && tf.getKernel(name, backend) !== undefined;
}

/** True when the active backend is wasm and can run the module `binary` on its heap. */
export function heapModuleAvailable(binary: HeapBinary): boolean {
  if (tf.getBackend() !== 'wasm') return false;
  return heapModule(tf.backend() as unknown as WasmBackendInternals, binary) !== null;
}

/** What a heap kernel's body gets: its module's exports, the backend, and the op's inputs and attributes. */
export type HeapKernelBody<T> = (exports: T, backend: WasmBackendInternals, inputs: Record<string, tf.TensorInfo>, attrs: Record<string, number>) => tf.TensorInfo;

const registeredKernels = new Set<string>();

/**
 * Registers (once) a wasm-backend tfjs kernel `name` whose body runs the module `binary` on the backend's
 * heap; run it with `tf.engine().runKernel(name, inputs, attrs)`.
 */
export function registerHeapKernel<T>(name: string, binary: HeapBinary, body: HeapKernelBody<T>): void {
  if (registeredKernels.has(name)) return;
  registeredKernels.add(name);
  tf.registerKernel({
    kernelName: name,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const be = backend as unknown as WasmBackendInternals;
      const exports = heapModule<T>(be, binary);
      if (!exports) throw new Error(`${name}: the wasm backend's heap memory was not found (tfjs-backend-wasm other than 4.22?)`);
      return body(exports, be, inputs as unknown as Record<string, tf.TensorInfo>, attrs as unknown as Record<string, number>);
    },
  });
}

/**
 * Runs the heap kernel `name` (registered with {@link registerHeapKernel}) on the wasm backend; `caller` names
 * the public function in the error raised on any other backend.
 */
export function runHeapKernel<T extends tf.Tensor>(caller: string, name: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, number> = {}): T {
  if (tf.getBackend() !== 'wasm' && !backendKernel(name)) throw new Error(`${caller}: needs the wasm backend or one that registers ${name} (active backend: ${tf.getBackend()})`);
  return tf.engine().runKernel(name, inputs as unknown as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap) as T;
}

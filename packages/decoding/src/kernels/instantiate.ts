import { base64ToBytes } from '@cope/core';

/** The slice of the WebAssembly JS API used here (the project's `lib` setting has no WebAssembly types). */
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, never>) => { exports: unknown };
}

/** The exports of a kernel module with its own memory, embedded as base64 (compiled by `pnpm gen:wasm`). */
export function instantiateKernel<T>(base64: string): T {
  const WA = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;
  // In browsers a module this size compiles synchronously in a worker only.
  return new WA.Instance(new WA.Module(base64ToBytes(base64)), {}).exports as T;
}

/** Grows a module's memory to at least `bytes`. */
export function ensureMemory(memory: { buffer: ArrayBuffer; grow(pages: number): number }, bytes: number): ArrayBuffer {
  if (memory.buffer.byteLength < bytes) memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / 65536));
  return memory.buffer;
}

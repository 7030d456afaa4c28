/**
 * Bytes of a base64 string (embedded WebAssembly kernels): `atob` rather than Node's Buffer, so the same code runs in
 * Node and in browsers.
 */
export function base64ToBytes(base64: string): Uint8Array {
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

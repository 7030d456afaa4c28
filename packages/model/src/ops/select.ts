import { tf } from '../tf.js';
import type { Ops } from './ops.js';
import { tfOps } from './tf-ops.js';
import { nativeOps } from './native-ops.js';
import { wasmOps } from './wasm-ops.js';

const byBackend = new Map<string, Ops>([
  ['wasm', wasmOps],
  ['native', nativeOps],
]);

/**
 * Makes `ops` the operations forward passes use on the tfjs backend `backend` (a backend package plugs in
 * here; backends without an entry use the plain tfjs ops).
 */
export function registerOps(backend: string, ops: Ops): void {
  byBackend.set(backend, ops);
}

/** The operations for `backend` (default: the active one). */
export function opsFor(backend: string = tf.getBackend()): Ops {
  return byBackend.get(backend) ?? tfOps;
}

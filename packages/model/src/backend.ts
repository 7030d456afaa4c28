import { createRequire } from 'node:module';
import path from 'node:path';
import { tf } from './tf.js';

/** Backends we know how to set up, in the order `auto` tries them. */
export const BACKENDS = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];
export type BackendChoice = BackendName | 'auto';

const require = createRequire(import.meta.url);

/**
 * Loads and activates a tfjs backend and returns its name.
 *
 * `auto` (the default, overridable with `COPE_BACKEND`) tries `@tensorflow/tfjs-node-gpu`, then
 * `@tensorflow/tfjs-node` (both optional: their install downloads libtensorflow and may have left no
 * binary), then `wasm`, then `cpu`. Explicit choices fail loudly when the backend cannot load.
 */
export async function initBackend(choice: BackendChoice | string = process.env.COPE_BACKEND || 'auto'): Promise<BackendName> {
  const wanted = choice as BackendChoice;
  if (wanted !== 'auto' && !(BACKENDS as readonly string[]).includes(wanted)) {
    throw new Error(`Unknown backend "${choice}": expected one of auto, ${BACKENDS.join(', ')}`);
  }
  const order: BackendName[] = wanted === 'auto' ? [...BACKENDS] : [wanted];
  const errors: string[] = [];
  for (const name of order) {
    try {
      await activate(name);
      return name;
    } catch (e) {
      errors.push(`${name}: ${(e as Error).message}`);
      if (wanted !== 'auto') throw new Error(`Backend ${name} could not be loaded: ${(e as Error).message}`);
    }
  }
  throw new Error(`No tfjs backend could be loaded:\n${errors.join('\n')}`);
}

/** The name of the active backend, e.g. for a run manifest. */
export function currentBackend(): string {
  return tf.getBackend();
}

async function activate(name: BackendName): Promise<void> {
  if (tf.getBackend() === name) return;
  if (name === 'tensorflow-gpu' || name === 'tensorflow') {
    const pkg = name === 'tensorflow-gpu' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
    // Loading the addon registers the 'tensorflow' backend; a missing libtensorflow throws here.
    require(pkg);
    if (!(await tf.setBackend('tensorflow'))) throw new Error(`${pkg} loaded but its backend did not initialise`);
    return;
  }
  if (name === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    // Under Node the .wasm binaries are read from the installed package, never fetched.
    const dir = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep;
    wasm.setWasmPaths(dir);
    if (!(await tf.setBackend('wasm'))) throw new Error('wasm backend did not initialise');
    return;
  }
  await import('@tensorflow/tfjs-backend-cpu');
  if (!(await tf.setBackend('cpu'))) throw new Error('cpu backend did not initialise');
}

import { createRequire } from 'node:module';
import path from 'node:path';
import { tf } from './tf.js';
import { RowsHelpers } from './wasm/rows-helpers.js';
import { setPanelHelpersFactory, startWasmBackend } from './wasm/runtime.js';
import { INFERENCE_COPY_HEAP_BYTES, setFrozenCopyBudgets } from './frozen-copies.js';
import { NATIVE_BACKEND, loadAddon, registerNativeBackend } from '@cope/backend-native';

/** Backends we know how to set up, in the order `auto` tries them. */
export const BACKENDS = ['tensorflow-gpu', 'tensorflow', 'native', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];
export type BackendChoice = BackendName | 'auto';

const require = createRequire(import.meta.url);

export interface BackendOptions {
  /**
   * Threads for the products. wasm: more than 1 loads tfjs's threaded build, whose pool runs the backend's own
   * ops (XNNPACK's products), while this package's product kernel splits large frozen products over helper
   * threads of its own (training, DPO and forward passes gain; decoding steps, on the single-threaded heap
   * kernels, do not); decided when the backend first starts in a process (or worker thread), later calls keep
   * it. native: OpenMP threads for every product, per backend instance (a later call changes it). Default:
   * `COPE_THREADS`, else 1. tensorflow and cpu manage their own threads.
   */
  threads?: number;
  /**
   * With `auto`: the float32 size of the model about to run ({@link modelFloat32Bytes}). From
   * {@link AUTO_NATIVE_MODEL_BYTES} up `auto` takes the native backend when it is built; below, wasm, whose kernels
   * made the embedded results and fixtures (backends draw different dropout masks, so a run's adapters differ).
   */
  modelBytes?: number;
  /**
   * The process decodes and scores but never trains: on wasm, copies of frozen weights may then take more of
   * the heap (a training step's activations need far more than a decoding step's).
   */
  inferenceOnly?: boolean;
}

/**
 * From this float32 weight size up `auto` prefers the native backend: past it the wasm heap (4 GiB) leaves no
 * room to train, and the native products are faster per token (@cope/model's README, Backends).
 */
export const AUTO_NATIVE_MODEL_BYTES = 1024 ** 3;

let choiceNote = '';

/** Why `auto` picked the active backend, in a few words ('' after an explicit choice). */
export function backendChoiceNote(): string {
  return choiceNote;
}

/**
 * Loads and activates a tfjs backend and returns its name.
 *
 * `auto` (the default, overridable with `COPE_BACKEND`) tries `@tensorflow/tfjs-node-gpu`, then
 * `@tensorflow/tfjs-node` (both optional: their install downloads libtensorflow and may have left no
 * binary), then `wasm`, then `cpu`. Explicit choices fail loudly when the backend cannot load.
 */
export async function initBackend(choice: BackendChoice | string = process.env.COPE_BACKEND || 'auto', options: BackendOptions = {}): Promise<BackendName> {
  const wanted = choice as BackendChoice;
  if (wanted !== 'auto' && !(BACKENDS as readonly string[]).includes(wanted)) {
    throw new Error(`Unknown backend "${choice}": expected one of auto, ${BACKENDS.join(', ')}`);
  }
  const threads = resolveThreads(options.threads);
  if (options.inferenceOnly) setFrozenCopyBudgets({ heap: INFERENCE_COPY_HEAP_BYTES });
  const large = (options.modelBytes ?? 0) >= AUTO_NATIVE_MODEL_BYTES;
  // auto: the native backend for large models, wasm (faster on small ones) otherwise.
  const order: BackendName[] = wanted === 'auto' ? BACKENDS.filter((b) => b !== 'native' || large) : [wanted];
  const errors: string[] = [];
  for (const name of order) {
    try {
      await activate(name, threads);
      choiceNote = wanted === 'auto' ? autoNote(name, large, options.modelBytes) : '';
      return name;
    } catch (e) {
      errors.push(`${name}: ${(e as Error).message}`);
      if (wanted !== 'auto') throw new Error(`Backend ${name} could not be loaded: ${(e as Error).message}`);
    }
  }
  throw new Error(`No tfjs backend could be loaded:\n${errors.join('\n')}`);
}

function autoNote(picked: BackendName, large: boolean, bytes: number | undefined): string {
  if (picked !== 'wasm' && picked !== 'native') return `auto: ${picked}`;
  const { addon, reason } = loadAddon();
  const size = `${((bytes ?? 0) / 1024 ** 3).toFixed(2)} GiB of float32 weights`;
  if (picked === 'native') return `auto: native for ${size}`;
  if (large) return `auto: wasm for ${size}, which may not fit its heap: ${reason || 'the native backend did not start'}`;
  return addon ? 'auto: wasm for a model this size (the embedded results\' backend; --backend native trains faster)' : `auto: wasm (${reason})`;
}

/** The name of the active backend, e.g. for a run manifest. */
export function currentBackend(): string {
  return tf.getBackend();
}

/** The thread count asked for: the option, else `COPE_THREADS`, else 1. */
function resolveThreads(threads: number | undefined): number {
  if (threads !== undefined) {
    if (!Number.isInteger(threads) || threads < 1) throw new Error(`initBackend: threads must be a positive integer, got ${threads}`);
    return threads;
  }
  const env = process.env.COPE_THREADS;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 1) throw new Error(`COPE_THREADS must be a positive integer, got "${env}"`);
    return n;
  }
  return 1;
}

async function activate(name: BackendName, threads: number): Promise<void> {
  if (name === 'native') {
    // Registering again sets the live backend's thread count (an active backend is kept, its tensors too).
    if (!registerNativeBackend({ threads })) throw new Error(loadAddon().reason);
    if (tf.getBackend() !== NATIVE_BACKEND && !(await tf.setBackend(NATIVE_BACKEND))) throw new Error('native backend did not initialise');
    return;
  }
  if (tf.getBackend() === name && name !== 'wasm') return;
  if (name === 'tensorflow-gpu' || name === 'tensorflow') {
    const pkg = name === 'tensorflow-gpu' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
    // Loading the addon registers the 'tensorflow' backend; a missing libtensorflow throws here.
    try {
      require(pkg);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND' || !String((e as Error).message).includes(pkg)) throw e;
      throw new Error(`--backend ${name}: ${pkg} is not installed; install it next to @cope/model, pinned to the tfjs-core in use: pnpm --filter @cope/model add ${pkg}@${tf.version_core} (it downloads libtensorflow), or use --backend wasm`);
    }
    if (!(await tf.setBackend('tensorflow'))) throw new Error(`${pkg} loaded but its backend did not initialise`);
    return;
  }
  if (name === 'wasm') {
    // Under Node the .wasm binaries are read from the installed package, never fetched.
    const dir = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep;
    // tfjs's threaded build runs under Node only with the project's patch of tfjs-backend-wasm
    // (patches/: its pthread workers start from files, not blob: URLs). Without it, one thread.
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const threaded = threads > 1 && (wasm as { nodeThreadsPatch?: boolean }).nodeThreadsPatch === true;
    setPanelHelpersFactory((memory, module, count) => new RowsHelpers(memory, module, count));
    await startWasmBackend(dir, threads, threaded);
    return;
  }
  await import('@tensorflow/tfjs-backend-cpu');
  if (!(await tf.setBackend('cpu'))) throw new Error('cpu backend did not initialise');
}

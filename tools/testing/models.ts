/**
 * Test helpers for suites that run a fixture model (never shipped). Separate from `#testing` so suites of
 * packages without a model do not load tfjs.
 */
import { disposeAdapter, disposeModel, loadLoraAdapter, loadModel, type CausalLM, type LoraAdapter } from '@cope/model';
import { fixture } from './fixtures.js';

/** Loads `models/<name>` (and its adapter folder, if named) before the suite's tests; frees them after. */
function withLoaded(name: string, adapterDir: string | null, use: (model: CausalLM, adapter: LoraAdapter | null) => void): void {
  let model: CausalLM | undefined;
  let adapter: LoraAdapter | null = null;
  beforeAll(async () => {
    model = await loadModel(fixture('models', name));
    if (adapterDir) adapter = await loadLoraAdapter(model, fixture('models', name, adapterDir));
    use(model, adapter);
  });
  afterAll(() => {
    if (adapter) disposeAdapter(adapter);
    if (model) disposeModel(model);
  });
}

/** Loads `models/<name>` before the enclosing suite's tests (handing it to `use`) and frees it after them. */
export function withFixtureModel(name: string, use: (model: CausalLM) => void): void {
  withLoaded(name, null, (model) => use(model));
}

/** Loads the tiny-llama fixture and its PEFT adapter before the enclosing suite's tests; frees both after them. */
export function withTinyLlamaAndAdapter(use: (model: CausalLM, adapter: LoraAdapter) => void): void {
  withLoaded('tiny-llama', 'adapter', (model, adapter) => use(model, adapter!));
}

/**
 * The ids of each embedding lookup in a `tf.profile` of a model call (lookups of more than `minIds` ids of
 * `model`'s embedding table): the backend's gather, or @cope/model's row-lookup kernel on wasm. Tests count
 * them to see which prompt rows a call read.
 */
export function embeddingLookups(model: CausalLM, kernels: Array<{ name: string; inputShapes: number[][] }>, minIds: number): number[] {
  return kernels
    .filter((k) => (k.name === 'GatherV2' || k.name === 'CopeGatherRows') && k.inputShapes[0]?.[0] === model.config.vocabSize && (k.inputShapes[1]?.[0] ?? 0) > minIds)
    .map((k) => k.inputShapes[1]![0]);
}

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

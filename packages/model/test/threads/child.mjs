// Runs one forward pass, one LoRA gradient, two cached decoding steps and a large frozen product with its gradient on the embedded model with the
// wasm backend at the thread count in argv[2], and prints digests of every result's bytes (threads.test.ts
// compares them across thread counts). Imports the built package: `pnpm test` builds first.
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..', '..', '..');
const dist = path.join(root, 'packages', 'model', 'dist');
const { adapterVariables, backendThreads, createLoraAdapter, disposeCache, forward, initBackend, loadModel, opsFor, tf } =
  await import(pathToFileURL(path.join(dist, 'index.js')).href);
const { Rng } = await import(pathToFileURL(path.join(root, 'packages', 'core', 'dist', 'index.js')).href);
const { RowsHelpers } = await import(pathToFileURL(path.join(dist, 'wasm', 'rows-helpers.js')).href);

await initBackend('wasm', { threads: Number(process.argv[2]) });
// The scripts the pool threads load are written to the temporary folder and removed once they are loaded.
const tmpAfterInit = readdirSync(os.tmpdir());
const model = await loadModel(path.join(root, 'data', 'models', 'cope-tiny'));
const rng = new Rng(7);
const adapter = createLoraAdapter(model, 'user', { r: 8, alpha: 16, targetModules: ['q_proj', 'v_proj'] }, rng);
// PEFT starts B at zero; random B makes the adapter change every product it touches.
for (const v of adapterVariables(adapter)) v.assign(tf.randomNormal(v.shape, 0, 0.05, 'float32', rng.int(1 << 30)));
const ids = Array.from({ length: 4 }, () => Array.from({ length: 96 }, () => 3 + rng.int(model.config.vocabSize - 3)));

const digest = (t) => createHash('sha256').update(Buffer.from(t.dataSync().buffer)).digest('hex');
const out = { threads: backendThreads(), tmpAfterInit };
const full = forward(model, ids, { adapters: adapter });
out.logits = digest(full.logits);
full.logits.dispose();
const vars = adapterVariables(adapter);
const { value, grads } = tf.variableGrads(() => tf.mean(forward(model, ids, { adapters: adapter }).logits), vars);
out.gradients = vars.map((v) => digest(grads[v.name]));
tf.dispose([value, ...Object.values(grads)]);
// Two rows through the KV cache, one token a step: the decoding kernels on the backend's heap.
const prompt = forward(model, ids.slice(0, 2), { adapters: adapter, useCache: true, lastOnly: true });
const step = forward(model, [[5], [9]], { adapters: adapter, cache: prompt.cache, useCache: true, lastOnly: true });
out.step = digest(step.logits);
tf.dispose([prompt.logits, step.logits]);
disposeCache(prompt.cache);
disposeCache(step.cache);
// A frozen product large enough to be split over the threads (2^25 multiply-adds and more), with a partial
// last panel (301 columns) and an odd number of panels, and its gradient (the product with Wᵀ).
const splitBefore = RowsHelpers.splitProducts;
const x = tf.randomNormal([300, 384], 0, 1, 'float32', 11);
const w = { kernel: tf.randomNormal([384, 301], 0, 1, 'float32', 12) };
const product = opsFor().frozenMatmul(x, w);
out.bigProduct = digest(product);
const dx = tf.grad((xIn) => tf.sum(tf.mul(opsFor().frozenMatmul(xIn, w), product)))(x);
out.bigGradient = digest(dx);
out.splitProducts = RowsHelpers.splitProducts - splitBefore;
tf.dispose([x, w.kernel, product, dx]);
// A later request for another thread count keeps the running backend and says so.
const warnings = [];
const warn = console.warn;
console.warn = (m) => warnings.push(String(m));
await initBackend('wasm', { threads: 3 });
console.warn = warn;
out.laterRequest = { threads: backendThreads(), warnings };
console.log(JSON.stringify(out));

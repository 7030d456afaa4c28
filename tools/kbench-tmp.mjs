import wabtInit from 'wabt';
import { readFileSync } from 'node:fs';
const wabt = await wabtInit();
const compile = (f) => { const m = wabt.parseWat(f, readFileSync(f, 'utf8'), { simd: true }); const b = m.toBinary({}).buffer; m.destroy(); return new WebAssembly.Module(b); };
const mem = new WebAssembly.Memory({ initial: 1024 });
const oldI = new WebAssembly.Instance(compile('/tmp/old-rows.wat'), { env: { memory: mem } }).exports;
const newI = new WebAssembly.Instance(compile('../packages/model/src/kernels/rows-matmul.wat'), { env: { memory: mem } }).exports;
const f32 = new Float32Array(mem.buffer);
for (let i = 0; i < f32.length; i++) f32[i] = (i % 97) / 97 - 0.5;
const shapes = [[256, 256], [256, 64], [256, 64], [256, 256], [256, 688], [256, 688], [688, 256]];
const X = 0, W = 1 << 20, Y = 60 << 20; // byte offsets; weights for 4 layers laid out
const layout = []; let off = W;
for (let l = 0; l < 4; l++) for (const [K, N] of shapes) { layout.push([off, K, N]); off += Math.ceil(N / 16) * 16 * K * 4; }
layout.push([off, 256, 8000]);
const med = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const run = (fn) => { const ts = []; for (let r = 0; r < 400; r++) { const t = performance.now(); for (const [w, K, N] of layout) fn(w, K, N); ts.push(performance.now() - t); } return med(ts) * 1000; };
for (let rep = 0; rep < 3; rep++) {
  const o1 = run((w, K, N) => oldI.rows1(X, w, Y, K, N));
  const n1 = run((w, K, N) => newI.rows(X, w, Y, 1, K, N));
  const o2 = run((w, K, N) => oldI.rows2(X, w, Y, K, N));
  const n2 = run((w, K, N) => newI.rows(X, w, Y, 2, K, N));
  console.log(`step products: old 1 row ${o1.toFixed(0)} us, new ${n1.toFixed(0)}; old 2 rows ${o2.toFixed(0)}, new ${n2.toFixed(0)}`);
}

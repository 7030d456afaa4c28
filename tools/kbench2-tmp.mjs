import wabtInit from 'wabt';
import { readFileSync } from 'node:fs';
const wabt = await wabtInit();
const compile = (f) => { const m = wabt.parseWat(f, readFileSync(f, 'utf8'), { simd: true }); const b = m.toBinary({}).buffer; m.destroy(); return new WebAssembly.Module(b); };
const mem = new WebAssembly.Memory({ initial: 2048 });
const I = new WebAssembly.Instance(compile('../packages/model/src/kernels/rows-matmul.wat'), { env: { memory: mem } }).exports;
const f32 = new Float32Array(mem.buffer);
for (let i = 0; i < f32.length; i++) f32[i] = (i % 97) / 97 - 0.5;
const shapes = (process.argv[2] === 'medium') ? [[512, 512], [512, 128], [512, 1376], [1376, 512], [512, 32000], [512, 8], [8, 512]] : [[256, 256], [256, 64], [256, 688], [688, 256], [256, 8000], [256, 8], [8, 256]];
const med = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
// Many distinct weight copies so the set does not sit in L1/L2 (as in a step, where 19 MB of weights stream).
for (const [K, N] of shapes) {
  const size = Math.ceil(N / 16) * 16 * K * 4;
  const copies = Math.max(1, Math.min(40, Math.floor((96 << 20) / size)));
  const t = (R) => { const ts = []; for (let r = 0; r < 30; r++) { const s = performance.now(); for (let c = 0; c < copies; c++) I.rows(0, (1 << 20) + c * size, 512 << 10, R, K, N); ts.push((performance.now() - s) / copies); } return med(ts) * 1000; };
  t(1); t(2);
  const a = t(1), b = t(2);
  console.log(`[${K},${N}] 1 row ${a.toFixed(1)} us, 2 rows ${b.toFixed(1)} us (+${((b / a - 1) * 100).toFixed(0)}%)`);
}

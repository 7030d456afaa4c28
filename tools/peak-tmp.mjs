import wabtInit from 'wabt';
import { readFileSync } from 'node:fs';
const wabt = await wabtInit();
const m = wabt.parseWat('p', readFileSync('peak-tmp.wat', 'utf8'), { simd: true });
const inst = new WebAssembly.Instance(new WebAssembly.Module(m.toBinary({}).buffer), {}).exports;
inst.peak(1e6);
for (let r = 0; r < 3; r++) { const n = 5e7; const t = performance.now(); inst.peak(n); const s = (performance.now() - t) / 1000; console.log(`${(n * 8 * 4 * 2 / s / 1e9).toFixed(1)} GFLOP/s (mul+add, 8 chains)`); }

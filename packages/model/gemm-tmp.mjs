import { loadAddon } from '@cope/backend-native';
const { addon } = loadAddon();
for (const [k, n] of [[256, 688], [688, 256], [256, 8000]]) {
  const count = Math.ceil(16e6 / (k * n * 4));
  const ws = Array.from({ length: count }, (_, c) => Float32Array.from({ length: k * n }, (_, i) => Math.sin(i + c)));
  const line = [];
  for (const threads of [1, 2]) for (const m of [1, 2]) {
    const x = Float32Array.from({ length: m * k }, (_, i) => Math.cos(i));
    const out = new Float32Array(m * n);
    for (let i = 0; i < 50; i++) for (const w of ws) addon.rowsGemm(x, w, out, m, k, n, threads);
    const reps = 200;
    const t = performance.now();
    for (let i = 0; i < reps; i++) for (const w of ws) addon.rowsGemm(x, w, out, m, k, n, threads);
    line.push(`t${threads} m${m} ${((performance.now() - t) / reps / count * 1000).toFixed(1)}`);
  }
  console.log(`${k}x${n} x${count} cold: ${line.join('  ')} µs`);
}

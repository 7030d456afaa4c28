import { RowsHelpers } from '../src/wasm/rows-helpers.js';
import { ROWS_MATMUL_WASM } from '../src/wasm/rows-matmul-binary.js';

/**
 * The helper threads on a shared memory of their own (no tfjs): a product split by panels over 1–3 helpers
 * against the same kernel's whole product, and a helper that cannot run the kernel.
 */
interface RowsExports {
  rows(x: number, w: number, y: number, rows: number, k: number, n: number): void;
  panels(x: number, w: number, y: number, rows: number, k: number, n: number, p0: number, p1: number): void;
}
const WA = (globalThis as unknown as { WebAssembly: { Memory: new (d: object) => { buffer: ArrayBuffer }; Module: new (b: Uint8Array) => object; Instance: new (m: object, i: object) => { exports: unknown } } }).WebAssembly;

const memory = new WA.Memory({ initial: 256, maximum: 65536, shared: true });
const sharedModule = new WA.Module(Buffer.from(ROWS_MATMUL_WASM.shared, 'base64'));
const kernel = new WA.Instance(sharedModule, { env: { memory } }).exports as RowsExports;

/** x [R, K] and a packed weight of ceil(N/16) panels in the shared memory, and two output areas. */
function layout(R: number, K: number, N: number, seed: number) {
  const panels = Math.ceil(N / 16);
  const x = 0;
  const w = x + R * K * 4;
  const y1 = w + panels * K * 16 * 4;
  const y2 = y1 + R * N * 4;
  let s = seed;
  const next = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5);
  const heap = new Float32Array(memory.buffer);
  for (let i = 0; i < R * K + panels * K * 16; i++) heap[i] = next();
  return { x, w, y1, y2, panels };
}

describe('rows kernel helper threads', () => {
  test.each([
    [1, 37, 64, 301],
    [2, 128, 48, 16],
    [3, 9, 33, 40],
    [2, 2, 256, 8000],
  ])('%i helper(s): %i rows, K %i, N %i: the product split by panels equals the whole product bit for bit', (helpers, R, K, N) => {
    const pool = new RowsHelpers(memory, sharedModule, helpers);
    const { x, w, y1, y2, panels } = layout(R, K, N, R * 7 + N);
    kernel.rows(x, w, y1, R, K, N);
    const heap = new Uint32Array(memory.buffer);
    const whole = Buffer.from(heap.slice(y1 / 4, y1 / 4 + R * N).buffer);
    const before = RowsHelpers.splitProducts;
    // Twice, the output area filled with NaN bits first: every value must be written by one of the threads.
    for (let run = 0; run < 2; run++) {
      heap.fill(0xffffffff, y2 / 4, y2 / 4 + R * N);
      pool.run(kernel.panels, x, w, y2, R, K, N, panels);
      expect(Buffer.from(heap.slice(y2 / 4, y2 / 4 + R * N).buffer).equals(whole)).toBe(true);
    }
    expect(RowsHelpers.splitProducts).toBe(before + 2);
  });

  test('a helper that cannot instantiate the kernel makes the product fail at once, not wait', () => {
    // The plain binary imports an unshared memory: instantiating it on the shared heap fails in the helper.
    const plain = new WA.Module(Buffer.from(ROWS_MATMUL_WASM.plain, 'base64'));
    const pool = new RowsHelpers(memory, plain, 1);
    const { x, w, y2, panels } = layout(4, 16, 64, 3);
    const start = Date.now();
    expect(() => pool.run(kernel.panels, x, w, y2, 4, 16, 64, panels)).toThrow(/rows kernel: a helper thread failed on a \[4, 16\] · \[16, 64\] product/);
    expect(Date.now() - start).toBeLessThan(30_000);
  });
});

import { heapExhaustionNote, wasmHeapBytes } from '@cope/model';
import { onWasm, setupBackend } from './helpers.js';

beforeAll(setupBackend);

describe('wasm heap', () => {
  test('wasmHeapBytes reads the heap on wasm (a positive size within 4 GiB), undefined elsewhere', () => {
    const bytes = wasmHeapBytes();
    if (!onWasm()) return expect(bytes).toBeUndefined();
    expect(bytes).toBeGreaterThan(0);
    expect(bytes!).toBeLessThanOrEqual(4 * 1024 ** 3);
  });

  test('heapExhaustionNote explains a failure once the heap is near its 4 GiB ceiling, and says nothing before', () => {
    const note = heapExhaustionNote(4 * 1024 ** 3 - 64 * 1024 ** 2);
    expect(note).toMatch(/^ \(the wasm heap is at 3\.94 of its 4 GiB: /);
    expect(note).toMatch(/shorter inputs, a smaller batch, or the native backend: --backend native\)$/);
    expect(heapExhaustionNote(3.5 * 1024 ** 3)).toBe('');
    expect(heapExhaustionNote(undefined)).toBe('');
    // The test process's own heap is far from the ceiling.
    expect(heapExhaustionNote()).toBe('');
  });
});

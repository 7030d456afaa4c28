import type { Tensor1D, Tensor2D } from '../tf.js';
import { GATHER_ROWS_WASM } from './gather-rows-binary.js';
import { heapModuleAvailable, registerHeapKernel, runHeapKernel } from './heap-module.js';

/**
 * Row lookup on the wasm backend (`src/wasm/gather-rows.wat`, on the tfjs heap like the rows kernel):
 * embedding rows by token id, or the last position of each sequence. The backend's GatherV2 takes about
 * a cost per element (a prompt's embedding lookup took a visible share of its step); this is one bulk copy a row, bitwise the
 * same values.
 */

const KERNEL_NAME = 'CopeGatherRows';

interface GatherRowsExports {
  gather(table: number, ids: number, out: number, n: number, rowBytes: number): void;
}

function register(): void {
  registerHeapKernel<GatherRowsExports>(KERNEL_NAME, GATHER_ROWS_WASM, (inst, be, { table, ids }) => {
    const [n] = ids.shape;
    const width = table.shape[1];
    const out = be.makeOutput([n, width], 'float32');
    if (n > 0 && width > 0) inst.gather(be.getMemoryOffset(table.dataId), be.getMemoryOffset(ids.dataId), be.getMemoryOffset(out.dataId), n, width * 4);
    return out;
  });
}

/** True when the active backend is wasm and can run the kernel on its heap. */
export function gatherRowsAvailable(): boolean {
  return heapModuleAvailable(GATHER_ROWS_WASM);
}

/**
 * `table [V, width]` rows at `ids [n]` (int32, each in [0, V): the caller checks, the kernel does not) →
 * `[n, width]`. wasm backend only; no gradient (callers that train wrap it).
 */
export function gatherRows(table: Tensor2D, ids: Tensor1D): Tensor2D {
  if (ids.dtype !== 'int32') throw new Error(`gatherRows: ids must be int32, got ${ids.dtype}`);
  if (table.dtype !== 'float32') throw new Error(`gatherRows: table must be float32, got ${table.dtype}`);
  register();
  return runHeapKernel<Tensor2D>('gatherRows', KERNEL_NAME, { table, ids });
}

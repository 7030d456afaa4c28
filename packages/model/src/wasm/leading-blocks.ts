import { tf } from '../tf.js';
import type { Tensor } from '../tf.js';
import { CONCAT_ROWS_WASM } from './concat-rows-binary.js';
import { heapModuleAvailable, registerHeapKernel, runHeapKernel } from './heap-module.js';

/**
 * Splitting a float32 tensor along its first axis, and joining tensors along it, on the wasm heap: every piece
 * is one contiguous block, copied in bulk (concat-rows.wat's `memory.copy`). tfjs-wasm's SplitV, Unpack and
 * Concat copy element by element in JavaScript, some 60 times slower than a bulk copy. Training's attention splits q, k and v per (batch, kv
 * head) slice and stacks the slices' outputs, so a LoRA step of the embedded model spent about a tenth of
 * its time there. Values are copies, bitwise the same; each op's gradient is the other (a concatenation's
 * gradient gives each input its block of the incoming gradient).
 */

const SPLIT = 'CopeSplitLeading';
const CONCAT = 'CopeConcatLeading';
const BLOCK = 'CopeLeadingBlock';

interface CopyExports {
  concat2(a: number, b: number, out: number, rows: number, aBytes: number, bBytes: number): void;
}

/** Copies `bytes` from heap address `src` to `dst` (concat2 of one row with an empty second part). */
const copy = (inst: CopyExports, src: number, dst: number, bytes: number) => {
  if (bytes > 0) inst.concat2(src, src, dst, 1, bytes, 0);
};

const rowBytes = (shape: number[]) => shape.slice(1).reduce((a, b) => a * b, 1) * 4;

let registered = false;
function register(): void {
  if (registered) return;
  registered = true;
  registerHeapKernel<CopyExports>(SPLIT, CONCAT_ROWS_WASM, (inst, be, { x }, { parts }) => {
    const rows = x.shape[0] / parts;
    const shape = [rows, ...x.shape.slice(1)];
    const bytes = rows * rowBytes(x.shape);
    const src = be.getMemoryOffset(x.dataId);
    return Array.from({ length: parts }, (_, i) => {
      const out = be.makeOutput(shape, 'float32');
      copy(inst, src + i * bytes, be.getMemoryOffset(out.dataId), bytes);
      return out;
    }) as unknown as tf.TensorInfo;
  });
  registerHeapKernel<CopyExports>(CONCAT, CONCAT_ROWS_WASM, (inst, be, inputs) => {
    const parts = Object.keys(inputs).length;
    const pieces = Array.from({ length: parts }, (_, i) => inputs[`t${i}`]);
    const rows = pieces.reduce((n, t) => n + t.shape[0], 0);
    const out = be.makeOutput([rows, ...pieces[0].shape.slice(1)], 'float32');
    let dst = be.getMemoryOffset(out.dataId);
    for (const t of pieces) {
      const bytes = t.shape[0] * rowBytes(t.shape);
      copy(inst, be.getMemoryOffset(t.dataId), dst, bytes);
      dst += bytes;
    }
    return out;
  });
  registerHeapKernel<CopyExports>(BLOCK, CONCAT_ROWS_WASM, (inst, be, { x }, { start, count }) => {
    const out = be.makeOutput([count, ...x.shape.slice(1)], 'float32');
    copy(inst, be.getMemoryOffset(x.dataId) + start * rowBytes(x.shape), be.getMemoryOffset(out.dataId), count * rowBytes(x.shape));
    return out;
  });
  tf.registerGradient({
    kernelName: SPLIT,
    gradFunc: (dy) => {
      const dys = Array.isArray(dy) ? dy : [dy];
      return { x: () => concatLeading(dys) };
    },
  });
  tf.registerGradient({
    kernelName: CONCAT,
    inputsToSave: [],
    gradFunc: (dy, _saved, attrs) => {
      const sizes = (attrs as unknown as { sizes: number[] }).sizes;
      const grads: Record<string, () => Tensor> = {};
      let start = 0;
      sizes.forEach((count, i) => {
        const from = start;
        grads[`t${i}`] = () => runHeapKernel<Tensor>('concatLeading', BLOCK, { x: dy as Tensor }, { start: from, count });
        start += count;
      });
      return grads;
    },
  });
}

/** True when the active backend can run {@link splitLeading} and {@link concatLeading}. */
export function leadingBlocksAvailable(): boolean {
  return heapModuleAvailable(CONCAT_ROWS_WASM);
}

function checkFloat32(caller: string, t: Tensor): void {
  if (t.dtype !== 'float32') throw new Error(`${caller}: needs float32 tensors, got ${t.dtype}`);
  if (t.rank < 1) throw new Error(`${caller}: needs tensors of rank 1 or more, got a scalar`);
}

/**
 * `tf.split(x, parts, 0)` for float32 `x` whose first axis divides into `parts` (wasm backend only:
 * {@link leadingBlocksAvailable}); with a gradient. @returns `parts` tensors [x.shape[0] / parts, ...]
 */
export function splitLeading<T extends Tensor>(x: T, parts: number): T[] {
  checkFloat32('splitLeading', x);
  if (!Number.isInteger(parts) || parts < 1 || x.shape[0] % parts !== 0) {
    throw new Error(`splitLeading: ${parts} parts do not divide the first axis of [${x.shape}]`);
  }
  register();
  const out = runHeapKernel<T>('splitLeading', SPLIT, { x }, { parts }) as unknown as T | T[];
  return Array.isArray(out) ? out : [out];
}

/**
 * `tf.concat(tensors, 0)` for float32 tensors that agree past the first axis (wasm backend only:
 * {@link leadingBlocksAvailable}); with a gradient.
 */
export function concatLeading<T extends Tensor>(tensors: T[]): T {
  if (tensors.length === 0) throw new Error('concatLeading: no tensors');
  const tail = tensors[0].shape.slice(1).join(',');
  for (const t of tensors) {
    checkFloat32('concatLeading', t);
    if (t.shape.slice(1).join(',') !== tail) throw new Error(`concatLeading: shapes [${tensors[0].shape}] and [${t.shape}] differ past the first axis`);
  }
  register();
  const inputs = Object.fromEntries(tensors.map((t, i) => [`t${i}`, t]));
  return runHeapKernel<T>('concatLeading', CONCAT, inputs, { sizes: tensors.map((t) => t.shape[0]) } as unknown as Record<string, number>);
}


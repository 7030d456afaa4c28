import { tf } from '../tf.js';
import type { Tensor2D, Tensor3D, Tensor4D } from '../tf.js';
import { STEP_ATTENTION_WASM } from './step-attention-binary.js';
import { STEP_ATTENTION_KERNEL } from '@cope/backend-native';
import { heapModuleAvailable, registerHeapKernel, runHeapKernel } from './heap-module.js';

/**
 * Attention for decoding steps on the wasm backend, in one kernel (step-attention.wat on the tfjs heap).
 *
 * With one query token per row, the op-based path scales q, forms two broadcast products over a
 * g-times-larger intermediate ([B, kvH, g, T, hd]), reduces both, adds the mask and runs a softmax: six
 * ops whose cost grows with the cache. The kernel reads each key and value once per query head and keeps
 * scores in a scratch row: at 600 cached tokens on the medium bench config, a step's attention drops from
 * milliseconds to a fraction of one.
 */

const KERNEL_NAME = STEP_ATTENTION_KERNEL;

interface StepAttentionExports {
  attend(q: number, k: number, vT: number, bias: number, out: number, scratch: number, B: number, kvH: number, g: number, T: number, hd: number, scale: number): void;
}

function register(): void {
  registerHeapKernel<StepAttentionExports>(KERNEL_NAME, STEP_ATTENTION_WASM, (inst, be, { q, k, vT, bias }, { scale }) => {
    const [B, H, hd] = q.shape;
    const [, kvH, T] = k.shape;
    const out = be.makeOutput([B, H, hd], 'float32');
    const scratch = be.makeOutput([(H / kvH) * T], 'float32');
    const at = (t: tf.TensorInfo) => be.getMemoryOffset(t.dataId);
    inst.attend(at(q), at(k), at(vT), at(bias), at(out), at(scratch), B, kvH, H / kvH, T, hd, scale);
    be.disposeData(scratch.dataId);
    return out;
  });
}

/** True when the active backend can run {@link stepAttention}. */
export function stepAttentionAvailable(): boolean {
  return heapModuleAvailable(STEP_ATTENTION_WASM);
}

/**
 * `softmax(scale · q·kᵀ + bias) · v` for one query token per row, grouped-query heads (head h reads kv
 * head ⌊h / g⌋). q [B, H, hd]; k [B, kvH, T, hd]; vT [B, kvH, hd, T] (values transposed); bias [B, T]
 * (0 or a large negative number for masked positions). hd must be a multiple of 4. Only on the wasm
 * backend ({@link stepAttentionAvailable}); no gradient (decoding only). @returns [B, H, hd]
 */
export function stepAttention(q: Tensor3D, k: Tensor4D, vT: Tensor4D, bias: Tensor2D, scale: number): Tensor3D {
  const [B, H, hd] = q.shape;
  const [kB, kvH, T, kHd] = k.shape;
  const shapes = `q [${q.shape}], k [${k.shape}], vT [${vT.shape}], bias [${bias.shape}]`;
  if (kB !== B || kHd !== hd || H % kvH !== 0) throw new Error(`stepAttention: mismatched shapes: ${shapes}`);
  if (vT.shape.join() !== [B, kvH, hd, T].join() || bias.shape.join() !== [B, T].join()) throw new Error(`stepAttention: mismatched shapes: ${shapes}`);
  if (hd % 4 !== 0 || T < 1) throw new Error(`stepAttention: needs hd a multiple of 4 and at least one cached token: ${shapes}`);
  register();
  return runHeapKernel<Tensor3D>('stepAttention', KERNEL_NAME, { q, k, vT, bias }, { scale });
}

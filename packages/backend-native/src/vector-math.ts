import { loadAddon } from './addon.js';
import type { NativeVectorMath } from './native-types.js';

export type { NativeVectorMath };

let kernels: NativeVectorMath | null | undefined;

/** The native vocabulary passes, or null (no addon, or a CPU without AVX-512: the WebAssembly module serves). */
export function nativeVectorMath(): NativeVectorMath | null {
  if (kernels !== undefined) return kernels;
  const { addon } = loadAddon();
  if (!addon || !addon.vmAvailable()) return (kernels = null);
  return (kernels = {
    max: addon.vmMax,
    expShiftSum: addon.vmExpShiftSum,
    logAffine: addon.vmLogAffine,
    affine: addon.vmAffine,
    sumAtLeast: addon.vmSumAtLeast,
    logContrastAtLeast: addon.vmLogContrastAtLeast,
    greedyPick: addon.vmGreedyPick,
    contrastivePick: addon.vmContrastivePick,
  });
}

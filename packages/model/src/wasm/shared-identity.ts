import { tf } from '../tf.js';

/**
 * `Identity` (tf.clone) on the wasm backend as tfjs's CPU and WebGL backends do it: the clone shares the
 * input's memory, counted by the backend's reference counts (as its own Reshape does), instead of copying it.
 *
 * Tensors never change in place (variables take new memory on `assign`), so a shared clone is
 * indistinguishable from a copy. It matters because the gradient tape clones every tensor an op saves for its
 * backward pass: a LoRA training step of the embedded model made about 1,200 copies (about 5% of the step),
 * and every saved activation was held twice. `mergeAdapter`'s unchanged weights are clones too.
 */

interface RefCountingBackend {
  incRef(dataId: object): void;
}

let installed = false;

/** Replaces the wasm backend's `Identity` kernel (once per process; a no-op on later calls). */
export function installSharedIdentity(): void {
  if (installed) return;
  const copying = tf.getKernel('Identity', 'wasm');
  if (!copying) return;
  installed = true;
  tf.unregisterKernel('Identity', 'wasm');
  tf.registerKernel({
    kernelName: 'Identity',
    backendName: 'wasm',
    kernelFunc: (args) => {
      const x = args.inputs.x as tf.TensorInfo;
      // Strings live outside the heap: the backend's own kernel handles them.
      if (x.dtype === 'string') return copying.kernelFunc(args);
      (args.backend as unknown as RefCountingBackend).incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    },
  });
}

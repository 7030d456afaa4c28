/**
 * The one place that imports tfjs. `@tensorflow/tfjs-core` alone registers no gradients under Node
 * ("gradient function not found"), so the full `@tensorflow/tfjs` bundle is loaded for its side effect
 * of registering every gradient in the shared kernel registry.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs';

export { tf };
export type { Tensor, Tensor1D, Tensor2D, Tensor3D, Tensor4D, Variable, Rank } from '@tensorflow/tfjs-core';

import * as tf from '@tensorflow/tfjs-core';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { loadAddon } from './addon.js';
import { layerArrays, modelArrays, stepDims, stepShapes } from './decoder-step.js';
import { NATIVE_BACKEND } from './name.js';
import type { NativeBackend } from './native-backend.js';
import type { ModelStepAttrs, NativeDecodeSession } from './native-types.js';

export type { ModelStepAttrs, NativeDecodeSession };

/**
 * A session on the `native` backend (the tensors must live there) over `CopeModelStep`'s inputs but the
 * per-step ones (`h`/`ids`, `cos`, `sin`, `bias`, `loraScale`): each layer's weights, adapter pairs and cache
 * (`<l>.kPast`, `<l>.vTPast`, Tp positions, copied), `norm`, `head` (and `headPacked`, its packed copy, where there is
 * one) and `embed` (absent: the float32 head's columns).
 * `bias` [B, Tp]: the cached positions' mask bias; `loraScale` [B]: the adapter's scale per row (null without one);
 * `capacity`: positions to make room for at first. The weights must outlive the session (they are borrowed).
 */
export function openNativeDecodeSession(inputs: Record<string, TensorInfo>, attrs: ModelStepAttrs, bias: Float32Array, loraScale: Float32Array | null, capacity: number): NativeDecodeSession {
  const { addon, reason } = loadAddon();
  if (!addon) throw new Error(reason);
  const backend = tf.findBackend(NATIVE_BACKEND) as NativeBackend | null;
  if (!backend) throw new Error('openNativeDecodeSession: the native backend is not registered');
  const bf16 = !!attrs.bf16;
  const s = stepShapes('openNativeDecodeSession', inputs, '0.', bf16);
  const layers = Array.from({ length: attrs.layers }, (_, l) => layerArrays(backend, inputs, `${l}.`, bf16, null, loraScale));
  const m = modelArrays(backend, inputs, attrs);
  const handle = addon.sessionOpen(layers, stepDims(inputs, '0.', s, attrs, backend.threads), m.norm, m.head, attrs.eps, attrs.headBf16, m.embed, bias, capacity, m.headPacked);
  return {
    step: (ids, cos, sin, logits) => addon.sessionStep(handle, ids, cos, sin, logits),
    keep: (kept, scale) => addon.sessionKeep(handle, kept, scale),
    close: () => addon.sessionClose(handle),
  };
}

import { util, type KernelConfig } from '@tensorflow/tfjs-core';
import type { NativeAddon } from './addon.js';
import { nativeKernel, valuesOf } from './kernel-util.js';
import { ROPE_ROWS_KERNEL, STEP_ATTENTION_KERNEL } from './name.js';

/** {@link ROPE_ROWS_KERNEL} and {@link STEP_ATTENTION_KERNEL} on the addon. */
export function attentionKernels(addon: NativeAddon): KernelConfig[] {
  return [
    nativeKernel(ROPE_ROWS_KERNEL, (args) => {
      const { x, cos, sin } = args.inputs;
      const [n, width] = x.shape;
      const half = cos.shape[1];
      util.assert(cos.shape[0] === n && sin.shape.join() === cos.shape.join() && half > 0 && width % (2 * half) === 0, () => `${ROPE_ROWS_KERNEL}: expected x [N, heads·2·half], cos and sin [N, half]: x [${x.shape}], cos [${cos.shape}], sin [${sin.shape}]`);
      const out = args.backend.alloc(n * width);
      addon.rope(valuesOf(args.backend, x), valuesOf(args.backend, cos), valuesOf(args.backend, sin), out, n, width / (2 * half), half);
      return args.backend.makeTensorInfo(x.shape, 'float32', out);
    }),
    nativeKernel(STEP_ATTENTION_KERNEL, (args) => {
      const { q, k, vT, bias } = args.inputs;
      const [B, H, hd] = q.shape;
      const [, kvH, T] = k.shape;
      util.assert(k.shape.join() === [B, kvH, T, hd].join() && vT.shape.join() === [B, kvH, hd, T].join() && bias.shape.join() === [B, T].join() && H % kvH === 0,
        () => `${STEP_ATTENTION_KERNEL}: expected q [B, H, hd], k [B, kvH, T, hd], vT [B, kvH, hd, T], bias [B, T]: q [${q.shape}], k [${k.shape}], vT [${vT.shape}], bias [${bias.shape}]`);
      const out = args.backend.alloc(B * H * hd);
      const b = args.backend;
      addon.stepAttention(valuesOf(b, q), valuesOf(b, k), valuesOf(b, vT), valuesOf(b, bias), out, B, kvH, H / kvH, T, hd, (args.attrs as { scale: number }).scale);
      return b.makeTensorInfo([B, H, hd], 'float32', out);
    }),
  ];
}

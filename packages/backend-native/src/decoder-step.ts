import { util, type KernelConfig, type TensorInfo } from '@tensorflow/tfjs-core';
import type { NativeAddon } from './addon.js';
import { bf16Bits, nativeKernel, valuesOf, type Args } from './kernel-util.js';
import { DECODER_PROJECTIONS, DECODER_STEP_KERNEL } from './name.js';

/** {@link DECODER_STEP_KERNEL} on the addon. */
export function decoderStepKernel(addon: NativeAddon): KernelConfig {
  return nativeKernel(DECODER_STEP_KERNEL, (args: Args) => {
    const { inputs, backend } = args;
    const { eps, scale, heads, bf16 } = args.attrs as { eps: number; scale: number; heads: number; bf16: number };
    const { h, kPast, vTPast } = inputs;
    const [B, H] = h.shape;
    const [, kvH, Tp, hd] = kPast.shape;
    const F = inputs.w_gate_proj.shape[1] * (bf16 ? 2 : 1);
    util.assert(h.shape.length === 2 && kPast.shape.length === 4 && kPast.shape[0] === B && vTPast.shape.join() === [B, kvH, hd, Tp].join(),
      () => `${DECODER_STEP_KERNEL}: expected h [B, H], kPast [B, kvH, Tp, hd], vTPast [B, kvH, hd, Tp]: h [${h.shape}], kPast [${kPast.shape}], vTPast [${vTPast.shape}]`);
    const f32 = (t: TensorInfo | undefined) => (t ? valuesOf(backend, t) : null);
    const weight = (t: TensorInfo) => (bf16 ? bf16Bits(backend, t) : valuesOf(backend, t));
    const hOut = backend.alloc(B * H);
    const kOut = backend.alloc(B * kvH * (Tp + 1) * hd);
    const vTOut = backend.alloc(B * kvH * hd * (Tp + 1));
    const arrays = [
      f32(h), f32(inputs.inNorm), f32(inputs.postNorm),
      ...DECODER_PROJECTIONS.map((p) => weight(inputs[`w_${p}`])),
      ...DECODER_PROJECTIONS.slice(0, 3).map((p) => f32(inputs[`bias_${p}`])),
      ...DECODER_PROJECTIONS.map((p) => f32(inputs[`loraA_${p}`])),
      ...DECODER_PROJECTIONS.map((p) => f32(inputs[`loraB_${p}`])),
      f32(inputs.loraScale), f32(inputs.cos), f32(inputs.sin), f32(kPast), f32(vTPast), f32(inputs.bias),
      hOut, kOut, vTOut,
    ];
    const ranks = DECODER_PROJECTIONS.map((p) => inputs[`loraA_${p}`]?.shape[1] ?? 0);
    addon.decoderStep(arrays, Float64Array.from([B, H, heads, kvH, hd, F, Tp, eps, scale, bf16 ? 1 : 0, backend.threads, ...ranks]));
    return [
      backend.makeTensorInfo([B, H], 'float32', hOut),
      backend.makeTensorInfo([B, kvH, Tp + 1, hd], 'float32', kOut),
      backend.makeTensorInfo([B, kvH, hd, Tp + 1], 'float32', vTOut),
    ];
  });
}

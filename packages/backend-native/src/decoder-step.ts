import { util, type KernelConfig, type TensorInfo } from '@tensorflow/tfjs-core';
import type { NativeAddon } from './addon.js';
import { bf16Bits, nativeKernel, valuesOf, type Args } from './kernel-util.js';
import { DECODER_PROJECTIONS, DECODER_STEP_KERNEL, MODEL_STEP_KERNEL, PACK_PANELS_KERNEL } from './name.js';
import type { NativeBackend } from './native-backend.js';

/** A step's per-call arrays: the layer's input and outputs (null for a decoding session, which owns them). */
type StepIo = { h: Float32Array; out: { h: Float32Array; k: Float32Array; vT: Float32Array } } | null;

/**
 * A layer's 43 arrays in the addon's order, its inputs named `prefix` + {@link DECODER_STEP_KERNEL}'s names; the
 * row scales `loraScale` given as an input or (a session) as host values.
 */
export function layerArrays(backend: NativeBackend, inputs: Record<string, TensorInfo>, prefix: string, bf16: boolean, io: StepIo, loraScale?: Float32Array | null): Array<Float32Array | Uint16Array | null> {
  const f32 = (t: TensorInfo | undefined) => (t ? valuesOf(backend, t) : null);
  const own = (name: string) => inputs[prefix + name];
  const weight = (t: TensorInfo) => (bf16 ? bf16Bits(backend, t) : valuesOf(backend, t));
  return [
    io?.h ?? null, f32(own('inNorm')), f32(own('postNorm')),
    ...DECODER_PROJECTIONS.map((p) => weight(own(`w_${p}`))),
    ...DECODER_PROJECTIONS.slice(0, 3).map((p) => f32(own(`bias_${p}`))),
    ...DECODER_PROJECTIONS.map((p) => f32(own(`loraA_${p}`))),
    ...DECODER_PROJECTIONS.map((p) => f32(own(`loraB_${p}`))),
    loraScale === undefined ? f32(inputs.loraScale) : loraScale, f32(inputs.cos), f32(inputs.sin), f32(own('kPast')), f32(own('vTPast')), f32(inputs.bias),
    io?.out.h ?? null, io?.out.k ?? null, io?.out.vT ?? null,
    ...DECODER_PROJECTIONS.map((p) => (own(`wp_${p}`) ? weight(own(`wp_${p}`)) : null)),
  ];
}

/**
 * The step's shapes, checked: h [B, H] (or the model step's ids [B], or neither for a session, with norm [H]), each
 * layer's kPast [B, kvH, Tp, hd] and vTPast [B, kvH, hd, Tp].
 */
export function stepShapes(kernel: string, inputs: Record<string, TensorInfo>, prefix: string, bf16: boolean) {
  const { h, ids } = inputs;
  const kPast = inputs[`${prefix}kPast`];
  const vTPast = inputs[`${prefix}vTPast`];
  const [B, kvH, Tp, hd] = kPast.shape;
  const H = h ? h.shape[1] : inputs.norm.shape[0];
  util.assert((h ? h.shape.length === 2 && h.shape[0] === B : !ids || ids.shape.join() === `${B}`) && kPast.shape.length === 4 && vTPast.shape.join() === [B, kvH, hd, Tp].join(),
    () => `${kernel}: expected h [B, H] or ids [B], kPast [B, kvH, Tp, hd], vTPast [B, kvH, hd, Tp]: h [${h?.shape ?? ids?.shape}], kPast [${kPast.shape}], vTPast [${vTPast.shape}]`);
  const F = inputs[`${prefix}w_gate_proj`].shape[1] * (bf16 ? 2 : 1);
  return { B, H, kvH, Tp, hd, F };
}

/** The addon's 18 dims of a layer step (LoRA ranks read from the `prefix`ed inputs). */
export function stepDims(inputs: Record<string, TensorInfo>, prefix: string, s: ReturnType<typeof stepShapes>, attrs: { eps: number; scale: number; heads: number; bf16: number }, threads: number): Float64Array {
  const ranks = DECODER_PROJECTIONS.map((p) => inputs[`${prefix}loraA_${p}`]?.shape[1] ?? 0);
  return Float64Array.from([s.B, s.H, attrs.heads, s.kvH, s.hd, s.F, s.Tp, attrs.eps, attrs.scale, attrs.bf16 ? 1 : 0, threads, ...ranks]);
}

/** {@link DECODER_STEP_KERNEL} on the addon. */
export function decoderStepKernel(addon: NativeAddon): KernelConfig {
  return nativeKernel(DECODER_STEP_KERNEL, (args: Args) => {
    const { inputs, backend } = args;
    const attrs = args.attrs as { eps: number; scale: number; heads: number; bf16: number };
    const s = stepShapes(DECODER_STEP_KERNEL, inputs, '', !!attrs.bf16);
    const out = { h: backend.alloc(s.B * s.H), k: backend.alloc(s.B * s.kvH * (s.Tp + 1) * s.hd), vT: backend.alloc(s.B * s.kvH * s.hd * (s.Tp + 1)) };
    addon.decoderStep(layerArrays(backend, inputs, '', !!attrs.bf16, { h: valuesOf(backend, inputs.h), out }), stepDims(inputs, '', s, attrs, backend.threads));
    return [
      backend.makeTensorInfo([s.B, s.H], 'float32', out.h),
      backend.makeTensorInfo([s.B, s.kvH, s.Tp + 1, s.hd], 'float32', out.k),
      backend.makeTensorInfo([s.B, s.kvH, s.hd, s.Tp + 1], 'float32', out.vT),
    ];
  });
}

/**
 * The model-wide arrays of {@link MODEL_STEP_KERNEL}'s inputs in the addon's types: the head (float32, or bf16 bits with
 * `headBf16`), its packed copy and the lookup table (null where absent), the final norm.
 */
export function modelArrays(backend: NativeBackend, inputs: Record<string, TensorInfo>, attrs: { headBf16: number }) {
  const weight = (t: TensorInfo) => (attrs.headBf16 ? bf16Bits(backend, t) : valuesOf(backend, t));
  return {
    head: weight(inputs.head),
    headPacked: inputs.headPacked ? weight(inputs.headPacked) : null,
    embed: inputs.embed ? valuesOf(backend, inputs.embed) : null,
    norm: valuesOf(backend, inputs.norm),
  };
}

/** {@link MODEL_STEP_KERNEL} on the addon. */
export function modelStepKernel(addon: NativeAddon): KernelConfig {
  return nativeKernel(MODEL_STEP_KERNEL, (args: Args) => {
    const { inputs, backend } = args;
    const attrs = args.attrs as { eps: number; scale: number; heads: number; bf16: number; layers: number; headBf16: number };
    const s = stepShapes(MODEL_STEP_KERNEL, inputs, '0.', !!attrs.bf16);
    const V = inputs.head.shape[1] * (attrs.headBf16 ? 2 : 1);
    // Hidden states between layers alternate between two buffers; the last layer's feeds the final norm.
    const between = [new Float32Array(s.B * s.H), new Float32Array(s.B * s.H)];
    const caches: Array<{ k: Float32Array; vT: Float32Array }> = [];
    // With ids, the addon writes the embedded tokens into layer 0's input.
    const h0 = inputs.ids ? new Float32Array(s.B * s.H) : valuesOf(backend, inputs.h);
    const layers = Array.from({ length: attrs.layers }, (_, l) => {
      const out = { h: between[l % 2], k: backend.alloc(s.B * s.kvH * (s.Tp + 1) * s.hd), vT: backend.alloc(s.B * s.kvH * s.hd * (s.Tp + 1)) };
      caches.push(out);
      return layerArrays(backend, inputs, `${l}.`, !!attrs.bf16, { h: l === 0 ? h0 : between[(l - 1) % 2], out });
    });
    const logits = backend.alloc(s.B * V);
    const ids = inputs.ids ? (backend.data.get(inputs.ids.dataId)!.values as Int32Array) : null;
    const m = modelArrays(backend, inputs, attrs);
    addon.modelStep(layers, stepDims(inputs, '0.', s, attrs, backend.threads), m.norm, m.head, logits, attrs.eps, attrs.headBf16 ? 1 : 0, ids, m.embed, m.headPacked);
    return [
      backend.makeTensorInfo([s.B, V], 'float32', logits),
      ...caches.flatMap((c) => [backend.makeTensorInfo([s.B, s.kvH, s.Tp + 1, s.hd], 'float32', c.k), backend.makeTensorInfo([s.B, s.kvH, s.hd, s.Tp + 1], 'float32', c.vT)]),
    ];
  });
}

/** {@link PACK_PANELS_KERNEL} on the addon. */
export function packPanelsKernel(addon: NativeAddon): KernelConfig {
  return nativeKernel(PACK_PANELS_KERNEL, ({ inputs, backend, attrs }: Args) => {
    const w = inputs.w;
    const bf16 = !!(attrs as { bf16?: number }).bf16;
    const [k, cols] = w.shape;
    const n = bf16 ? cols * 2 : cols;
    // float32 panels [ceil(n/16), k, 16]; bf16 panels pair rows, [ceil(n/16), ceil(k/2), 16, 2] (native/packed_gemm.h).
    const size = Math.ceil(n / 16) * (bf16 ? 2 * Math.ceil(k / 2) : k) * 16;
    if (bf16) {
      const out = backend.allocInt32(size / 2);
      addon.packPanels(bf16Bits(backend, w), new Uint16Array(out.buffer, out.byteOffset, size), k, n);
      return backend.makeTensorInfo([size / 2], 'int32', out);
    }
    const out = backend.alloc(size);
    addon.packPanels(valuesOf(backend, w), out, k, n);
    return backend.makeTensorInfo([size], 'float32', out);
  });
}

import { loadAddon } from '@cope/backend-native';

/** Conversions between half-precision encodings and float32, done on the host. */

/** IEEE 754 binary16 → float32, for `F16` safetensors. */
export function f16ToF32(src: Uint16Array): Float32Array {
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const h = src[i];
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) out[i] = sign * frac * 2 ** -24;
    else if (exp === 31) out[i] = frac ? NaN : sign * Infinity;
    else out[i] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return out;
}

/** bfloat16 → float32: bf16 is the top half of a float32. */
export function bf16ToF32(src: Uint16Array): Float32Array {
  const bits = new Uint32Array(src.length);
  for (let i = 0; i < src.length; i++) bits[i] = src[i] << 16;
  return new Float32Array(bits.buffer);
}

/** float32 → bfloat16 with round-to-nearest-even (as torch does); NaN stays NaN. */
export function f32ToBf16(src: Float32Array): Uint16Array {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  const out = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const b = bits[i];
    if ((b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff) !== 0) {
      out[i] = (b >>> 16) | 0x40;
      continue;
    }
    const rounding = 0x7fff + ((b >>> 16) & 1);
    out[i] = ((b + rounding) >>> 16) & 0xffff;
  }
  return out;
}

/**
 * A row-major [rows, cols] matrix of 16-bit values transposed to [cols, rows] on the native addon (bf16 weights
 * are kept on the native backend only; a 7B model's are 7.2G values).
 */
export function transposeU16(src: Uint16Array, rows: number, cols: number): Uint16Array {
  const { addon, reason } = loadAddon();
  if (!addon) throw new Error(`bf16 weights need the native backend: ${reason}`);
  const out = new Uint16Array(rows * cols);
  addon.transposeU16(src, out, rows, cols);
  return out;
}

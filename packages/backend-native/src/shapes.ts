/**
 * Shape arithmetic for the native kernels: broadcast strides and dimension coalescing, so a kernel's loops
 * run over as few, as long dimensions as the layout allows.
 */

/** Row-major element strides of `shape`. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d];
  }
  return s;
}

/** Strides of an input of `inShape` read over `outShape` (right-aligned; 0 along broadcast dims). */
export function broadcastStrides(inShape: readonly number[], outShape: readonly number[]): number[] {
  const own = stridesOf(inShape);
  const offset = outShape.length - inShape.length;
  return outShape.map((_, d) => {
    const i = d - offset;
    return i < 0 || inShape[i] === 1 ? 0 : own[i];
  });
}

/**
 * `shape` with its size-1 dims dropped and neighbours merged wherever every stride list allows it (the outer
 * stride equals the inner one times the inner size): the same elements in the same order, in fewer dims.
 */
export function coalesce(shape: readonly number[], strides: ReadonlyArray<readonly number[]>): { shape: number[]; strides: number[][] } {
  const keep = shape.map((n, d) => d).filter((d) => shape[d] !== 1);
  if (keep.length === 0) return { shape: [1], strides: strides.map(() => [0]) };
  const outShape = [shape[keep[0]]];
  const outStrides = strides.map((s) => [s[keep[0]]]);
  for (const d of keep.slice(1)) {
    const last = outShape.length - 1;
    const mergeable = strides.every((s, k) => outStrides[k][last] === s[d] * shape[d]);
    if (mergeable) {
      outShape[last] *= shape[d];
      strides.forEach((s, k) => (outStrides[k][last] = s[d]));
    } else {
      outShape.push(shape[d]);
      strides.forEach((s, k) => outStrides[k].push(s[d]));
    }
  }
  return { shape: outShape, strides: outStrides };
}

import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { BackendValues, DataId, DataType } from '@tensorflow/tfjs-core';

/** Outputs this small come from malloc's own pools already; recycling pays off for larger ones. */
const MIN_POOLED_FLOATS = 4 * 1024;
/** The most memory kept for reuse, over all sizes; past it the sizes released longest ago are dropped first. */
const MAX_POOLED_BYTES = 1024 ** 3;

/**
 * tfjs-backend-cpu's backend with recycled output memory. A fresh multi-megabyte array costs its page faults on
 * first touch (more than the arithmetic of most elementwise kernels), so the
 * float32 arrays the native kernels allocate return to a pool when their tensor is disposed and serve the next
 * output of the same length. An array is recycled only when no stored tensor still holds its buffer (a slice
 * may be a view of it) and it was never handed out by `readSync` / `read` (the caller may keep it).
 */
export class NativeBackend extends MathBackendCPU {
  private readonly holders = new Map<ArrayBufferLike, number>();
  private readonly recyclable = new WeakSet<ArrayBufferLike>();
  private readonly pool = new Map<number, Float32Array[]>();
  private pooledBytes = 0;

  /** @param threads threads for the products (the addon's OpenMP helpers; one backend per worker thread, each its own count). */
  constructor(public threads = 1) {
    super();
    // Its first write would advise installing tfjs-node: this backend is the native one.
    (this as unknown as { firstUse: boolean }).firstUse = false;
  }

  /**
   * A float32 array of `n` elements for a kernel's output: recycled (contents undefined) or new. Pooled arrays come
   * in size classes (a view of the first `n` elements of a class's buffer), so outputs that grow a little every call
   * (a decoding step's KV cache) reuse the memory the previous call's released.
   */
  alloc(n: number): Float32Array {
    const size = sizeClass(n);
    const reused = this.pool.get(size)?.pop();
    if (reused) {
      this.pooledBytes -= reused.byteLength;
      this.recyclable.add(reused.buffer);
      return size === n ? reused : reused.subarray(0, n);
    }
    const fresh = new Float32Array(size);
    if (n >= MIN_POOLED_FLOATS) this.recyclable.add(fresh.buffer);
    return size === n ? fresh : fresh.subarray(0, n);
  }

  override write(values: BackendValues, shape: number[], dtype: DataType): DataId {
    this.hold(values);
    return super.write(values, shape, dtype);
  }

  override move(dataId: DataId, values: BackendValues, shape: number[], dtype: DataType, refCount: number): void {
    this.hold(values);
    super.move(dataId, values, shape, dtype, refCount);
  }

  override readSync(dataId: DataId): BackendValues {
    const values = super.readSync(dataId);
    if (ArrayBuffer.isView(values)) this.recyclable.delete(values.buffer);
    return values;
  }

  override disposeData(dataId: DataId, force = false): boolean {
    const values = this.data.has(dataId) ? this.data.get(dataId)!.values : undefined;
    const disposed = super.disposeData(dataId, force);
    if (disposed && values && (values instanceof Float32Array || values instanceof Int32Array)) this.release(values);
    return disposed;
  }

  private hold(values: BackendValues): void {
    if (ArrayBuffer.isView(values)) this.holders.set(values.buffer, (this.holders.get(values.buffer) ?? 0) + 1);
  }

  /** An int32 array of `n` elements for a kernel's output, over recycled memory when there is some. */
  allocInt32(n: number): Int32Array {
    const a = this.alloc(n);
    return new Int32Array(a.buffer, a.byteOffset, n);
  }

  private release(values: Float32Array | Int32Array): void {
    const left = (this.holders.get(values.buffer) ?? 1) - 1;
    if (left > 0) {
      this.holders.set(values.buffer, left);
      return;
    }
    this.holders.delete(values.buffer);
    // Only buffers this pool handed out (whole, or the view alloc made of a size class) come back to it.
    const bytes = values.buffer.byteLength;
    if (values.byteOffset !== 0 || bytes % 4 !== 0 || !this.recyclable.has(values.buffer) || bytes > MAX_POOLED_BYTES) return;
    this.recyclable.delete(values.buffer);
    const floats = bytes / 4;
    // Most recently released sizes last: eviction takes from the front.
    let list = this.pool.get(floats);
    if (list) this.pool.delete(floats);
    else list = [];
    this.pool.set(floats, list);
    list.push(new Float32Array(values.buffer));
    this.pooledBytes += bytes;
    for (const [size, stale] of this.pool) {
      if (this.pooledBytes <= MAX_POOLED_BYTES) break;
      while (stale.length && this.pooledBytes > MAX_POOLED_BYTES) this.pooledBytes -= stale.shift()!.byteLength;
      if (!stale.length) this.pool.delete(size);
    }
  }
}

/** The pooled size of `n` floats: below the pooling threshold `n` itself, else `n` rounded up to a quarter octave (at most 25% more). */
function sizeClass(n: number): number {
  if (n < MIN_POOLED_FLOATS) return n;
  const step = 2 ** (Math.floor(Math.log2(n)) - 2);
  return Math.ceil(n / step) * step;
}

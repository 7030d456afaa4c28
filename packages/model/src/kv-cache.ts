import { tf } from './tf.js';
import type { Tensor4D } from './tf.js';

/** Keys and values of one layer, laid out so a decoding step reduces over the last axis. */
export interface LayerCache {
  /** [batch, kvHeads, pastLen, headDim] */
  k: Tensor4D;
  /** [batch, kvHeads, headDim, pastLen] */
  vT: Tensor4D;
}

/**
 * The KV cache of a batch: per-layer tensors plus the attention mask over the cached positions
 * (kept on the host: positions and masks are computed there). Owned by the caller: dispose it with
 * {@link disposeCache} once the next step's cache replaces it.
 */
export interface KvCache {
  layers: LayerCache[];
  /** [batch][pastLen], 1 for a real token, 0 for padding. */
  mask: number[][];
}

/** Number of cached positions. */
export function cacheLength(cache: KvCache | undefined): number {
  return cache ? cache.mask[0]?.length ?? 0 : 0;
}

/** Frees a cache's tensors. */
export function disposeCache(cache: KvCache | undefined): void {
  if (!cache) return;
  for (const l of cache.layers) {
    l.k.dispose();
    l.vT.dispose();
  }
}

/**
 * Keeps only the given batch rows (e.g. finished sequences dropped), returning a new cache. A run of
 * consecutive rows is one slice per tensor (a block copy); other selections gather.
 */
export function selectCacheRows(cache: KvCache, rows: number[]): KvCache {
  const mask = rows.map((r) => cache.mask[r].slice());
  if (rows.length > 0 && rows.every((r, j) => r === rows[0] + j)) {
    const block = <T extends Tensor4D>(t: T) => tf.slice(t, [rows[0], 0, 0, 0], [rows.length, -1, -1, -1]) as T;
    return { layers: cache.layers.map((l) => ({ k: block(l.k), vT: block(l.vT) })), mask };
  }
  const idx = tf.tensor1d(rows, 'int32');
  const layers = cache.layers.map((l) => ({ k: tf.gather(l.k, idx) as Tensor4D, vT: tf.gather(l.vT, idx) as Tensor4D }));
  idx.dispose();
  return { layers, mask };
}

/** The rows of `a` followed by the rows of `b` (same model, same cached length), as a new cache. */
export function concatCacheRows(a: KvCache, b: KvCache): KvCache {
  if (a.layers.length !== b.layers.length || cacheLength(a) !== cacheLength(b)) {
    throw new Error(`concatCacheRows: caches of ${a.layers.length} and ${b.layers.length} layers, ${cacheLength(a)} and ${cacheLength(b)} positions`);
  }
  return {
    layers: a.layers.map((l, i) => ({ k: tf.concat([l.k, b.layers[i].k], 0) as Tensor4D, vT: tf.concat([l.vT, b.layers[i].vT], 0) as Tensor4D })),
    mask: [...a.mask, ...b.mask].map((m) => m.slice()),
  };
}

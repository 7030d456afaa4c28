import { disposeCache, type CausalLM, type KvCache } from '@cope/model';

/** What a model without an adapter read of one prompt batch: its KV cache and last-position logits. */
export interface PromptEntry {
  /** n rows, one per prompt of the batch (left-padded as `generate` pads them). */
  readonly cache: KvCache;
  /** Last-position logits of each row, [vocab] each. */
  readonly logits: readonly Float32Array[];
  readonly bytes: number;
}

interface Slot extends PromptEntry {
  /** generate calls using the entry's tensors now: a pinned entry is never evicted. */
  pins: number;
  /** Where the slot is filed: its model's entries, under `key`. */
  readonly owner: Map<string, Slot>;
  readonly key: string;
}

/**
 * Prompts already read by a model *without an adapter* — CoPe's TAM model, which is both the TAM baseline's
 * decoder and contrastive decoding's amateur — kept so later `generate` calls on the same model and prompt
 * batch skip that model's prompt forward. In CoPe's pipeline the TAM baseline, OPPU + CD, CoPe and every
 * sampling run decode the same queries: with one cache per user, the amateur reads each prompt once, and a
 * contrastive call then reads its prompt with the expert rows only.
 *
 * Entries are the exact tensors and logits the bare model computed, so results are bitwise the same with or
 * without the cache (tested). They assume the model's weights do not change while cached: call
 * {@link PromptCache.clear} if they do. Least recently used entries are dropped beyond `maxBytes`.
 */
export class PromptCache {
  readonly maxBytes: number;
  /** Lookups that found the prompt batch / did not. */
  readonly stats = { hits: 0, misses: 0 };

  private readonly byModel = new WeakMap<CausalLM, Map<string, Slot>>();
  /** All slots in least-recently-used order (oldest first), for eviction across models. */
  private readonly lru = new Set<Slot>();
  private held = 0;

  /** @param opts.maxBytes total size of the kept caches and logits (default 256 MiB). */
  constructor(opts: { maxBytes?: number } = {}) {
    const max = opts.maxBytes ?? 256 * 1024 * 1024;
    if (!(max >= 0)) throw new Error(`PromptCache: maxBytes must be >= 0, got ${opts.maxBytes}`);
    this.maxBytes = max;
  }

  /** Bytes held by the kept entries. */
  get bytes(): number {
    return this.held;
  }

  /** Number of kept entries. */
  get size(): number {
    return this.lru.size;
  }

  /**
   * The entry for `key` on `model`, pinned until {@link release}d (for `generate`).
   * @internal
   */
  acquire(model: CausalLM, key: string): PromptEntry | undefined {
    const slot = this.byModel.get(model)?.get(key);
    if (!slot) {
      this.stats.misses++;
      return undefined;
    }
    this.stats.hits++;
    slot.pins++;
    this.lru.delete(slot);
    this.lru.add(slot);
    return slot;
  }

  /**
   * Takes ownership of `cache` (n rows) and `logits` as the entry for `key` on `model`, pinned until
   * {@link release}d; returns the entry, or undefined (nothing taken) when it alone exceeds the budget.
   * @internal
   */
  store(model: CausalLM, key: string, cache: KvCache, logits: Float32Array[]): PromptEntry | undefined {
    let bytes = logits.reduce((s, l) => s + l.byteLength, 0);
    for (const l of cache.layers) bytes += (l.k.size + l.vT.size) * 4;
    if (bytes > this.maxBytes) return undefined;
    let entries = this.byModel.get(model);
    if (!entries) this.byModel.set(model, (entries = new Map()));
    const old = entries.get(key);
    if (old) this.drop(old);
    const slot: Slot = { cache, logits, bytes, pins: 1, owner: entries, key };
    entries.set(key, slot);
    this.lru.add(slot);
    this.held += bytes;
    this.evict();
    return slot;
  }

  /** Unpins an entry returned by {@link acquire} or {@link store}. @internal */
  release(entry: PromptEntry): void {
    const slot = entry as Slot;
    if (slot.pins > 0) slot.pins--;
    if (!this.lru.has(slot) && slot.pins === 0) disposeCache(slot.cache);
    else this.evict();
  }

  /** Drops every entry (an entry in use by a running `generate` is freed when that call ends). */
  clear(): void {
    for (const slot of [...this.lru]) this.drop(slot);
  }

  /** Frees all tensors; same as {@link clear}. */
  dispose(): void {
    this.clear();
  }

  private evict(): void {
    for (const slot of [...this.lru]) {
      if (this.held <= this.maxBytes) return;
      if (slot.pins === 0) this.drop(slot);
    }
  }

  private drop(slot: Slot): void {
    slot.owner.delete(slot.key);
    this.lru.delete(slot);
    this.held -= slot.bytes;
    // A pinned slot's tensors are still in use: release frees them.
    if (slot.pins === 0) disposeCache(slot.cache);
  }
}

/** The key of a prompt batch: the prompts (before padding) and the padding id decide the padded rows and masks. */
export function promptBatchKey(prompts: readonly number[][], padTokenId: number): string {
  return `${padTokenId}#${prompts.map((p) => p.join(',')).join('|')}`;
}

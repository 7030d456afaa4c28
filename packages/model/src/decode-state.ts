import type { AdapterChoice } from './lora-linear.js';
import { cacheLength, disposeCache, selectCacheRows, type KvCache } from './kv-cache.js';
import { loraScale, type LoraAdapter } from './lora-types.js';
import type { DecodeSession } from './ops/ops.js';
import { opsFor } from './ops/select.js';
import { keyBias } from './query-bias.js';
import { ropeTablesFor } from './rope.js';
import { checkTokenId, forward } from './transformer.js';
import type { CausalLM } from './weights.js';

export interface DecodeStateOptions {
  /** The rows' adapters, as {@link forward} takes them (one for all, or one per row). */
  adapters?: AdapterChoice;
  /** Dispose `cache` once the state no longer needs it (default: the caller keeps and disposes it). */
  ownsCache?: boolean;
  /** Steps expected: room is made for them up front (more still work). */
  maxSteps?: number;
}

/**
 * Decoding steps over a batch's KV cache, one new token a row each: logits bitwise those of {@link forward} with the
 * cache, `lastOnly` and the same adapters (the prompt already read). Where the backend keeps a cache itself
 * ({@link Ops.openDecodeSession}: the native backend, one adapter at most) a step is one native call appending in
 * place; elsewhere each step is a forward pass.
 */
export interface DecodeState {
  /** Rows of the batch. */
  readonly rows: number;
  /**
   * Feeds each row's next token `ids` [rows]; resolves to the logits [rows, vocab] of the new position. The array is
   * the state's own and is overwritten by the next step: read or copy it before.
   */
  step(ids: readonly number[]): Promise<Float32Array>;
  /** Keeps the rows `rows` (increasing indices), in that order: finished sequences leave the batch. */
  keepRows(rows: readonly number[]): void;
  dispose(): void;
}

/** A decoding state over `cache` (its rows, mask and positions) for `model`. */
export function openDecodeState(model: CausalLM, cache: KvCache, opts: DecodeStateOptions = {}): DecodeState {
  const rows = cache.mask.length;
  const perRow = adaptersPerRow(opts.adapters, rows);
  const distinct = [...new Set(perRow.filter((a): a is LoraAdapter => a !== null))];
  const ops = opsFor();
  if (ops.openDecodeSession && distinct.length <= 1) {
    const adapter = distinct[0] ?? null;
    const session = ops.openDecodeSession({
      weights: model.weights, c: model.config, adapter, loraScale: scalesOf(perRow, adapter), past: cache.layers,
      keyBias: keyBias(cache.mask), capacity: cacheLength(cache) + (opts.maxSteps ?? 0),
    });
    if (session) {
      if (opts.ownsCache) disposeCache(cache);
      return new SessionState(model, session, perRow, adapter, cache.mask);
    }
  }
  return new ForwardState(model, cache, perRow, !!opts.ownsCache);
}

function adaptersPerRow(choice: AdapterChoice, rows: number): Array<LoraAdapter | null> {
  if (Array.isArray(choice)) {
    if (choice.length !== rows) throw new Error(`openDecodeState: ${choice.length} per-row adapters for a cache of ${rows} rows`);
    return [...(choice as ReadonlyArray<LoraAdapter | null>)];
  }
  return new Array<LoraAdapter | null>(rows).fill((choice as LoraAdapter | null | undefined) ?? null);
}

/** The adapter's scale on each row using it, 0 on the others (as forward's row scales); null without an adapter. */
function scalesOf(perRow: ReadonlyArray<LoraAdapter | null>, adapter: LoraAdapter | null): Float32Array | null {
  return adapter ? Float32Array.from(perRow, (a) => (a ? loraScale(a.config) : 0)) : null;
}

function checkStepIds(ids: readonly number[], rows: number, vocabSize: number): void {
  if (ids.length !== rows) throw new Error(`DecodeState.step: ${ids.length} ids for ${rows} rows`);
  for (const id of ids) checkTokenId(id, vocabSize, 'DecodeState.step');
}

function checkKept(kept: readonly number[], rows: number): void {
  kept.forEach((r, i) => {
    if (!Number.isInteger(r) || r < 0 || r >= rows || (i > 0 && r <= kept[i - 1])) throw new Error(`DecodeState.keepRows: expected increasing row indices below ${rows}, got [${kept}]`);
  });
}

/** Steps on a backend's decoding session: the rotary angles of each row's next position, one call. */
class SessionState implements DecodeState {
  private readonly logits: Float32Array;
  /** Each row's next rotary position: its tokens so far (padding does not count, as in forward). */
  private positions: number[];
  private closed = false;
  /** A step's inputs, kept for the session (no arrays made and handed to the addon anew each step). */
  private readonly ids: Int32Array;
  private readonly angles: [Float32Array, Float32Array];

  constructor(private readonly model: CausalLM, private readonly session: DecodeSession, private perRow: Array<LoraAdapter | null>, private readonly adapter: LoraAdapter | null, mask: number[][]) {
    this.positions = mask.map((row) => row.reduce((n, m) => n + (m ? 1 : 0), 0));
    this.logits = new Float32Array(mask.length * model.config.vocabSize);
    this.ids = new Int32Array(mask.length);
    const half = model.config.headDim / 2;
    this.angles = [new Float32Array(mask.length * half), new Float32Array(mask.length * half)];
  }

  get rows(): number {
    return this.positions.length;
  }

  async step(ids: readonly number[]): Promise<Float32Array> {
    const { vocabSize, headDim } = this.model.config;
    const rows = this.rows;
    checkStepIds(ids, rows, vocabSize);
    if (rows === 0) return new Float32Array(0);
    const n = (rows * headDim) / 2;
    const [cos, sin] = ropeTablesFor(this.model.config).lookup(this.positions, [this.angles[0].subarray(0, n), this.angles[1].subarray(0, n)]);
    const logits = this.logits.subarray(0, rows * vocabSize);
    const stepIds = this.ids.subarray(0, rows);
    stepIds.set(ids);
    this.session.step(stepIds, cos, sin, logits);
    this.positions = this.positions.map((p) => p + 1);
    return logits;
  }

  keepRows(kept: readonly number[]): void {
    checkKept(kept, this.rows);
    this.perRow = kept.map((r) => this.perRow[r]);
    this.positions = kept.map((r) => this.positions[r]);
    if (kept.length) this.session.keep(Int32Array.from(kept), scalesOf(this.perRow, this.adapter));
    else this.dispose();
  }

  dispose(): void {
    if (!this.closed) this.session.close();
    this.closed = true;
  }
}

/** Steps as forward passes over a cache of tensors (every backend). */
class ForwardState implements DecodeState {
  constructor(private readonly model: CausalLM, private cache: KvCache | undefined, private perRow: Array<LoraAdapter | null>, private owned: boolean) {}

  get rows(): number {
    return this.perRow.length;
  }

  async step(ids: readonly number[]): Promise<Float32Array> {
    checkStepIds(ids, this.rows, this.model.config.vocabSize);
    if (this.rows === 0) return new Float32Array(0);
    const out = forward(this.model, ids.map((id) => [id]), { cache: this.cache, useCache: true, lastOnly: true, adapters: this.perRow });
    this.replace(out.cache!);
    const flat = (await out.logits.data()) as Float32Array;
    out.logits.dispose();
    return flat;
  }

  keepRows(kept: readonly number[]): void {
    checkKept(kept, this.rows);
    this.perRow = kept.map((r) => this.perRow[r]);
    this.replace(kept.length && this.cache ? selectCacheRows(this.cache, [...kept]) : undefined);
  }

  dispose(): void {
    this.replace(undefined);
  }

  /** The state's cache becomes `next` (its own), the previous one disposed when it was. */
  private replace(next: KvCache | undefined): void {
    if (this.owned) disposeCache(this.cache);
    this.cache = next;
    this.owned = true;
  }
}

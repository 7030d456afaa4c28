import { concatCacheRows, disposeCache, forward, openDecodeState, selectCacheRows, type CausalLM, type DecodeState, type KvCache, type LoraAdapter } from '@cope/model';
import { promptBatchKey, type PromptCache, type PromptEntry } from './prompt-cache.js';
import type { Decoder } from './strategies.js';

type Role = 'expert' | 'amateur';

/**
 * One model's rows: `adapters` holds each role block's adapter; `cache`, the prompt's cache until the steps' decoding
 * `state` takes it over; `borrowed`, a cache the prompt cache owns.
 */
interface Runner {
  model: CausalLM;
  adapters: Array<LoraAdapter | null>;
  cache?: KvCache;
  borrowed?: KvCache;
  state?: DecodeState;
}

/**
 * The model rows of a batched generation and their KV caches: the prompt read (left-padded; a prompt repeated
 * within the batch read once; a {@link PromptCache}'s bare-model rows reused), then one decoding step per model per
 * step over the active sequences' last tokens ({@link openDecodeState}: a native call, or a forward with one host read).
 *
 * Row layout is role-major: with one runner (one model, per-row adapters), role r of active sequence k is row
 * r·n + k (n active sequences), so each role's rows are one block; with a separate amateur model, one runner
 * per role, row k.
 */
export class GenerationRows {
  /** True when the amateur rows run on a model of their own. */
  readonly separate: boolean;
  private readonly runners: Runner[];
  private readonly padded: number[][];
  private readonly mask: number[][];
  private readonly promptKey: string;
  private readonly pinned: PromptEntry[] = [];
  private readonly promptCache?: PromptCache;
  private readonly maxSteps?: number;

  constructor(
    model: CausalLM,
    private readonly prompts: number[][],
    private readonly decoder: Decoder,
    opts: { adapter?: LoraAdapter | null; amateurModel?: CausalLM; padTokenId: number; promptCache?: PromptCache; maxNewTokens?: number },
  ) {
    this.maxSteps = opts.maxNewTokens;
    this.promptCache = opts.promptCache;
    this.separate = !!opts.amateurModel && decoder.rows.includes('amateur');
    const maxLen = Math.max(...prompts.map((p) => p.length));
    // Left padding: positions come from the mask, so a padded prompt decodes as it would alone.
    this.padded = prompts.map((p) => new Array(maxLen - p.length).fill(opts.padTokenId).concat(p));
    this.mask = prompts.map((p) => new Array(maxLen - p.length).fill(0).concat(new Array(p.length).fill(1)));
    const adapterOf = (role: Role): LoraAdapter | null => (role === 'expert' ? opts.adapter ?? null : null);
    this.runners = this.separate
      ? decoder.rows.map((role) => ({ model: role === 'amateur' ? opts.amateurModel! : model, adapters: [adapterOf(role)] }))
      : [{ model, adapters: decoder.rows.map(adapterOf) }];
    this.promptKey = this.promptCache ? promptBatchKey(prompts, opts.padTokenId) : '';
  }

  /**
   * The logits rows of each active sequence for this step, in the decoder's row order: the prompt at step 0,
   * else the last token of each history.
   */
  async step(step: number, active: number[], histories: number[][]): Promise<Float32Array[][]> {
    const hostRows: Float32Array[][] = [];
    for (const run of this.runners) {
      if (step === 0) {
        hostRows.push(await this.readPrompt(run, active));
        continue;
      }
      run.state ??= this.openState(run, active.length);
      const ids = run.adapters.flatMap(() => active.map((i) => histories[i][histories[i].length - 1]));
      hostRows.push(rowsOf(await run.state.step(ids), ids.length, run.model.config.vocabSize));
    }
    const n = active.length;
    return active.map((_, k) => (this.separate ? hostRows.map((h) => h[k]) : this.decoder.rows.map((_r, r) => hostRows[0][r * n + k])));
  }

  /** Drops the cache rows of the active sequences marked finished (they leave the batch, not padded along). */
  drop(active: number[], finished: boolean[]): void {
    const n = active.length;
    for (const run of this.runners) {
      const keep = run.adapters.flatMap((_, r) => active.flatMap((_, k) => (finished[k] ? [] : [r * n + k])));
      if (run.state) {
        run.state.keepRows(keep);
        continue;
      }
      const old = run.cache;
      run.cache = keep.length ? selectCacheRows(old!, keep) : undefined;
      this.retire(run, old);
    }
  }

  /** Frees the caches this call owns and releases the prompt cache's entries. */
  dispose(): void {
    for (const run of this.runners) {
      run.state?.dispose();
      this.retire(run, run.cache);
    }
    for (const entry of this.pinned) this.promptCache!.release(entry);
  }

  /** The steps' decoding state of a runner, taking over its prompt cache (disposed by the state unless borrowed). */
  private openState(run: Runner, n: number): DecodeState {
    const cache = run.cache!;
    const state = openDecodeState(run.model, cache, { adapters: run.adapters.flatMap((a) => new Array<LoraAdapter | null>(n).fill(a)), ownsCache: cache !== run.borrowed, maxSteps: this.maxSteps });
    run.cache = undefined;
    return state;
  }

  private retire(run: Runner, cache: KvCache | undefined): void {
    if (cache !== run.borrowed) disposeCache(cache);
  }

  /**
   * Reads the prompts of `seqs` with one block of rows per adapter in `roleAdapters` (role-major). A prompt
   * repeated within the batch (several samples of one prompt) is read once and its rows copied.
   */
  private async readPromptRows(m: CausalLM, seqs: number[], roleAdapters: Array<LoraAdapter | null>) {
    const firstOf = new Map<string, number>();
    const unique: number[] = [];
    const slot = seqs.map((i) => {
      const key = this.prompts[i].join(',');
      let u = firstOf.get(key);
      if (u === undefined) firstOf.set(key, (u = unique.push(i) - 1));
      return u;
    });
    const r = await forwardBlocks(m, roleAdapters, unique, (i) => this.padded[i], (i) => this.mask[i]);
    if (unique.length === seqs.length) return r;
    const pick = roleAdapters.flatMap((_, role) => slot.map((u) => role * unique.length + u));
    const cache = selectCacheRows(r.cache, pick);
    disposeCache(r.cache);
    return { cache, rows: pick.map((j) => r.rows[j]) };
  }

  /**
   * The prompt step of one runner. With a prompt cache, rows of the bare model come from it when it has this
   * prompt batch (an expert + amateur runner then reads the prompt with its expert rows only) and are recorded
   * in it otherwise; other runner shapes read the prompt as usual.
   */
  private async readPrompt(run: Runner, seqs: number[]): Promise<Float32Array[]> {
    const n = seqs.length;
    const adapters = run.adapters;
    const bareOnly = adapters.length === 1 && adapters[0] === null;
    const expertThenBare = adapters.length === 2 && adapters[0] !== null && adapters[1] === null;
    const promptCache = this.promptCache;
    if (!promptCache || !(bareOnly || expertThenBare)) {
      const r = await this.readPromptRows(run.model, seqs, adapters);
      run.cache = r.cache;
      return r.rows;
    }
    const hit = promptCache.acquire(run.model, this.promptKey);
    if (hit) this.pinned.push(hit);
    if (hit && bareOnly) {
      run.cache = run.borrowed = hit.cache;
      return [...hit.logits];
    }
    if (hit) {
      const e = await this.readPromptRows(run.model, seqs, [adapters[0]]);
      run.cache = concatCacheRows(e.cache, hit.cache);
      disposeCache(e.cache);
      return [...e.rows, ...hit.logits];
    }
    const r = await this.readPromptRows(run.model, seqs, adapters);
    run.cache = r.cache;
    // Record the bare rows: the whole cache, or a copy of the amateur block (rows n .. 2n).
    const bare = bareOnly ? r.cache : selectCacheRows(r.cache, Array.from({ length: n }, (_, k) => n + k));
    const kept = promptCache.store(run.model, this.promptKey, bare, r.rows.slice(bareOnly ? 0 : n).map((x) => x.slice()));
    if (kept) this.pinned.push(kept);
    if (kept && bareOnly) run.borrowed = r.cache;
    if (!kept && !bareOnly) disposeCache(bare);
    return r.rows;
  }
}

/**
 * One forward (one host read) over one block of rows per adapter in `roleAdapters`, each block the sequences
 * `seqs`: the extended cache and each row's last-position logits.
 */
async function forwardBlocks(m: CausalLM, roleAdapters: Array<LoraAdapter | null>, seqs: number[], idsOf: (i: number) => number[], maskOf: (i: number) => number[]) {
  const per = <T>(f: (i: number) => T) => roleAdapters.flatMap(() => seqs.map(f));
  const ids = per(idsOf);
  const adapters = roleAdapters.flatMap((a) => seqs.map(() => a));
  const out = forward(m, ids, { attentionMask: per(maskOf), useCache: true, lastOnly: true, adapters });
  const flat = (await out.logits.data()) as Float32Array;
  out.logits.dispose();
  return { cache: out.cache!, rows: rowsOf(flat, ids.length, m.config.vocabSize) };
}

/** The rows of a flat [rows, V] array, as views. */
function rowsOf(flat: Float32Array, rows: number, V: number): Float32Array[] {
  return Array.from({ length: rows }, (_, r) => flat.subarray(r * V, (r + 1) * V));
}

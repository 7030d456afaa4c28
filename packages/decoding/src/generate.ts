import { Rng } from '@cope/core';
import { concatCacheRows, disposeCache, forward, selectCacheRows, type CausalLM, type KvCache, type LoraAdapter } from '@cope/model';
import { promptBatchKey, type PromptCache, type PromptEntry } from './prompt-cache.js';
import { plainDecoder, type Decoder } from './strategies.js';

export interface GenerateOptions {
  maxNewTokens: number;
  /** Generation stops for a sequence at any of these ids (the id is kept in `ids`). */
  eosTokenIds?: number[];
  /** Strategy; greedy by default. */
  decoder?: Decoder;
  /** The user's adapter, used by `expert` rows; null runs the bare model there. */
  adapter?: LoraAdapter | null;
  /**
   * A separate amateur model for contrastive decoding (same tokenizer). Without it, amateur rows run
   * on `model` with no adapter, batched with the expert rows in one forward.
   */
  amateurModel?: CausalLM;
  /** Seeded randomness for sampling. */
  rng?: Rng;
  /** Padding id for left-padding prompts of different lengths. */
  padTokenId?: number;
  /** Called once per generated token (streaming). */
  onToken?: (sequence: number, token: number, step: number) => void;
  /** Turns ids into text for the result (e.g. a tokenizer's decode). */
  decode?: (ids: number[]) => string;
  /**
   * Prompt batches already read by a model without an adapter (the bare / TAM model, contrastive decoding's
   * amateur): reused instead of read again, and recorded when read here. Results are bitwise the same.
   */
  promptCache?: PromptCache;
}

export interface GenerationResult {
  /** New tokens only, including the stopping EOS if one was produced. */
  ids: number[];
  /** Log-probability of each new token under the strategy's final distribution. */
  logProbs: number[];
  text?: string;
  finishReason: 'eos' | 'length';
}

/**
 * Batched autoregressive generation with a KV cache. Each prompt becomes `decoder.rows.length` rows of
 * one left-padded batch (contrastive: expert and amateur side by side, with per-row adapters); each step
 * runs one forward over the last tokens and reads all rows' logits from the device once.
 */
export async function generate(model: CausalLM, prompts: number[][], opts: GenerateOptions): Promise<GenerationResult[]> {
  const decoder = opts.decoder ?? plainDecoder();
  const rng = opts.rng ?? new Rng(0);
  const eos = new Set(opts.eosTokenIds ?? model.config.eosTokenIds);
  const pad = opts.padTokenId ?? model.config.padTokenId ?? 0;
  if (prompts.length === 0) return [];
  if (prompts.some((p) => p.length === 0)) throw new Error('generate: every prompt needs at least one token');
  const separate = opts.amateurModel && decoder.rows.includes('amateur');
  const maxLen = Math.max(...prompts.map((p) => p.length));
  // Left padding: positions come from the mask, so a padded prompt decodes as it would alone.
  const padded = prompts.map((p) => new Array(maxLen - p.length).fill(pad).concat(p));
  const mask = prompts.map((p) => new Array(maxLen - p.length).fill(0).concat(new Array(p.length).fill(1)));

  // Row layout: role-major. With one runner (one model, per-row adapters) role r of active sequence k is row
  // r·n + k (n active sequences), so each role's rows are one block; with a separate amateur model, one
  // runner per role, row k. `adapters` holds each role's adapter: the user's for expert rows, none for amateurs.
  type Role = 'expert' | 'amateur';
  /** `borrowed`: a cache owned by the prompt cache, which this call reads but must not free. */
  type Runner = { model: CausalLM; adapters: Array<LoraAdapter | null>; cache?: KvCache; borrowed?: KvCache };
  const adapterOf = (role: Role): LoraAdapter | null => (role === 'expert' ? opts.adapter ?? null : null);
  const runners: Runner[] = separate
    ? decoder.rows.map((role) => ({ model: role === 'amateur' ? opts.amateurModel! : model, adapters: [adapterOf(role)] }))
    : [{ model, adapters: decoder.rows.map(adapterOf) }];
  const retire = (run: Runner, cache: KvCache | undefined) => {
    if (cache !== run.borrowed) disposeCache(cache);
  };

  /**
   * One forward (one host read) over one block of rows per adapter in `roleAdapters`, each block the
   * sequences `seqs`: the extended cache and each row's last-position logits.
   */
  const forwardBlocks = async (m: CausalLM, roleAdapters: Array<LoraAdapter | null>, seqs: number[], idsOf: (i: number) => number[], maskOf: (i: number) => number[], cache?: KvCache) => {
    const per = <T>(f: (i: number) => T) => roleAdapters.flatMap(() => seqs.map(f));
    const ids = per(idsOf);
    const adapters = roleAdapters.flatMap((a) => seqs.map(() => a));
    const out = forward(m, ids, { attentionMask: per(maskOf), cache, useCache: true, lastOnly: true, adapters });
    const flat = (await out.logits.data()) as Float32Array;
    out.logits.dispose();
    const V = m.config.vocabSize;
    return { cache: out.cache!, rows: ids.map((_, r) => flat.subarray(r * V, (r + 1) * V)) };
  };

  /**
   * Reads the prompts of `seqs` with one block of rows per adapter in `roleAdapters` (role-major, as above).
   * A prompt repeated within the batch (several samples of one prompt) is read once and its rows copied.
   */
  const readPromptRows = async (m: CausalLM, seqs: number[], roleAdapters: Array<LoraAdapter | null>) => {
    const firstOf = new Map<string, number>();
    const unique: number[] = [];
    const slot = seqs.map((i) => {
      const key = prompts[i].join(',');
      let u = firstOf.get(key);
      if (u === undefined) firstOf.set(key, (u = unique.push(i) - 1));
      return u;
    });
    const r = await forwardBlocks(m, roleAdapters, unique, (i) => padded[i], (i) => mask[i]);
    if (unique.length === seqs.length) return r;
    const pick = roleAdapters.flatMap((_, role) => slot.map((u) => role * unique.length + u));
    const cache = selectCacheRows(r.cache, pick);
    disposeCache(r.cache);
    return { cache, rows: pick.map((j) => r.rows[j]) };
  };

  const promptCache = opts.promptCache;
  const promptKey = promptCache ? promptBatchKey(prompts, pad) : '';
  const pinned: PromptEntry[] = [];
  /**
   * The prompt step of one runner. With a prompt cache, rows of the bare model come from it when it has this
   * prompt batch (an expert + amateur runner then reads the prompt with its expert rows only) and are recorded
   * in it otherwise; other runner shapes read the prompt as usual.
   */
  const readPrompt = async (run: Runner, seqs: number[]): Promise<Float32Array[]> => {
    const n = seqs.length;
    const adapters = run.adapters;
    const bareOnly = adapters.length === 1 && adapters[0] === null;
    const expertThenBare = adapters.length === 2 && adapters[0] !== null && adapters[1] === null;
    if (!promptCache || !(bareOnly || expertThenBare)) {
      const r = await readPromptRows(run.model, seqs, adapters);
      run.cache = r.cache;
      return r.rows;
    }
    const hit = promptCache.acquire(run.model, promptKey);
    if (hit) pinned.push(hit);
    if (hit && bareOnly) {
      run.cache = run.borrowed = hit.cache;
      return [...hit.logits];
    }
    if (hit) {
      const e = await readPromptRows(run.model, seqs, [adapters[0]]);
      run.cache = concatCacheRows(e.cache, hit.cache);
      disposeCache(e.cache);
      return [...e.rows, ...hit.logits];
    }
    const r = await readPromptRows(run.model, seqs, adapters);
    run.cache = r.cache;
    // Record the bare rows: the whole cache, or a copy of the amateur block (rows n .. 2n).
    const bare = bareOnly ? r.cache : selectCacheRows(r.cache, Array.from({ length: n }, (_, k) => n + k));
    const kept = promptCache.store(run.model, promptKey, bare, r.rows.slice(bareOnly ? 0 : n).map((x) => x.slice()));
    if (kept) pinned.push(kept);
    if (kept && bareOnly) run.borrowed = r.cache;
    if (!kept && !bareOnly) disposeCache(bare);
    return r.rows;
  };

  const results: GenerationResult[] = prompts.map(() => ({ ids: [], logProbs: [], finishReason: 'length' }));
  const histories = prompts.map((p) => p.slice());
  let active = prompts.map((_, i) => i);
  try {
    for (let step = 0; step < opts.maxNewTokens && active.length > 0; step++) {
      // One forward per model over the active rows, then one host read per model.
      const hostRows: Float32Array[][] = [];
      for (const run of runners) {
        if (step === 0) {
          hostRows.push(await readPrompt(run, active));
          continue;
        }
        const r = await forwardBlocks(run.model, run.adapters, active, (i) => [histories[i][histories[i].length - 1]], () => [1], run.cache);
        retire(run, run.cache);
        run.cache = r.cache;
        hostRows.push(r.rows);
      }
      const n = active.length;
      const finished: boolean[] = [];
      active.forEach((i, k) => {
        const rows = separate ? hostRows.map((h) => h[k]) : decoder.rows.map((_, r) => hostRows[0][r * n + k]);
        const { token, logProb } = decoder.select(rows, histories[i], rng);
        results[i].ids.push(token);
        results[i].logProbs.push(logProb);
        histories[i].push(token);
        opts.onToken?.(i, token, step);
        const stop = eos.has(token);
        if (stop) results[i].finishReason = 'eos';
        finished.push(stop);
      });
      if (finished.some(Boolean)) {
        // Finished sequences leave the batch: their cache rows are dropped, not padded along.
        for (const run of runners) {
          const keep = run.adapters.flatMap((_, r) => active.flatMap((_, k) => (finished[k] ? [] : [r * n + k])));
          const old = run.cache;
          run.cache = keep.length ? selectCacheRows(old!, keep) : undefined;
          retire(run, old);
        }
        active = active.filter((_, k) => !finished[k]);
      }
    }
  } finally {
    for (const run of runners) retire(run, run.cache);
    for (const entry of pinned) promptCache!.release(entry);
  }
  if (opts.decode) for (const r of results) r.text = opts.decode(r.ids);
  return results;
}


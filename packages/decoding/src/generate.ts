import { Rng, disposeCache, forward, selectCacheRows, type CausalLM, type KvCache, type LoraAdapter } from '@cope/model';
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
  const R = decoder.rows.length;
  const maxLen = Math.max(...prompts.map((p) => p.length));
  // Left padding: positions come from the mask, so a padded prompt decodes as it would alone.
  const padded = prompts.map((p) => new Array(maxLen - p.length).fill(pad).concat(p));
  const mask = prompts.map((p) => new Array(maxLen - p.length).fill(0).concat(new Array(p.length).fill(1)));

  // Row layout: active sequence k occupies rows k*R .. k*R+R-1 of one runner (one model, per-row adapters),
  // or, with a separate amateur model, row k of each runner (one per role).
  type Role = 'expert' | 'amateur';
  type Runner = { model: CausalLM; roles: Role[]; cache?: KvCache };
  const adapterOf = (role: Role): LoraAdapter | null => (role === 'expert' ? opts.adapter ?? null : null);
  const runners: Runner[] = separate
    ? decoder.rows.map((role) => ({ model: role === 'amateur' ? opts.amateurModel! : model, roles: [role] }))
    : [{ model, roles: [...decoder.rows] }];
  const rowsFor = (run: Runner, seqs: number[], f: (i: number) => number[]) => seqs.flatMap((i) => run.roles.map(() => f(i)));

  const results: GenerationResult[] = prompts.map(() => ({ ids: [], logProbs: [], finishReason: 'length' }));
  const histories = prompts.map((p) => p.slice());
  let active = prompts.map((_, i) => i);
  try {
    for (let step = 0; step < opts.maxNewTokens && active.length > 0; step++) {
      // One forward per model over the active rows, then one host read per model.
      const hostRows: Float32Array[][] = [];
      for (const run of runners) {
        const ids = step === 0 ? rowsFor(run, active, (i) => padded[i]) : rowsFor(run, active, (i) => [histories[i][histories[i].length - 1]]);
        const attentionMask = step === 0 ? rowsFor(run, active, (i) => mask[i]) : ids.map(() => [1]);
        const adapters = active.flatMap(() => run.roles.map(adapterOf));
        const { logits, cache } = forward(run.model, ids, { attentionMask, cache: run.cache, useCache: true, lastOnly: true, adapters });
        disposeCache(run.cache);
        run.cache = cache;
        const flat = (await logits.data()) as Float32Array;
        logits.dispose();
        const V = run.model.config.vocabSize;
        hostRows.push(ids.map((_, r) => flat.subarray(r * V, (r + 1) * V)));
      }
      const finished: boolean[] = [];
      active.forEach((i, k) => {
        const rows = separate ? hostRows.map((h) => h[k]) : decoder.rows.map((_, r) => hostRows[0][k * R + r]);
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
          const per = run.roles.length;
          const keep = active.flatMap((_, k) => (finished[k] ? [] : Array.from({ length: per }, (_, r) => k * per + r)));
          const old = run.cache;
          run.cache = keep.length ? selectCacheRows(old!, keep) : undefined;
          disposeCache(old);
        }
        active = active.filter((_, k) => !finished[k]);
      }
    }
  } finally {
    for (const run of runners) disposeCache(run.cache);
  }
  if (opts.decode) for (const r of results) r.text = opts.decode(r.ids);
  return results;
}


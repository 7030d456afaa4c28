import { Rng, disposeCache, forward, type CausalLM, type KvCache, type LoraAdapter } from '@cope/model';
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
  const padded = prompts.map((p) => new Array(maxLen - p.length).fill(pad).concat(p));
  const mask = prompts.map((p) => new Array(maxLen - p.length).fill(0).concat(new Array(p.length).fill(1)));

  // Row layout: sequence i occupies rows i*R .. i*R+R-1 (or, with a separate amateur model, expert rows
  // on `model` and amateur rows on `amateurModel`, one per sequence each).
  type Runner = { model: CausalLM; ids: number[][]; mask: number[][]; adapters: (LoraAdapter | null)[]; cache?: KvCache; rowsOf: number[][] };
  const runners: Runner[] = [];
  if (separate) {
    for (const role of decoder.rows) {
      runners.push({
        model: role === 'amateur' ? opts.amateurModel! : model,
        ids: padded, mask, adapters: prompts.map(() => (role === 'expert' ? opts.adapter ?? null : null)),
        rowsOf: prompts.map((_, i) => [i]),
      });
    }
  } else {
    const ids: number[][] = [];
    const m: number[][] = [];
    const adapters: (LoraAdapter | null)[] = [];
    prompts.forEach((_, i) => decoder.rows.forEach((role) => {
      ids.push(padded[i]);
      m.push(mask[i]);
      adapters.push(role === 'expert' ? opts.adapter ?? null : null);
    }));
    runners.push({ model, ids, mask: m, adapters, rowsOf: prompts.map((_, i) => Array.from({ length: R }, (_, r) => i * R + r)) });
  }

  const results: GenerationResult[] = prompts.map(() => ({ ids: [], logProbs: [], finishReason: 'length' }));
  const histories = prompts.map((p) => p.slice());
  const done = prompts.map(() => false);
  try {
    for (let step = 0; step < opts.maxNewTokens && done.some((d) => !d); step++) {
      // One forward per model, then one host read per model for all its rows.
      const hostRows: Float32Array[][] = [];
      for (const run of runners) {
        const { logits, cache } = forward(run.model, run.ids, { attentionMask: run.mask, cache: run.cache, useCache: true, lastOnly: true, adapters: run.adapters });
        disposeCache(run.cache);
        run.cache = cache;
        const flat = (await logits.data()) as Float32Array;
        logits.dispose();
        const V = run.model.config.vocabSize;
        hostRows.push(run.ids.map((_, r) => flat.subarray(r * V, (r + 1) * V)));
      }
      const next: number[] = [];
      const stepped = done.map((d) => !d);
      for (let i = 0; i < prompts.length; i++) {
        if (done[i]) {
          next.push(pad);
          continue;
        }
        const rows = separate ? runners.map((run, k) => hostRows[k][run.rowsOf[i][0]]) : runners[0].rowsOf[i].map((r) => hostRows[0][r]);
        const { token, logProb } = decoder.select(rows, histories[i], rng);
        results[i].ids.push(token);
        results[i].logProbs.push(logProb);
        histories[i].push(token);
        opts.onToken?.(i, token, step);
        if (eos.has(token)) {
          done[i] = true;
          results[i].finishReason = 'eos';
        }
        next.push(token);
      }
      for (const run of runners) {
        const seq = (r: number) => (separate ? r : Math.floor(r / R));
        run.ids = run.ids.map((_, r) => [next[seq(r)]]);
        // Sequences finished before this step feed padding that nothing attends to.
        run.mask = run.ids.map((_, r) => [stepped[seq(r)] ? 1 : 0]);
      }
    }
  } finally {
    for (const run of runners) disposeCache(run.cache);
  }
  if (opts.decode) for (const r of results) r.text = opts.decode(r.ids);
  return results;
}


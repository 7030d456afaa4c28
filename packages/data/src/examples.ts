import type { ChatFormatter } from './chat.js';
import type { UserRecord } from './dataset.js';
import { extractOutput, firstKWords, pythonStrip, type TaskSpec } from './tasks.js';
import type { CopeTokenizer } from './tokenizer.js';

/** CoPe's tokenizer `cut_off`, applied to the prompt and the target separately. */
export const DEFAULT_CUTOFF = 2048;
/** `get_first_k_tokens(v, 768)` in OPPU SFT and DPO. */
export const FIELD_WORD_LIMIT = 768;

/** One supervised example: `ids = prompt ++ target`, `labelMask` 1 on target tokens only. */
export interface SftExample {
  ids: number[];
  labelMask: number[];
  promptLength: number;
  /** The prompt or target was cut (to the cut-off, or to fit the model's context). */
  truncated: boolean;
}

/** A chat turn to train on. */
export interface ChatTurn {
  system: string;
  user: string;
  target: string;
}

/**
 * Tokenizes a turn the same way for training, scoring and decoding (design decision 1): the rendered
 * prompt with the tokenizer's special tokens (BOS as configured), the rendered target without. The
 * prompt and the target are each cut to `cutoff` tokens, as CoPe's scripts cut them; then both together to
 * `maxLength` (the model's context, {@link fitToContext}).
 */
export function encodeTurn(tok: CopeTokenizer, chat: ChatFormatter, turn: ChatTurn, cutoff = DEFAULT_CUTOFF, maxLength = Infinity): SftExample {
  if (turn.target.trim() === '') throw new Error(`empty target for the prompt "${turn.user.slice(0, 80)}"`);
  const fullPrompt = tok.encode(chat.prompt(turn.system, turn.user));
  const fullTarget = withEos(tok, tok.encode(chat.target(turn.target, turn.system, turn.user), { addSpecialTokens: false }));
  const [prompt, target] = fitToContext(fullPrompt.slice(0, cutoff), fullTarget.slice(0, cutoff), maxLength);
  const truncated = prompt.length < fullPrompt.length || target.length < fullTarget.length;
  return { ids: prompt.concat(target), labelMask: prompt.map(() => 0).concat(target.map(() => 1)), promptLength: prompt.length, truncated };
}

/**
 * A prompt and a completion cut to `maxLength` tokens together (CoPe's scripts have no such limit: past a
 * model's context its positions are untrained and the activations outgrow the heap). The prompt keeps its first
 * tokens and gives way first, down to what leaves the completion half of the context; then the completion is cut.
 */
export function fitToContext(prompt: number[], completion: number[], maxLength: number): [number[], number[]] {
  if (prompt.length + completion.length <= maxLength) return [prompt, completion];
  const promptKeeps = Math.max(maxLength - completion.length, Math.ceil(maxLength / 2));
  const p = prompt.slice(0, promptKeeps);
  return [p, completion.slice(0, Math.max(1, maxLength - p.length))];
}

/** The model must learn to stop: a target whose template rendered no EOS gets the EOS id appended. */
function withEos(tok: CopeTokenizer, ids: number[]): number[] {
  if (tok.eosId != null && !ids.includes(tok.eosId)) ids.push(tok.eosId);
  return ids;
}

/** Every string field of a profile item cut to 768 words (OPPU SFT and DPO only). */
export function truncateItem(item: Record<string, unknown>, words = FIELD_WORD_LIMIT): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(item)) if (typeof v === 'string') out[k] = k === 'id' ? v : firstKWords(v, words);
  return out;
}

/** TAM turns: every query of every non-target user; the raw LaMP input as the user message, gold as target. */
export function tamTurns(task: TaskSpec, users: UserRecord[]): ChatTurn[] {
  return users.flatMap((u) => u.query.map((q) => ({ system: task.system, user: q.input, target: String(q.gold ?? '') })));
}

/** OPPU turns: one per profile item of a user ({@link oppuTurn}). */
export function oppuTurns(task: TaskSpec, user: UserRecord): ChatTurn[] {
  return user.profile.map((raw) => oppuTurn(task, raw));
}

/** A profile item's turn, as OPPU trains on it and DPO prefers it: `OPPU_input` over 768-word fields, its target. */
export function oppuTurn(task: TaskSpec, raw: Record<string, unknown>): ChatTurn {
  const item = truncateItem(raw);
  return { system: task.system, user: task.trainPrompt(item), target: item[task.targetField] };
}

/** The test-time prompt turn of a query (no truncation). */
export function queryPrompt(task: TaskSpec, input: string): { system: string; user: string } {
  return { system: task.system, user: task.testPrompt(task.parseQueryInput(input)) };
}

/** A DPO triple in ids: one prompt and two completions, each ending with exactly one trailing EOS. */
export interface DpoTriple {
  prompt: number[];
  chosen: number[];
  rejected: number[];
}

/** Builds a DPO triple from a turn and a rejected text (chosen = the turn's target). */
export function encodeDpoTriple(tok: CopeTokenizer, chat: ChatFormatter, turn: ChatTurn, rejected: string, cutoff = DEFAULT_CUTOFF, maxLength = Infinity): DpoTriple {
  const fullPrompt = tok.encode(chat.prompt(turn.system, turn.user)).slice(0, cutoff);
  const completion = (text: string) => {
    const ids = tok.encode(chat.target(text, turn.system, turn.user), { addSpecialTokens: false });
    if (tok.eosId != null && ids[ids.length - 1] !== tok.eosId) ids.push(tok.eosId);
    return ids.slice(0, Math.max(1, cutoff - fullPrompt.length));
  };
  const chosen = completion(turn.target);
  const rejectedIds = completion(rejected);
  // Both sequences (prompt + chosen, prompt + rejected) fit the context with one prompt.
  const [prompt] = fitToContext(fullPrompt, chosen.length > rejectedIds.length ? chosen : rejectedIds, maxLength);
  const room = Math.max(1, maxLength - prompt.length);
  return { prompt, chosen: chosen.slice(0, room), rejected: rejectedIds.slice(0, room) };
}

/** A padded batch: ids [batch][len], attention mask, and any per-token arrays padded alike with 0. */
export interface PaddedBatch {
  ids: number[][];
  attentionMask: number[][];
  labelMask: number[][];
}

/** Pads sequences to one length on the `side` given (left for generation, right for training). */
export function padBatch(seqs: Array<{ ids: number[]; labelMask?: number[] }>, padId: number, side: 'left' | 'right' = 'right', multipleOf = 1): PaddedBatch {
  let len = Math.max(...seqs.map((s) => s.ids.length));
  len = Math.ceil(len / multipleOf) * multipleOf;
  const pad = <T>(xs: T[], v: T) => {
    const fill = new Array(len - xs.length).fill(v);
    return side === 'left' ? fill.concat(xs) : xs.concat(fill);
  };
  return {
    ids: seqs.map((s) => pad(s.ids, padId)),
    attentionMask: seqs.map((s) => pad(s.ids.map(() => 1), 0)),
    labelMask: seqs.map((s) => pad(s.labelMask ?? s.ids.map(() => 0), 0)),
  };
}

/**
 * How a generated answer becomes a method's output text. `reference` does what CoPe's scripts do: greedy and
 * sampled generations (TAM, OPPU, OPPU+DPO) decode prompt and answer together and keep what follows the task's
 * last output marker (`get_output`: then whitespace, `"` and `'` stripped); contrastive ones (OPPU+CD, CoPe) are
 * the answer `.strip()`ped. `trim` is the answer alone, whitespace trimmed, for every method.
 */
export const OUTPUT_TEXT_MODES = ['reference', 'trim'] as const;
export type OutputTextMode = (typeof OUTPUT_TEXT_MODES)[number];

/** A method's output text from its prompt and generated ids (see {@link OUTPUT_TEXT_MODES}). */
export function outputText(tok: CopeTokenizer, task: TaskSpec, promptIds: number[], generated: number[], contrastive: boolean, mode: OutputTextMode): string {
  if (mode === 'trim') return tok.decode(generated, { skipSpecialTokens: true }).trim();
  if (contrastive) return pythonStrip(tok.decode(generated, { skipSpecialTokens: true }));
  return extractOutput(task, tok.decode(promptIds.concat(generated), { skipSpecialTokens: true }));
}

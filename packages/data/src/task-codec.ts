import type { ChatFormatter } from './chat.js';
import type { UserRecord } from './dataset.js';
import { DEFAULT_CUTOFF, encodeDpoTriple, encodeTurn, oppuTurn, oppuTurns, queryPrompt, tamTurns, truncateItem, type DpoTriple, type SftExample } from './examples.js';
import type { TaskSpec } from './tasks.js';
import type { CopeTokenizer } from './tokenizer.js';

/**
 * How a pseudo-negative candidate is scored. `completion`: mean log-prob of the candidate's tokens given the
 * templated prompt (design decision 3). `cope-compat`: the published formula, −mean cross-entropy over every
 * next-token position of `[BOS, field…, BOS, y…]`, prompt included, positions whose label is EOS ignored.
 */
export type ScoringMode = 'completion' | 'cope-compat';

/** A scoring pair in ids: the candidate's log-probability is read over `completion` after `prompt`. */
export interface ScoringPair {
  /** Prompt ids: the templated prompt (`completion`), or `tok(field)` with its BOS (`cope-compat`). */
  prompt: number[];
  /** Candidate ids: without BOS (`completion`), or `tok(y)` with its BOS (`cope-compat`). */
  completion: number[];
}

/**
 * The one place a task's records become token ids for one model: built once from the tokenizer, the chat
 * template and the task (and the model's context, to which training inputs are cut). TAM and OPPU examples,
 * DPO triples, pseudo-negative sampling prompts, scoring pairs, query prompts for decoding, and the pad id all
 * come from here, so every stage tokenizes a record the same way.
 */
export class TaskCodec {
  constructor(
    readonly tokenizer: CopeTokenizer,
    readonly chat: ChatFormatter,
    readonly task: TaskSpec,
    /** The model's context: training inputs are cut to it after CoPe's own cut. */
    readonly maxLength = Infinity,
    /** CoPe's cut of each prompt and target (2048 tokens). */
    readonly cutoff = DEFAULT_CUTOFF,
  ) {}

  /** The id that pads batches (pad, else EOS, else 0). */
  get padId(): number {
    return this.tokenizer.batchPadId;
  }

  /** TAM SFT examples: every query of the non-target users. */
  tamExamples(users: UserRecord[]): SftExample[] {
    return tamTurns(this.task, users).map((t) => encodeTurn(this.tokenizer, this.chat, t, this.cutoff, this.maxLength));
  }

  /** OPPU SFT examples: one per profile item of the user. */
  oppuExamples(user: UserRecord): SftExample[] {
    return oppuTurns(this.task, user).map((t) => encodeTurn(this.tokenizer, this.chat, t, this.cutoff, this.maxLength));
  }

  /** The DPO triple of a profile item: its target chosen, `rejected` (the selected negative) rejected. */
  dpoTriple(raw: Record<string, unknown>, rejected: string): DpoTriple {
    return encodeDpoTriple(this.tokenizer, this.chat, oppuTurn(this.task, raw), rejected, this.cutoff, this.maxLength);
  }

  /** The prompt pseudo-negatives of a profile item are sampled from (the task's test prompt over the item). */
  samplingPrompt(item: Record<string, string>): number[] {
    return this.tokenizer.encode(this.chat.prompt(this.task.system, this.task.itemTestPrompt(item)));
  }

  /** How a candidate is presented to the scorer in each mode. */
  scoringPair(item: Record<string, string>, candidate: string, mode: ScoringMode): ScoringPair {
    if (mode === 'cope-compat') {
      // compute_scores.py: tok(raw field) ++ tok(y), both with the tokenizer's BOS, no instruction or template.
      return { prompt: this.tokenizer.encode(this.task.scoringText(item)), completion: this.tokenizer.encode(candidate) };
    }
    // The pair as DPO will see it: OPPU_input over 768-word fields, the candidate as the assistant turn.
    const user = this.task.trainPrompt(truncateItem(item));
    const completion = this.tokenizer.encode(this.chat.target(candidate, this.task.system, user), { addSpecialTokens: false });
    if (this.tokenizer.eosId != null && !completion.includes(this.tokenizer.eosId)) completion.push(this.tokenizer.eosId);
    return { prompt: this.tokenizer.encode(this.chat.prompt(this.task.system, user)), completion };
  }

  /** The text a query is decoded from: its input in the task's test template, in the chat template. */
  queryText(input: string): string {
    const p = queryPrompt(this.task, input);
    return this.chat.prompt(p.system, p.user);
  }

  /** {@link queryText} in ids. */
  queryIds(input: string): number[] {
    return this.tokenizer.encode(this.queryText(input));
  }
}

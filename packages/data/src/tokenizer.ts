import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';

/** Options of {@link CopeTokenizer.encode}. */
export interface EncodeOptions {
  /** Add BOS/EOS as `tokenizer(text)` in Python transformers does (default true). */
  addSpecialTokens?: boolean;
}

/** Options of {@link CopeTokenizer.decode}. */
export interface DecodeOptions {
  skipSpecialTokens?: boolean;
}

type TokenizerConfig = Record<string, unknown> & { chat_template?: unknown };

function tokenContent(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
  return null;
}

/**
 * A Hugging Face tokenizer loaded from `tokenizer.json` + `tokenizer_config.json`, with the special-token
 * policy of the config (`add_bos_token` / `add_eos_token`) applied as transformers does.
 */
export class CopeTokenizer {
  readonly bosToken: string | null;
  readonly eosToken: string | null;
  readonly padToken: string | null;
  readonly bosId: number | null;
  readonly eosId: number | null;
  readonly padId: number | null;
  /** The `chat_template` string of the config, if any. */
  readonly chatTemplate: string | null;
  /** The id that pads batches: the pad token's, else the EOS token's (as CoPe's scripts set it), else 0. */
  get batchPadId(): number {
    return this.padId ?? this.eosId ?? 0;
  }
  readonly vocabSize: number;

  constructor(
    private readonly hf: HfTokenizer,
    readonly config: TokenizerConfig,
    readonly source = '<memory>',
  ) {
    this.bosToken = tokenContent(config.bos_token);
    this.eosToken = tokenContent(config.eos_token);
    this.padToken = tokenContent(config.pad_token);
    this.bosId = this.bosToken != null ? hf.token_to_id(this.bosToken) ?? null : null;
    this.eosId = this.eosToken != null ? hf.token_to_id(this.eosToken) ?? null : null;
    this.padId = this.padToken != null ? hf.token_to_id(this.padToken) ?? null : null;
    const tpl = config.chat_template;
    if (typeof tpl === 'string') this.chatTemplate = tpl;
    else if (Array.isArray(tpl)) this.chatTemplate = (tpl.find((t: { name?: string }) => t.name === 'default') as { template?: string } | undefined)?.template ?? null;
    else this.chatTemplate = null;
    let max = -1;
    for (const id of hf.get_vocab(true).values()) max = Math.max(max, id);
    this.vocabSize = max + 1;
  }

  /** Token ids of `text`. */
  encode(text: string, opts: EncodeOptions = {}): number[] {
    const add = opts.addSpecialTokens ?? true;
    const ids = this.hf.encode(text, { add_special_tokens: add }).ids.slice();
    if (add) {
      // Slow tokenizers apply add_bos/add_eos in Python; fast ones carry them in the post-processor.
      // Apply the config's policy when the tokenizer.json did not.
      if (this.config.add_bos_token === true && this.bosId != null && ids[0] !== this.bosId) ids.unshift(this.bosId);
      if (this.config.add_eos_token === true && this.eosId != null && ids[ids.length - 1] !== this.eosId) ids.push(this.eosId);
    }
    return ids;
  }

  /** Text of `ids`. */
  decode(ids: number[], opts: DecodeOptions = {}): string {
    // @huggingface/tokenizers refuses an empty list; a generation that stopped at once decodes to "".
    if (ids.length === 0) return '';
    // Current transformers (4.57, the fixtures' version) leaves spaces as decoded even where a config
    // says clean_up_tokenization_spaces (gpt2 keeps "name != x"), so never clean up.
    return this.hf.decode(ids, { skip_special_tokens: opts.skipSpecialTokens ?? false, clean_up_tokenization_spaces: false });
  }

  /** Token strings of `ids`. */
  idsToTokens(ids: number[]): string[] {
    return ids.map((id) => this.hf.id_to_token(id) ?? '');
  }

  /** Id of a token string, or undefined. */
  tokenToId(token: string): number | undefined {
    return this.hf.token_to_id(token);
  }

  /** The full vocabulary including added tokens. */
  vocab(): Map<string, number> {
    return this.hf.get_vocab(true);
  }
}

/**
 * A tokenizer from the parsed contents of `tokenizer.json` and `tokenizer_config.json` (`{}` when the folder has
 * none), e.g. fetched or read from `File`s in a browser. `source` names the folder in errors.
 */
export function tokenizerFromJson(tokenizerJson: unknown, config: unknown = {}, source = '<memory>'): CopeTokenizer {
  if (typeof tokenizerJson !== 'object' || tokenizerJson === null) throw new Error(`${source}/tokenizer.json: expected a JSON object`);
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new Error(`${source}/tokenizer_config.json: expected a JSON object`);
  try {
    return new CopeTokenizer(new HfTokenizer(tokenizerJson as object, config as TokenizerConfig), config as TokenizerConfig, source);
  } catch (e) {
    throw new Error(`${source}/tokenizer.json: cannot build tokenizer (${(e as Error).message})`);
  }
}

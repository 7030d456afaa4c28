/**
 * CoPe's decoding methods (the rows of its tables, in their order) as data: which adapter each user's
 * queries are decoded with (none: the TAM model itself; `sft`: the OPPU adapter; `dpo`: OPPU after DPO) and
 * how (greedy, or contrastive with the TAM model as the amateur).
 */
export const METHODS = {
  TAM: { adapter: null, decoder: 'greedy' },
  OPPU: { adapter: 'sft', decoder: 'greedy' },
  'OPPU+CD': { adapter: 'sft', decoder: 'contrastive' },
  'OPPU+DPO': { adapter: 'dpo', decoder: 'greedy' },
  CoPe: { adapter: 'dpo', decoder: 'contrastive' },
} as const satisfies Record<string, MethodSpec>;

export interface MethodSpec {
  /** The per-user adapter: the stage that trained it, or null for the TAM model alone. */
  adapter: 'sft' | 'dpo' | null;
  decoder: 'greedy' | 'contrastive';
}

export type Method = keyof typeof METHODS;

/** The method names in table order. */
export const METHOD_NAMES = Object.keys(METHODS) as [Method, ...Method[]];

/** The method that decodes with `decoder` and `adapter`, or undefined when there is none (contrastive needs an adapter). */
export function methodOf(spec: MethodSpec): Method | undefined {
  return METHOD_NAMES.find((m) => METHODS[m].adapter === spec.adapter && METHODS[m].decoder === spec.decoder);
}

/** One predictions file: a method decoded greedily (`name` = the method), or one of its sampled runs. */
export interface DecodeOutput {
  name: string;
  method: Method;
  /** 1-based sampling run; absent for greedy decoding. */
  run?: number;
}

/** The predictions files of `methods`, in method order: one per method, or `runs` sampled ones each. */
export function decodeOutputs(methods: readonly Method[], sampling?: { runs: number }): DecodeOutput[] {
  return methods.flatMap<DecodeOutput>((method) => (sampling
    ? Array.from({ length: sampling.runs }, (_, k) => ({ name: `${method}-sampling-run_${k + 1}`, method, run: k + 1 }))
    : [{ name: method, method }]));
}

/**
 * Where a predictions file sorts in results.json: by method, then the greedy file, the sampling runs in order,
 * and their mean last.
 */
export function outputOrder(name: string): [number, number] {
  const m = METHOD_NAMES.findIndex((x) => name === x || name.startsWith(`${x}-`));
  const run = /-sampling-run_(\d+)$/.exec(name);
  return [m, name === METHOD_NAMES[m] ? 0 : run ? Number(run[1]) : Infinity];
}

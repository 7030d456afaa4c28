import { z } from 'zod';
import { CHAT_TEMPLATE_CHOICES, OUTPUT_TEXT_MODES } from '@cope/data';
import { dpoConfigSchema } from '@cope/dpo';
import { contrastiveSettingsSchema, samplingSettingsSchema } from '@cope/decoding';
import { SFT_PRESETS, sftConfigSchema, withSftPreset } from '@cope/sft';
import { settingIssues, type SettingIssue } from './config-issues.js';
import { METHOD_NAMES } from './methods.js';

/**
 * Overrides of a trainer's settings: kept as written (the stages add the seed), checked here against the
 * trainer's own schema with its preset under them, so a bad or unknown key is refused before any work.
 */
function trainerOverrides(check: (o: Record<string, unknown>) => SettingIssue[]) {
  return z.record(z.string(), z.unknown()).default({}).superRefine((o, ctx) => {
    for (const i of check(o)) ctx.addIssue({ code: 'custom', path: i.path, message: i.message });
  });
}
/** Sampling settings' ranges (and Hugging Face's defaults where CoPe keeps them): @cope/decoding's schema. */
const sampling = samplingSettingsSchema.shape;

/**
 * CoPe's `--is_sampling`: each method is sampled `runs` times (seeded per user and run) instead of decoded greedily,
 * into `<method>-sampling-run_<n>.json`, and evaluated per run and as the mean of the runs. Defaults are the published
 * ones: 3 runs, temperature 0.3, top-k 50, top-p 0.95.
 */
export const samplingRunsSchema = z.strictObject({
  runs: z.number().int().positive().default(3),
  temperature: sampling.temperature.unwrap().default(0.3),
  topK: sampling.topK,
  topP: sampling.topP.unwrap().default(0.95),
});

const sftOverrides = (preset: keyof typeof SFT_PRESETS) => trainerOverrides((o) => settingIssues(sftConfigSchema, withSftPreset(preset, o)));

/**
 * The settings of the CoPe method itself: what its stages read, in a run folder or in a browser. Defaults are the
 * published values (CoPe's scripts/*.py, §3-9), except where a comment says otherwise. A run's config
 * (`runConfigSchema`) adds its files, users and processes.
 */
export const methodSettingsSchema = z.strictObject({
  seed: z.number().int().default(42).describe('seed of every random stream of the run (TAM, each user\'s trainers, sampling, decoding)'),
  chatTemplate: z.enum(CHAT_TEMPLATE_CHOICES).default('model').describe('chat template: model (the tokenizer\'s own, else plain) or a CoPe preset'),
  /** Overrides of the SFT presets (TAM: r 16, alpha 16, q/k/v/o, lr 1e-4, 3 epochs, batch 8). */
  tam: sftOverrides('tam'),
  /** Overrides of the OPPU preset (r 8, alpha 8, q/v, lr 1e-4, 2 epochs, batch 4). */
  oppu: sftOverrides('oppu'),
  negatives: z.strictObject({
    /** `--response_num 3`. */
    n: z.number().int().positive().default(3),
    /** `--temperature 1.0`. */
    temperature: sampling.temperature.unwrap().default(1),
    /** `top_p=0.95`. */
    topP: sampling.topP.unwrap().default(0.95),
    maxNewTokens: z.number().int().positive().optional(),
    repetitionPenalty: sampling.repetitionPenalty,
  }).prefault({}),
  score: z.strictObject({
    /** Design decision 3: `completion` by default; `cope-compat` for the published formula. */
    mode: z.enum(['completion', 'cope-compat']).default('completion'),
    /** `--std max`: the lowest implicit reward. */
    selection: z.enum(['max', 'min']).default('max'),
  }).prefault({}),
  /** DPO overrides (lr 5e-6, 1 epoch, batch 8, β 0.01, sigmoid). */
  dpo: trainerOverrides((o) => settingIssues(dpoConfigSchema, o)),
  decode: z.strictObject({
    // λ, plausibility, masking and the repetition penalty (long tasks: the README's 1.0): @cope/decoding's schema.
    ...contrastiveSettingsSchema.pick({ contrastiveAlpha: true, plausibility: true, masked: true, repetitionPenalty: true }).shape,
    /** 100 / 600 by task when omitted. */
    maxNewTokens: z.number().int().positive().optional(),
    batchSize: z.number().int().positive().default(8),
    /** How generations become output texts: `reference` as CoPe's scripts (get_output / strip), or `trim` (@cope/data's OUTPUT_TEXT_MODES). */
    outputText: z.enum(OUTPUT_TEXT_MODES).default('reference'),
    sampling: samplingRunsSchema.optional(),
  }).prefault({}),
  /** Methods decoded and evaluated. */
  methods: z.array(z.enum(METHOD_NAMES)).nonempty().default([...METHOD_NAMES]),
});

export type MethodSettings = z.infer<typeof methodSettingsSchema>;

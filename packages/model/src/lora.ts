import { z } from 'zod';
import { tf } from './tf.js';
import type { Tensor2D } from './tf.js';
import { parseProblem, sha256Hex } from '@cope/core';
import { releaseAdapterCopy } from './wasm/products.js';
import { loraScale, type LoraAdapter, type LoraConfig, type LoraPair } from './lora-types.js';
import type { Rng } from '@cope/core';
import { parseSafetensors, serializeSafetensors, type HostTensor } from './safetensors.js';
import { digestSha256Hex } from './model-bytes.js';
import { PROJECTIONS, projectionPath, projectionShape, type CausalLM, type ProjectionName, refuseBf16 } from './weights.js';

let variableCounter = 0;
/** tfjs variable names are global: make each adapter's unique. */
function varName(adapter: string, layer: number, proj: string, which: string): string {
  return `lora/${adapter}/${layer}/${proj}/${which}#${variableCounter++}`;
}

/** PEFT's `LoraConfig` defaults (peft 0.14): r 8, lora_alpha 8, dropout 0, no rsLoRA. */
export const DEFAULT_LORA: LoraConfig = { r: 8, alpha: 8, dropout: 0, targetModules: ['q_proj', 'v_proj'], useRslora: false };

/**
 * A trainable variable holding `make()`'s value. The variable shares the tensor's data, so the tensor is
 * disposed here: otherwise it would keep the data alive after the variable (and its adapter) is disposed.
 */
function ownedVariable(make: () => tf.Tensor, name: string): tf.Variable {
  const t = tf.tidy(make);
  const v = tf.variable(t, true, name);
  t.dispose();
  return v;
}

/**
 * Creates a fresh adapter with PEFT's initialisation: A Kaiming-uniform (a = √5, i.e. U(±1/√in)),
 * B zero, so the adapted model starts equal to the base.
 */
export function createLoraAdapter(model: CausalLM, name: string, config: Partial<LoraConfig>, rng: Rng): LoraAdapter {
  const cfg: LoraConfig = { ...DEFAULT_LORA, ...config };
  validateLoraConfig(cfg, name);
  const layers: LoraAdapter['layers'] = [];
  for (let l = 0; l < model.config.numLayers; l++) {
    const entry: Partial<Record<ProjectionName, LoraPair>> = {};
    for (const p of cfg.targetModules) {
      const [out, inp] = projectionShape(model.config, p);
      const bound = 1 / Math.sqrt(inp);
      const a = new Float32Array(inp * cfg.r);
      // PEFT draws A as [r, in] row-major; fill in that order, then store the transpose.
      const aPeft = new Float32Array(cfg.r * inp);
      for (let i = 0; i < aPeft.length; i++) aPeft[i] = rng.uniform(-bound, bound);
      for (let r = 0; r < cfg.r; r++) for (let i = 0; i < inp; i++) a[i * cfg.r + r] = aPeft[r * inp + i];
      entry[p] = {
        a: ownedVariable(() => tf.tensor2d(a, [inp, cfg.r]), varName(name, l, p, 'A')),
        b: ownedVariable(() => tf.zeros([cfg.r, out]), varName(name, l, p, 'B')),
      };
    }
    layers.push(entry);
  }
  return { name, config: cfg, layers };
}

function validateLoraConfig(cfg: LoraConfig, where: string): void {
  if (!Number.isInteger(cfg.r) || cfg.r <= 0) throw new Error(`${where}: r: expected a positive integer, got ${cfg.r}`);
  if (!(cfg.dropout >= 0 && cfg.dropout < 1)) throw new Error(`${where}: lora_dropout: expected a number in [0, 1), got ${cfg.dropout}`);
  for (const t of cfg.targetModules) {
    if (!(PROJECTIONS as readonly string[]).includes(t)) throw new Error(`${where}: target_modules: unsupported "${t}" (expected some of ${PROJECTIONS.join(', ')})`);
  }
}

/** The trainable tensors of an adapter, in a stable order. */
export function adapterVariables(adapter: LoraAdapter): tf.Variable[] {
  const out: tf.Variable[] = [];
  for (const layer of adapter.layers) for (const p of PROJECTIONS) {
    const pair = layer[p];
    if (pair) out.push(pair.a, pair.b);
  }
  return out;
}

/** Frees an adapter's tensors. */
export function disposeAdapter(adapter: LoraAdapter): void {
  for (const v of adapterVariables(adapter)) {
    releaseAdapterCopy(v);
    v.dispose();
  }
}

const peftConfigSchema = z
  .object({
    peft_type: z.literal('LORA').optional(),
    r: z.number().int().positive(),
    lora_alpha: z.number(),
    lora_dropout: z.number().default(0),
    target_modules: z.union([z.array(z.string()), z.string()]),
    use_rslora: z.boolean().default(false),
    fan_in_fan_out: z.boolean().default(false),
    bias: z.string().default('none'),
    base_model_name_or_path: z.string().nullish(),
    use_dora: z.boolean().optional(),
  })
  .passthrough();

/** PEFT tensor name of an adapter matrix. */
export function peftKey(layer: number, proj: ProjectionName, which: 'A' | 'B'): string {
  return `base_model.model.${projectionPath(layer, proj)}.lora_${which}.weight`;
}

/**
 * An adapter in PEFT's format, as bytes and JSON (the browser's download): `adapter_config.json`'s content and
 * `adapter_model.safetensors`'s bytes, keys `base_model.model.model.layers.<i>.<module>.<proj>.lora_{A,B}.weight`,
 * A [r, in], B [out, r]. Python PEFT loads the result.
 */
export async function loraAdapterToBytes(adapter: LoraAdapter): Promise<{ config: Record<string, unknown>; safetensors: Uint8Array }> {
  const c = adapter.config;
  const tensors = new Map<string, HostTensor>();
  for (let l = 0; l < adapter.layers.length; l++) {
    for (const p of PROJECTIONS) {
      const pair = adapter.layers[l][p];
      if (!pair) continue;
      const [aT, bT] = tf.tidy(() => [tf.transpose(pair.a), tf.transpose(pair.b)]);
      tensors.set(peftKey(l, p, 'A'), { shape: aT.shape.slice(), data: (await aT.data()) as Float32Array });
      tensors.set(peftKey(l, p, 'B'), { shape: bT.shape.slice(), data: (await bT.data()) as Float32Array });
      aT.dispose();
      bT.dispose();
    }
  }
  const config = {
    peft_type: 'LORA',
    task_type: 'CAUSAL_LM',
    r: c.r,
    lora_alpha: c.alpha,
    lora_dropout: c.dropout,
    target_modules: c.targetModules,
    bias: 'none',
    fan_in_fan_out: false,
    use_rslora: c.useRslora,
    inference_mode: true,
    base_model_name_or_path: c.baseModelName ?? null,
    modules_to_save: null,
    init_lora_weights: true,
    layers_to_transform: null,
    layers_pattern: null,
  };
  return { config, safetensors: serializeSafetensors(tensors, { metadata: { format: 'pt' } }) };
}

/**
 * A PEFT LoRA adapter for `model` from `adapter_config.json`'s parsed content and `adapter_model.safetensors`'s bytes
 * (fetched or uploaded in a browser). Errors name the file and field: unsupported options (DoRA, fan_in_fan_out,
 * bias), missing tensors, or shapes that do not fit the model (an adapter made for another base). Its fingerprint is
 * the SHA-256 of the config's JSON and the weights' bytes.
 */
export async function loraAdapterFromBytes(model: CausalLM, raw: unknown, safetensors: Uint8Array, name = 'adapter',
  files: { configFile: string; weightsFile: string } = { configFile: `${name}/adapter_config.json`, weightsFile: `${name}/adapter_model.safetensors` }): Promise<LoraAdapter> {
  const { configFile: cfgFile, weightsFile } = files;
  const parsed = peftConfigSchema.safeParse(raw);
  if (!parsed.success) throw new Error(parseProblem(cfgFile, parsed.error));
  const pc = parsed.data;
  if (pc.use_dora) throw new Error(`${cfgFile}: use_dora: DoRA adapters are not supported`);
  if (pc.fan_in_fan_out) throw new Error(`${cfgFile}: fan_in_fan_out: only false is supported`);
  if (pc.bias !== 'none') throw new Error(`${cfgFile}: bias: only "none" is supported, got "${pc.bias}"`);
  for (const key of ['rank_pattern', 'alpha_pattern'] as const) {
    const v = (pc as Record<string, unknown>)[key];
    if (v && typeof v === 'object' && Object.keys(v).length) throw new Error(`${cfgFile}: ${key}: per-module ranks and alphas are not supported`);
  }
  const { tensors: host } = parseSafetensors(safetensors, weightsFile);
  checkTargetModules(pc.target_modules, [...host.keys()], cfgFile, weightsFile);
  const targets = PROJECTIONS.filter((p) => [...host.keys()].some((k) => k.includes(`.${p}.lora_`)));
  const config: LoraConfig = {
    r: pc.r,
    alpha: pc.lora_alpha,
    dropout: pc.lora_dropout,
    targetModules: targets,
    useRslora: pc.use_rslora,
    baseModelName: pc.base_model_name_or_path ?? undefined,
  };
  validateLoraConfig(config, cfgFile);
  const used = new Set<string>();
  const layers: LoraAdapter['layers'] = [];
  for (let l = 0; l < model.config.numLayers; l++) {
    const entry: Partial<Record<ProjectionName, LoraPair>> = {};
    for (const p of targets) {
      const [out, inp] = projectionShape(model.config, p);
      const aKey = peftKey(l, p, 'A');
      const bKey = peftKey(l, p, 'B');
      const a = host.get(aKey);
      const b = host.get(bKey);
      if (!a && !b) continue;
      if (!a || !b) throw new Error(`${weightsFile}: missing "${a ? bKey : aKey}"`);
      if (a.shape[1] === inp && b.shape[0] === out && (a.shape[0] !== pc.r || b.shape[1] !== pc.r)) {
        throw new Error(`${weightsFile}: "${aKey}" has shape [${a.shape}] and "${bKey}" [${b.shape}], of rank ${a.shape[0] !== pc.r ? a.shape[0] : b.shape[1]}, but ${cfgFile} says r ${pc.r}`);
      }
      if (a.shape[0] !== pc.r || a.shape[1] !== inp) throw new Error(`${weightsFile}: "${aKey}" has shape [${a.shape}], expected [${pc.r}, ${inp}] for this base model (adapter made for another base?)`);
      if (b.shape[0] !== out || b.shape[1] !== pc.r) throw new Error(`${weightsFile}: "${bKey}" has shape [${b.shape}], expected [${out}, ${pc.r}] for this base model (adapter made for another base?)`);
      used.add(aKey).add(bKey);
      entry[p] = tf.tidy(() => ({
        a: ownedVariable(() => tf.transpose(tf.tensor2d(a.data, [pc.r, inp])), varName(name, l, p, 'A')),
        b: ownedVariable(() => tf.transpose(tf.tensor2d(b.data, [out, pc.r])), varName(name, l, p, 'B')),
      })) as LoraPair;
    }
    layers.push(entry);
  }
  const unused = [...host.keys()].filter((k) => !used.has(k));
  if (unused.length) {
    for (const layer of layers) for (const pair of Object.values(layer)) { pair!.a.dispose(); pair!.b.dispose(); }
    throw new Error(`${weightsFile}: tensor "${unused[0]}" does not fit this base model (${model.config.numLayers} layers; adapter made for another base?)`);
  }
  return { name, config, layers, fingerprint: await digestSha256Hex([new TextEncoder().encode(JSON.stringify(raw)), safetensors]) };
}

/**
 * PEFT's check of `target_modules` against the model and the saved tensors: a listed module the model does not
 * have, a listed module without tensors, or tensors of a module the list (or pattern) does not name is refused,
 * naming it. List entries match a module by its last name (`q_proj`, `model.layers.0.self_attn.q_proj`); a
 * string is a pattern over whole module paths, as PEFT's `re.fullmatch`.
 */
function checkTargetModules(listed: string | string[], tensorNames: string[], cfgFile: string, weightsFile: string): void {
  const modules = [...new Set(tensorNames.map((k) => k.replace(/^base_model\.model\./, '').replace(/\.lora_[AB]\.weight$/, '')))];
  const present = PROJECTIONS.filter((p) => modules.some((m) => m.endsWith(`.${p}`)));
  if (typeof listed === 'string') {
    let pattern: RegExp;
    try {
      pattern = new RegExp(`^(?:${listed})$`);
    } catch (e) {
      throw new Error(`${cfgFile}: target_modules: not a valid pattern (${(e as Error).message})`);
    }
    const unmatched = modules.filter((m) => !pattern.test(m));
    if (unmatched.length) throw new Error(`${weightsFile}: LoRA tensors for ${unmatched[0]}, which ${cfgFile} target_modules "${listed}" does not match`);
    return;
  }
  const names = listed.map((m) => m.split('.').pop()!);
  const unknown = listed.filter((_, k) => !(PROJECTIONS as readonly string[]).includes(names[k]));
  if (unknown.length) throw new Error(`${cfgFile}: target_modules: ${unknown.join(', ')} not found in this base model (its adaptable modules: ${PROJECTIONS.join(', ')})`);
  const withoutTensors = PROJECTIONS.filter((p) => names.includes(p) && !present.includes(p));
  if (withoutTensors.length) throw new Error(`${cfgFile}: target_modules lists ${withoutTensors.join(', ')}, but ${weightsFile} has no LoRA tensors for ${withoutTensors.length > 1 ? 'them' : 'it'}`);
  const notListed = present.filter((p) => !names.includes(p));
  if (notListed.length) throw new Error(`${weightsFile}: LoRA tensors for ${notListed.join(', ')}, which ${cfgFile} target_modules (${listed.join(', ')}) does not list`);
}

/**
 * Returns a new model whose weights include `scale · B·A` for every adapted projection (PEFT's
 * `merge_and_unload`). The input model and adapter are left untouched. The result owns its tensors
 * (unchanged ones are `tf.clone`s, which share memory), so either model can be disposed on its own.
 */
export function mergeLoraAdapter(model: CausalLM, adapter: LoraAdapter): CausalLM {
  refuseBf16(model, 'merging an adapter');
  const scale = loraScale(adapter.config);
  const w = model.weights;
  const clone = <T extends tf.Tensor>(t: T): T => tf.clone(t);
  const layers = w.layers.map((layer, l) => {
    const proj = {} as CausalLM['weights']['layers'][number]['proj'];
    for (const p of PROJECTIONS) {
      const lin = layer.proj[p];
      const pair = adapter.layers[l]?.[p];
      const kernel = pair
        ? (tf.tidy(() => tf.add(lin.kernel, tf.mul(tf.matMul(pair.a as unknown as Tensor2D, pair.b as unknown as Tensor2D), scale))) as Tensor2D)
        : clone(lin.kernel);
      proj[p] = { kernel, bias: lin.bias ? clone(lin.bias) : undefined };
    }
    return { inputNorm: clone(layer.inputNorm), postAttentionNorm: clone(layer.postAttentionNorm), proj };
  });
  const embed = w.embed && clone(w.embed);
  const fingerprint = model.fingerprint && adapter.fingerprint ? sha256Hex(`${model.fingerprint}+${adapter.fingerprint}`) : undefined;
  return { config: model.config, weights: { embed, layers, norm: clone(w.norm), lmHead: { kernel: clone(w.lmHead.kernel) } }, fingerprint };
}

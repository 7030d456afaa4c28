import { tf, type Variable } from '@cope/model';

/** AdamW hyper-parameters; defaults are torch.optim.AdamW's with HF Trainer's weight decay (CoPe passes 0.01). */
export interface AdamWConfig {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

export const DEFAULT_ADAMW: AdamWConfig = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 };

/** Optimiser state, serialisable for checkpoints. */
export interface AdamWState {
  step: number;
  m: Map<string, tf.Tensor>;
  v: Map<string, tf.Tensor>;
}

/**
 * AdamW exactly as torch.optim.AdamW (decoupled weight decay applied before the Adam update,
 * bias-corrected moments, eps added to the corrected root).
 */
export class AdamW {
  readonly config: AdamWConfig;
  state: AdamWState = { step: 0, m: new Map(), v: new Map() };

  constructor(config: Partial<AdamWConfig> = {}) {
    this.config = { ...DEFAULT_ADAMW, ...config };
  }

  /** One update of every variable with its gradient (keyed by variable name) at learning rate `lr`. */
  apply(vars: Variable[], grads: Record<string, tf.Tensor>, lr: number): void {
    const { beta1, beta2, eps, weightDecay } = this.config;
    this.state.step++;
    const t = this.state.step;
    const bc1 = 1 - beta1 ** t;
    const bc2 = 1 - beta2 ** t;
    for (const v of vars) {
      const g = grads[v.name];
      if (!g) continue;
      const m0 = this.state.m.get(v.name);
      const v0 = this.state.v.get(v.name);
      const [m1, v1] = tf.tidy(() => {
        const m = tf.add(tf.mul(m0 ?? tf.zerosLike(v), beta1), tf.mul(g, 1 - beta1));
        const s = tf.add(tf.mul(v0 ?? tf.zerosLike(v), beta2), tf.mul(tf.square(g), 1 - beta2));
        const decayed = tf.mul(v, 1 - lr * weightDecay);
        const denom = tf.add(tf.div(tf.sqrt(s), Math.sqrt(bc2)), eps);
        v.assign(tf.sub(decayed, tf.mul(tf.div(m, denom), lr / bc1)));
        return [tf.keep(m), tf.keep(s)];
      });
      m0?.dispose();
      v0?.dispose();
      this.state.m.set(v.name, m1);
      this.state.v.set(v.name, v1);
    }
  }

  /** Frees the moment tensors. */
  dispose(): void {
    for (const t of [...this.state.m.values(), ...this.state.v.values()]) t.dispose();
    this.state = { step: 0, m: new Map(), v: new Map() };
  }
}

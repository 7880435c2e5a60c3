// AdamW with exactly torch.optim.AdamW's update (amsgrad=False, maximize=False), per parameter:
//   step += 1
//   p     *= 1 - lr * weight_decay                    (decoupled weight decay, applied first)
//   m      = beta1 * m + (1 - beta1) * g
//   v      = beta2 * v + (1 - beta2) * g * g
//   denom  = sqrt(v) / sqrt(1 - beta2^step) + eps
//   p     -= lr / (1 - beta1^step) * m / denom
// State is keyed by parameter NAME (not by variable identity), so it survives a model rebuild and
// is saved and resumed as plain Float32Arrays. All tensor math is float32 like torch's on CPU/GPU.
import * as tf from '@tensorflow/tfjs-core';
import { OptimizerConfigError, OptimizerMismatchError, OptimizerStateError } from './errors.js';

export interface AdamWOptions {
  /** Learning rate (torch default 1e-3); `step(grads, lr)` overrides it per step (schedules). */
  lr: number;
  /** (beta1, beta2), torch default (0.9, 0.999); openpi uses (0.9, 0.95). */
  betas: [number, number];
  /** torch default 1e-8. */
  eps: number;
  /** Decoupled weight decay, torch default 1e-2; openpi uses 1e-10. */
  weightDecay: number;
  /** Parameters that get no weight decay (a second torch param group with weight_decay=0). */
  noWeightDecay?: (name: string) => boolean;
}

export const TORCH_ADAMW_DEFAULTS: AdamWOptions = { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2 };

/** One parameter's state as live tensors (owned by the optimiser: read, do not dispose). */
export interface AdamWParamState {
  step: number;
  expAvg: tf.Tensor;
  expAvgSq: tf.Tensor;
}
export interface AdamWState {
  params: Map<string, AdamWParamState>;
}

/** One parameter's state as plain data (torch's exp_avg / exp_avg_sq / step). */
export interface AdamWParamStateData {
  step: number;
  shape: number[];
  expAvg: Float32Array;
  expAvgSq: Float32Array;
}
export interface AdamWStateData {
  params: Map<string, AdamWParamStateData>;
}

function checkOptions(o: AdamWOptions): void {
  const bad = (what: string): never => {
    throw new OptimizerConfigError(`AdamW: ${what}`);
  };
  if (!(Number.isFinite(o.lr) && o.lr >= 0)) bad(`lr must be a finite number >= 0, got ${o.lr}`);
  if (!(o.betas.length === 2 && o.betas.every((b) => b >= 0 && b < 1)))
    bad(`betas must be two numbers in [0, 1), got [${o.betas.join(', ')}]`);
  if (!(o.eps >= 0 && Number.isFinite(o.eps))) bad(`eps must be >= 0, got ${o.eps}`);
  if (!(o.weightDecay >= 0 && Number.isFinite(o.weightDecay))) bad(`weight_decay must be >= 0, got ${o.weightDecay}`);
}

const sameShape = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((d, i) => d === b[i]);

export class AdamW {
  readonly params: Map<string, tf.Variable>;
  readonly options: AdamWOptions;
  private readonly st = new Map<string, AdamWParamState>();

  constructor(params: Map<string, tf.Variable>, opts: Partial<AdamWOptions> = {}) {
    this.options = { ...TORCH_ADAMW_DEFAULTS, ...opts };
    checkOptions(this.options);
    this.params = new Map(params);
  }

  /** The learning rate used when `step` gets none. */
  get lr(): number {
    return this.options.lr;
  }

  /**
   * One AdamW step. `grads` maps parameter names to gradients (extra names throw; parameters
   * without a gradient are skipped, as torch skips `p.grad is None`). `lr` overrides options.lr.
   * The gradient tensors are not disposed.
   */
  step(grads: Map<string, tf.Tensor>, lr?: number): void {
    const rate = lr ?? this.options.lr;
    if (!(Number.isFinite(rate) && rate >= 0))
      throw new OptimizerConfigError(`AdamW.step: lr must be a finite number >= 0, got ${rate}`);
    for (const [name, g] of grads) {
      const p = this.params.get(name);
      if (p === undefined)
        throw new OptimizerMismatchError(
          `AdamW.step: gradient for '${name}', which is not one of the optimiser's ${this.params.size} parameters; build the optimiser over the same named parameters the gradients come from`,
        );
      if (!sameShape(p.shape, g.shape))
        throw new OptimizerMismatchError(
          `AdamW.step: gradient for '${name}' has shape [${g.shape.join(', ')}], the parameter [${p.shape.join(', ')}]`,
        );
    }
    const [b1, b2] = this.options.betas;
    const eps = this.options.eps;
    for (const [name, g] of grads) {
      const p = this.params.get(name)!;
      let s = this.st.get(name);
      if (s === undefined) {
        s = { step: 0, expAvg: tf.keep(tf.zerosLike(p)), expAvgSq: tf.keep(tf.zerosLike(p)) };
        this.st.set(name, s);
      }
      const step = s.step + 1;
      const wd = this.options.noWeightDecay?.(name) ? 0 : this.options.weightDecay;
      const bc1 = 1 - b1 ** step;
      const bc2Sqrt = Math.sqrt(1 - b2 ** step);
      const stepSize = rate / bc1;
      const [m, v, np] = tf.tidy(() => {
        const gf = g.dtype === 'float32' ? g : tf.cast(g, 'float32');
        const pd = wd !== 0 ? tf.mul(p, 1 - rate * wd) : p;
        const m1 = tf.add(tf.mul(s.expAvg, b1), tf.mul(gf, 1 - b1));
        const v1 = tf.add(tf.mul(s.expAvgSq, b2), tf.mul(tf.mul(gf, 1 - b2), gf));
        const denom = tf.add(tf.div(tf.sqrt(v1), bc2Sqrt), eps);
        const np1 = tf.add(pd, tf.mul(tf.div(m1, denom), -stepSize));
        return [tf.keep(m1), tf.keep(v1), np1];
      });
      p.assign(np);
      np.dispose();
      s.expAvg.dispose();
      s.expAvgSq.dispose();
      s.expAvg = m;
      s.expAvgSq = v;
      s.step = step;
    }
  }

  /** The live state (owned by the optimiser: read it, do not dispose it; valid until the next step/load). */
  state(): AdamWState {
    return { params: new Map([...this.st].map(([n, s]) => [n, { ...s }])) };
  }

  /**
   * The state as plain Float32Arrays (torch's exp_avg, exp_avg_sq, step), for checkpoints. Async: read
   * back from the device without a synchronous read (WebGPU in Node has none).
   */
  async exportState(): Promise<AdamWStateData> {
    const out = new Map<string, AdamWParamStateData>();
    for (const [n, s] of this.st) {
      out.set(n, {
        step: s.step,
        shape: [...s.expAvg.shape],
        expAvg: Float32Array.from((await s.expAvg.data()) as Float32Array),
        expAvgSq: Float32Array.from((await s.expAvgSq.data()) as Float32Array),
      });
    }
    return { params: out };
  }

  /**
   * Replaces the state (tensors are copied; the caller keeps ownership of its tensors). Throws
   * naming every unknown parameter, shape mismatch and, unless `allowMissing`, every parameter the
   * state lacks — a resume must never silently restart the moments.
   */
  load(state: AdamWState | AdamWStateData, opts: { allowMissing?: boolean } = {}): void {
    const problems: string[] = [];
    for (const [n, s] of state.params) {
      const p = this.params.get(n);
      const shape = 'shape' in s ? s.shape : s.expAvg.shape;
      const shapeSq = 'shape' in s ? s.shape : s.expAvgSq.shape;
      if (p === undefined) problems.push(`unexpected '${n}' (no such parameter)`);
      else if (!sameShape(p.shape, shape) || !sameShape(p.shape, shapeSq))
        problems.push(`'${n}': state shape [${shape.join(', ')}] != parameter [${p.shape.join(', ')}]`);
      else if ('shape' in s && (s.expAvg.length !== p.size || s.expAvgSq.length !== p.size))
        problems.push(`'${n}': state has ${s.expAvg.length}/${s.expAvgSq.length} values, parameter ${p.size}`);
      if (!(Number.isInteger(s.step) && s.step >= 0))
        problems.push(`'${n}': step must be an integer >= 0, got ${s.step}`);
    }
    if (!opts.allowMissing)
      for (const n of this.params.keys()) if (!state.params.has(n)) problems.push(`missing '${n}'`);
    if (problems.length > 0) {
      throw new OptimizerStateError(
        `AdamW.load: the state does not fit the parameters (${problems.length} problem(s)): ${problems.slice(0, 20).join('; ')}${problems.length > 20 ? ' ...' : ''}. Resume with the same trainable parameter set the checkpoint was written with.`,
      );
    }
    this.reset();
    for (const [n, s] of state.params) {
      const p = this.params.get(n)!;
      const m = 'shape' in s ? tf.tensor(s.expAvg, p.shape, 'float32') : tf.clone(s.expAvg);
      const v = 'shape' in s ? tf.tensor(s.expAvgSq, p.shape, 'float32') : tf.clone(s.expAvgSq);
      this.st.set(n, { step: s.step, expAvg: tf.keep(m), expAvgSq: tf.keep(v) });
    }
  }

  /** Drops all state (moments and step counters). */
  reset(): void {
    for (const s of this.st.values()) {
      s.expAvg.dispose();
      s.expAvgSq.dispose();
    }
    this.st.clear();
  }

  dispose(): void {
    this.reset();
  }
}

// LoraLinear: PEFT's lora.Linear on tfjs. y = base(x) + B(A(dropout(x))) * scaling.
//
// Module tree (so namedParameters gives PEFT's state-dict names):
//   base_layer.weight [out, in]   base_layer.bias [out]          (frozen)
//   lora_A.<adapter>.weight [r, in]   lora_B.<adapter>.weight [out, r]   (trainable)
// The LoRA branch uses plain 2-D matMuls forward and backward (see matmul.ts), and the base weight's
// gradient is never computed while it is frozen.
import * as tf from '@tensorflow/tfjs-core';
import { ModuleBase, ModuleDict } from './module.js';
import { Linear, linearApply, type LinearLike } from './linear.js';
import { flattenLeading, loraDelta2d, loraLinear2d } from './matmul.js';
import { loraScaling, type LoraInit } from './config.js';
import { LoraConfigError, MergeError, ShapeMismatchError } from './errors.js';

export interface LoraLinearOptions {
  r: number;
  alpha: number;
  useRslora?: boolean;
  dropout?: number;
  init?: LoraInit;
  adapterName?: string;
  /** Seed for A/B init and the dropout masks. Undefined: random. */
  seed?: number;
}

/** Simple deterministic 32-bit mixer for deriving per-call seeds (dropout masks). */
function mix(a: number, b: number): number {
  let h = (Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x7f4a7c15, 0xc2b2ae35)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d) >>> 0;
  h ^= h >>> 15;
  return h >>> 0;
}

export class LoraLinear extends ModuleBase implements LinearLike {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly r: number;
  readonly alpha: number;
  readonly useRslora: boolean;
  readonly dropout: number;
  readonly adapterName: string;
  /** True while B A * scaling is folded into the base weight. */
  merged = false;
  /** False disables the adapter (the output is the base layer's), like PEFT's disable_adapter(). */
  adapterEnabled = true;
  private readonly seed: number | undefined;
  /**
   * How many dropout masks this layer has drawn (the seeded mask sequence's position). Save it with
   * a checkpoint and set it back on resume for bit-identical dropout (see `dropoutState`).
   */
  dropoutCalls = 0;

  constructor(base: Linear, opts: LoraLinearOptions) {
    super();
    if (!Number.isInteger(opts.r) || opts.r <= 0)
      throw new LoraConfigError(`LoRA rank must be a positive integer, got ${opts.r}`);
    const dropout = opts.dropout ?? 0;
    if (!(dropout >= 0 && dropout < 1)) throw new LoraConfigError(`lora_dropout must be in [0, 1), got ${dropout}`);
    const adapterName = opts.adapterName ?? 'default';
    if (adapterName === '' || adapterName.includes('.'))
      throw new LoraConfigError(`adapter name '${adapterName}' must be non-empty and contain no '.'`);
    this.inFeatures = base.inFeatures;
    this.outFeatures = base.outFeatures;
    this.r = opts.r;
    this.alpha = opts.alpha;
    this.useRslora = opts.useRslora ?? false;
    this.dropout = dropout;
    this.adapterName = adapterName;
    this.seed = opts.seed;
    this.training = base.training;

    base.setTrainable(false); // PEFT bias='none': the whole base layer is frozen
    this.registerChild('base_layer', base);
    const { a, b } = initLoraWeights(this.inFeatures, this.outFeatures, this.r, opts.init ?? true, opts.seed);
    const la = new Linear(this.inFeatures, this.r, { weight: a });
    const lb = new Linear(this.r, this.outFeatures, { weight: b });
    this.registerChild('lora_A', new ModuleDict([[adapterName, la]]));
    this.registerChild('lora_B', new ModuleDict([[adapterName, lb]]));
  }

  /** alpha / r, or alpha / sqrt(r) with rsLoRA. */
  get scaling(): number {
    return loraScaling(this.alpha, this.r, this.useRslora);
  }
  get baseLayer(): Linear {
    return this.child<Linear>('base_layer');
  }
  /** lora_A.<adapter>.weight, [r, in]. */
  get loraA(): tf.Variable {
    return (this.child<ModuleDict>('lora_A').get(this.adapterName) as Linear).weight;
  }
  /** lora_B.<adapter>.weight, [out, r]. */
  get loraB(): tf.Variable {
    return (this.child<ModuleDict>('lora_B').get(this.adapterName) as Linear).weight;
  }
  /** The base weight [out, in] (PEFT's `lora_layer.weight` is the base layer's weight too). */
  get weight(): tf.Variable {
    return this.baseLayer.weight;
  }
  get bias(): tf.Variable | null {
    return this.baseLayer.bias;
  }

  /** scaling * B A, [out, in] (PEFT's get_delta_weight). */
  deltaWeight(): tf.Tensor2D {
    return tf.tidy(
      () => tf.mul(tf.matMul(this.loraB as tf.Tensor2D, this.loraA as tf.Tensor2D), this.scaling) as tf.Tensor2D,
    );
  }

  /** W + scaling B A when not merged (W already holds it when merged). */
  effectiveWeight(): tf.Tensor2D {
    if (this.merged || !this.adapterEnabled) return tf.clone(this.weight) as tf.Tensor2D;
    return tf.tidy(() => tf.add(this.weight, this.deltaWeight()) as tf.Tensor2D);
  }

  apply(x: tf.Tensor): tf.Tensor {
    const base = this.baseLayer;
    if (this.merged || !this.adapterEnabled) return base.apply(x);
    const a = this.loraA;
    const b = this.loraB;
    if (this.training && this.dropout > 0) {
      // dropout only on the LoRA input: base and LoRA branch see different inputs, two ops
      return tf.tidy(() => {
        const y = linearApply(x, base.weight, base.bias, this.inFeatures);
        const { x2d, lead } = flattenLeading(x);
        const d = loraDelta2d(
          this.applyDropout(x2d),
          a as tf.Tensor2D,
          b as tf.Tensor2D,
          this.scaling,
          a.trainable,
          b.trainable,
        );
        return tf.add(y, x.rank === 2 ? d : tf.reshape(d, [...lead, this.outFeatures]));
      });
    }
    if (x.shape[x.rank - 1] !== this.inFeatures) {
      throw new ShapeMismatchError(
        `LoraLinear: input last dim ${x.shape[x.rank - 1]} != in_features ${this.inFeatures} (input shape [${x.shape.join(', ')}])`,
      );
    }
    return tf.tidy(() => {
      const { x2d, lead } = flattenLeading(x);
      const w = base.weight;
      const bias = base.bias;
      const y = loraLinear2d(
        x2d,
        w as tf.Tensor2D,
        bias as tf.Tensor1D | null,
        a as tf.Tensor2D,
        b as tf.Tensor2D,
        this.scaling,
        {
          weight: w.trainable,
          bias: bias?.trainable ?? false,
          a: a.trainable,
          b: b.trainable,
        },
      );
      return x.rank === 2 ? y : tf.reshape(y, [...lead, this.outFeatures]);
    });
  }

  private applyDropout(x: tf.Tensor2D): tf.Tensor2D {
    const p = this.dropout;
    const seed = this.seed === undefined ? undefined : mix(this.seed, this.dropoutCalls++);
    const u = tf.randomUniform(x.shape, 0, 1, 'float32', seed);
    // torch.nn.Dropout: zero with probability p, scale survivors by 1 / (1 - p).
    const mask = tf.div(tf.cast(tf.greaterEqual(u, p), 'float32'), 1 - p);
    return tf.mul(x, mask) as tf.Tensor2D;
  }

  /**
   * Folds scaling * B A into the base weight (PEFT merge). With `safe`, computes the merged weight
   * first and refuses to write it when it holds NaN/Inf. Async: the safe check reads the device
   * asynchronously (WebGPU in Node has no synchronous read).
   */
  async merge(opts: { safe?: boolean } = {}): Promise<void> {
    if (this.merged) throw new MergeError('adapter already merged; call unmerge() first');
    const merged = tf.tidy(() => tf.add(this.weight, this.deltaWeight()));
    if (opts.safe) {
      const allFinite = tf.tidy(() => tf.all(tf.isFinite(merged)));
      const finite = (await allFinite.data())[0] === 1;
      allFinite.dispose();
      if (!finite) {
        merged.dispose();
        throw new MergeError('merging would produce NaN/Inf in the base weight; the adapter is broken — not merged');
      }
    }
    this.weight.assign(merged);
    merged.dispose();
    this.merged = true;
  }

  /** Subtracts scaling * B A from the base weight again (exact inverse up to fp32 rounding). */
  unmerge(): void {
    if (!this.merged) throw new MergeError('adapter is not merged; nothing to unmerge');
    const w = tf.tidy(() => tf.sub(this.weight, this.deltaWeight()));
    this.weight.assign(w);
    w.dispose();
    this.merged = false;
  }
}

/** PEFT's reset_lora_parameters for Linear, plus openpi's N(0, 0.01) for both. Row-major [r,in] and [out,r]. */
export function initLoraWeights(
  inF: number,
  outF: number,
  r: number,
  init: LoraInit,
  seed?: number,
): { a: Float32Array; b: Float32Array } {
  return tf.tidy(() => {
    const sA = seed === undefined ? undefined : mix(seed, 1);
    const sB = seed === undefined ? undefined : mix(seed, 2);
    let a: tf.Tensor;
    let b: tf.Tensor;
    if (init === 'openpi') {
      a = tf.randomNormal([r, inF], 0, 0.01, 'float32', sA);
      b = tf.randomNormal([outF, r], 0, 0.01, 'float32', sB);
    } else if (init === 'gaussian') {
      a = tf.randomNormal([r, inF], 0, 1 / r, 'float32', sA);
      b = tf.zeros([outF, r]);
    } else {
      // kaiming_uniform_(a=sqrt(5)) on [r, in]: bound = sqrt(6 / ((1 + 5) * fan_in)) = 1 / sqrt(in)
      const bound = 1 / Math.sqrt(inF);
      a = tf.randomUniform([r, inF], -bound, bound, 'float32', sA);
      // init False keeps nn.Linear(r, out)'s default on B: U(±1/sqrt(r)); True zeroes it
      b =
        init === false
          ? tf.randomUniform([outF, r], -1 / Math.sqrt(r), 1 / Math.sqrt(r), 'float32', sB)
          : tf.zeros([outF, r]);
    }
    // sync-read-ok: tfjs's random ops and zeros fill a TensorBuffer on the CPU; the values are still
    // host-side (never uploaded), so dataSync copies them without a device read on any backend.
    return { a: Float32Array.from(a.dataSync()), b: Float32Array.from(b.dataSync()) };
  });
}

// A PyTorch nn.Linear on tfjs, with the fast 2-D matMul path forward and backward.
//
// Layout: the weight variable is stored in PyTorch's layout, [out, in], under the name `weight`
// (and `bias` [out]), so `namedParameters` gives PyTorch's names AND shapes, gradients come out in
// the shape of the file tensors, and loading is a copy. Measured alternative: keeping the [in, out]
// kernel saves the forward transpose of W but costs a transpose of W and of x in the backward;
// with [out, in] the forward transposes W (small next to the matMul) and the backward transposes
// only dy when W is trainable — the same number of copies, and none for a frozen base weight's
// backward (dx = dy W is a plain matMul).
import * as tf from '@tensorflow/tfjs-core';
import { ModuleBase, type Module, type WeightSource } from './module.js';
import { flattenLeading, linear2d } from './matmul.js';
import { ShapeMismatchError } from './errors.js';
import { assertBufferFits } from './buffer-limits.js';

/** What callers of a linear layer may rely on; both `Linear` and `LoraLinear` implement it. */
export interface LinearLike extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** The (base) weight variable, PyTorch layout [out, in]. */
  readonly weight: tf.Variable;
  /** The bias variable [out], or null. */
  readonly bias: tf.Variable | null;
  /** [..., in] -> [..., out]. */
  apply(x: tf.Tensor): tf.Tensor;
  /** The weight the forward effectively uses, [out, in] (a new tensor; dispose it). */
  effectiveWeight(): tf.Tensor2D;
}

export interface LinearOptions {
  bias?: boolean;
  /** Initial weight, PyTorch layout [out, in] row-major. Default: PyTorch's nn.Linear init. */
  weight?: Float32Array;
  /** Initial bias [out]. Default: PyTorch's init (uniform ±1/sqrt(in)). */
  biasData?: Float32Array;
  /** Whether the parameters are trainable. Default true. */
  trainable?: boolean;
  /** Seed for the default init (deterministic tests). */
  seed?: number;
  /**
   * A frozen weight kept outside the backend ([out, in], e.g. bf16 in a file): no Variable is
   * allocated; the weight exists only inside `withStreamedWeights` (and `trainable` must be false).
   */
  weightSource?: WeightSource;
  /** The same for the bias [out] (implies a bias). */
  biasSource?: WeightSource;
}

/** Checks a PyTorch-layout buffer against a shape and makes a tensor of it. */
export function tensorFromPytorch<R extends tf.Rank>(
  data: Float32Array,
  shape: number[],
  what = 'tensor',
): tf.Tensor<R> {
  const n = shape.reduce((a, b) => a * b, 1);
  if (data.length !== n) {
    throw new ShapeMismatchError(
      `${what}: got ${data.length} values, shape [${shape.join(', ')}] needs ${n}; check the file's shape (PyTorch Linear weights are [out, in])`,
    );
  }
  return tf.tensor(data, shape, 'float32') as unknown as tf.Tensor<R>;
}

/**
 * Assigns PyTorch-layout values into a variable after checking the element count and (if given)
 * the source shape; throws `ShapeMismatchError` naming the parameter otherwise.
 */
export function assignFromPytorch(v: tf.Variable, data: Float32Array, shape?: number[], name = 'parameter'): void {
  if (shape !== undefined && (shape.length !== v.shape.length || shape.some((d, i) => d !== v.shape[i]))) {
    throw new ShapeMismatchError(
      `${name}: file shape [${shape.join(', ')}] != parameter shape [${v.shape.join(', ')}]`,
    );
  }
  const t = tensorFromPytorch(data, v.shape, name);
  v.assign(t);
  t.dispose();
}

export class Linear extends ModuleBase implements LinearLike {
  readonly inFeatures: number;
  readonly outFeatures: number;

  constructor(inFeatures: number, outFeatures: number, opts: LinearOptions = {}) {
    super();
    if (!Number.isInteger(inFeatures) || inFeatures <= 0 || !Number.isInteger(outFeatures) || outFeatures <= 0) {
      throw new ShapeMismatchError(`Linear(${inFeatures}, ${outFeatures}): features must be positive integers`);
    }
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    const trainable = opts.trainable ?? true;
    if (opts.weightSource !== undefined) {
      const check = (src: WeightSource, shape: number[], what: string): void => {
        if (src.shape.length !== shape.length || src.shape.some((d, i) => d !== shape[i]))
          throw new ShapeMismatchError(`Linear ${what} source is [${src.shape}], expected [${shape}]`);
      };
      if (trainable) throw new ShapeMismatchError('a streamed Linear weight is frozen: pass { trainable: false }');
      check(opts.weightSource, [outFeatures, inFeatures], 'weight');
      this.registerStreamed('weight', opts.weightSource);
      if (opts.biasSource !== undefined) {
        check(opts.biasSource, [outFeatures], 'bias');
        this.registerStreamed('bias', opts.biasSource);
      }
      return;
    }
    // a streamed weight (above) is never one buffer of this size unless its block materialises it
    assertBufferFits(`Linear(${inFeatures}, ${outFeatures}) weight`, [outFeatures, inFeatures]);
    const bound = 1 / Math.sqrt(inFeatures); // PyTorch: kaiming_uniform(a=sqrt(5)) => U(±1/sqrt(in)); bias U(±1/sqrt(in))
    const w = opts.weight
      ? tensorFromPytorch<tf.Rank.R2>(opts.weight, [outFeatures, inFeatures], 'Linear weight')
      : tf.randomUniform([outFeatures, inFeatures], -bound, bound, 'float32', opts.seed);
    this.registerParameter('weight', tf.variable(w, trainable));
    w.dispose();
    if (opts.bias ?? false) {
      const b = opts.biasData
        ? tensorFromPytorch<tf.Rank.R1>(opts.biasData, [outFeatures], 'Linear bias')
        : tf.randomUniform(
            [outFeatures],
            -bound,
            bound,
            'float32',
            opts.seed === undefined ? undefined : opts.seed + 1,
          );
      this.registerParameter('bias', tf.variable(b, trainable));
      b.dispose();
    }
  }

  /** A Linear from PyTorch-layout buffers: weight [out, in], optional bias [out]. */
  static fromPytorch(
    weight: Float32Array,
    shape: [number, number],
    bias?: Float32Array,
    opts: { trainable?: boolean } = {},
  ): Linear {
    const [out, inF] = shape;
    return new Linear(inF, out, {
      weight,
      bias: bias !== undefined,
      ...(bias !== undefined ? { biasData: bias } : {}),
      trainable: opts.trainable ?? true,
    });
  }

  get weight(): tf.Variable {
    return this.parameter('weight')!;
  }
  get bias(): tf.Variable | null {
    return this.parameter('bias') ?? null;
  }

  /** Loads PyTorch-layout values (weight [out, in], bias [out]); checks lengths. */
  loadPytorch(weight: Float32Array, bias?: Float32Array): void {
    assignFromPytorch(this.weight, weight, undefined, 'Linear weight');
    if (bias !== undefined) {
      const b = this.bias;
      if (b === null)
        throw new ShapeMismatchError('Linear has no bias but a bias was given; construct it with { bias: true }');
      assignFromPytorch(b, bias, undefined, 'Linear bias');
    }
  }

  /** Marks weight and bias (un)trainable. */
  setTrainable(trainable: boolean): void {
    if (trainable && this.ownStreamedParameters().length > 0)
      throw new ShapeMismatchError(
        'this Linear streams its frozen weight from a file; train it with LoRA, or load it resident',
      );
    for (const [, v] of this.ownParameters()) v.trainable = trainable;
  }

  apply(x: tf.Tensor): tf.Tensor {
    return linearApply(x, this.weight, this.bias, this.inFeatures);
  }

  effectiveWeight(): tf.Tensor2D {
    return tf.clone(this.weight) as tf.Tensor2D;
  }
}

/** y = x W^T + b over the last axis of x, with the plain-matMul gradients (see matmul.ts). */
export function linearApply(
  x: tf.Tensor,
  weight: tf.Variable | tf.Tensor,
  bias: tf.Variable | tf.Tensor | null,
  inFeatures: number,
): tf.Tensor {
  if (x.shape[x.rank - 1] !== inFeatures) {
    throw new ShapeMismatchError(
      `linear: input last dim ${x.shape[x.rank - 1]} != in_features ${inFeatures} (input shape [${x.shape.join(', ')}])`,
    );
  }
  return tf.tidy(() => {
    const outF = weight.shape[0]!;
    const { x2d, lead } = flattenLeading(x);
    const wantW = weight instanceof tf.Variable ? weight.trainable : true;
    const wantB = bias === null ? false : bias instanceof tf.Variable ? bias.trainable : true;
    const y = linear2d(x2d, weight as tf.Tensor2D, bias as tf.Tensor1D | null, wantW, wantB);
    return x.rank === 2 ? y : tf.reshape(y, [...lead, outF]);
  });
}

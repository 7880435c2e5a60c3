import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../test/backend.js';
import { Linear, linearApply } from './linear.js';
import {
  ModuleBase,
  ModuleList,
  namedModules,
  namedParameters,
  getModule,
  replaceModule,
  type Module,
} from './module.js';
import { ShapeMismatchError, ModulePathError } from './errors.js';
import { lcgFloats as rand } from '@vla-lora/seeded-random/test-support';
import { maxAbsDiff } from '@vla-lora/vitest-config/compare';

beforeAll(async () => {
  await useBackend('wasm');
});

/** Reference: y[n,o] = sum_i x[n,i] W[o,i] + b[o], in float64. */
function refLinear(
  x: Float32Array,
  n: number,
  inF: number,
  w: Float32Array,
  outF: number,
  b?: Float32Array,
): Float64Array {
  const y = new Float64Array(n * outF);
  for (let r = 0; r < n; r++)
    for (let o = 0; o < outF; o++) {
      let s = b ? b[o]! : 0;
      for (let i = 0; i < inF; i++) s += x[r * inF + i]! * w[o * inF + i]!;
      y[r * outF + o] = s;
    }
  return y;
}

describe('Linear', () => {
  it('computes x W^T + b with W in PyTorch layout [out, in], flattening leading dims', async () => {
    const [inF, outF] = [5, 3];
    const w = rand(outF * inF, 1);
    const b = rand(outF, 2);
    const lin = Linear.fromPytorch(w, [outF, inF], b);
    expect(lin.weight.shape).toEqual([outF, inF]);
    expect(lin.bias!.shape).toEqual([outF]);
    const x = rand(2 * 4 * inF, 3);
    const y = lin.apply(tf.tensor(x, [2, 4, inF]));
    expect(y.shape).toEqual([2, 4, outF]);
    expect(maxAbsDiff(await y.data(), refLinear(x, 8, inF, w, outF, b))).toBeLessThan(1e-5);
  });

  it('gradients equal tfjs autodiff of the naive matMul (dx, dW, db)', async () => {
    const [inF, outF, n] = [7, 4, 6];
    const w = rand(outF * inF, 4);
    const b = rand(outF, 5);
    const lin = Linear.fromPytorch(w, [outF, inF], b);
    const x = tf.tensor(rand(2 * 3 * inF, 6), [2, 3, inF]);
    const cot = tf.tensor(rand(n * outF, 7), [2, 3, outF]);
    const ours = tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
      tf.sum(tf.mul(linearApply(xx, ww, bb, inF), cot)),
    );
    const naive = tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
      tf.sum(
        tf.mul(
          tf.add(
            tf.reshape(tf.matMul(tf.reshape(xx, [-1, inF]) as tf.Tensor2D, ww as tf.Tensor2D, false, true), [
              2,
              3,
              outF,
            ]),
            bb,
          ),
          cot,
        ),
      ),
    );
    const g1 = ours([x, lin.weight, lin.bias!]);
    const g2 = naive([x, lin.weight, lin.bias!]);
    for (let i = 0; i < 3; i++) {
      expect(g1[i]!.shape).toEqual(g2[i]!.shape);
      expect(maxAbsDiff(await g1[i]!.data(), await g2[i]!.data())).toBeLessThan(1e-5);
    }
  });

  it('variableGrads reaches a trainable weight and skips a frozen one', async () => {
    const lin = new Linear(4, 3, { bias: true, seed: 1 });
    const x = tf.tensor(rand(8, 9), [2, 4]);
    const { grads } = tf.variableGrads(() => tf.sum(lin.apply(x)) as tf.Scalar, [lin.weight, lin.bias!]);
    expect(Object.keys(grads)).toHaveLength(2);
    expect(grads[lin.weight.name]!.shape).toEqual([3, 4]);
    // dW[o, i] = sum_n x[n, i] for a sum loss
    const xs = (await x.array()) as number[][];
    const dW = (await grads[lin.weight.name]!.array()) as number[][];
    for (let o = 0; o < 3; o++) for (let i = 0; i < 4; i++) expect(dW[o]![i]).toBeCloseTo(xs[0]![i]! + xs[1]![i]!, 5);
    expect(Array.from(await grads[lin.bias!.name]!.data())).toEqual([2, 2, 2]);

    lin.setTrainable(false);
    const x2 = tf.variable(x);
    const r = tf.variableGrads(() => tf.sum(lin.apply(x2)) as tf.Scalar);
    expect(Object.keys(r.grads)).toEqual([x2.name]);
  });

  it('rejects a wrong-sized buffer and a wrong input width with a typed error', async () => {
    expect(() => Linear.fromPytorch(new Float32Array(5), [2, 3])).toThrow(ShapeMismatchError);
    const lin = new Linear(3, 2);
    expect(() => lin.apply(tf.zeros([2, 4]))).toThrow(/in_features 3/);
    expect(() => lin.loadPytorch(new Float32Array(6), new Float32Array(2))).toThrow(/no bias/);
  });

  it('does not leak tensors per call', async () => {
    const lin = new Linear(8, 8, { bias: true });
    const x = tf.ones([2, 3, 8]);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      const { value, grads } = tf.variableGrads(() => tf.sum(lin.apply(x)) as tf.Scalar, [lin.weight]);
      value.dispose();
      tf.dispose(grads);
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});

class Block extends ModuleBase {
  constructor() {
    super();
    this.registerChild('q_proj', new Linear(4, 4, { seed: 1 }));
    this.registerChild('o_proj', new Linear(4, 4, { bias: true, seed: 2 }));
  }
}
class Model extends ModuleBase {
  readonly tied: Linear;
  constructor() {
    super();
    this.tied = new Linear(4, 6, { seed: 3 });
    this.registerChild('embed', this.tied);
    this.registerChild('layers', new ModuleList([new Block(), new Block()]));
    this.registerChild('head', this.tied); // tied: same module twice
  }
}

describe('module tree', () => {
  it('names modules and parameters as PyTorch does (root "", dotted paths, tied weights once)', async () => {
    const m = new Model();
    expect(namedModules(m).map(([n]) => n)).toEqual([
      '',
      'embed',
      'layers',
      'layers.0',
      'layers.0.q_proj',
      'layers.0.o_proj',
      'layers.1',
      'layers.1.q_proj',
      'layers.1.o_proj',
    ]);
    expect(namedParameters(m).map(([n, v]) => `${n}:${v.shape.join('x')}`)).toEqual([
      'embed.weight:6x4',
      'layers.0.q_proj.weight:4x4',
      'layers.0.o_proj.weight:4x4',
      'layers.0.o_proj.bias:4',
      'layers.1.q_proj.weight:4x4',
      'layers.1.o_proj.weight:4x4',
      'layers.1.o_proj.bias:4',
    ]);
    expect(namedParameters(m, { removeDuplicate: false }).map(([n]) => n)).toContain('head.weight');
  });

  it('getModule / replaceModule address children by dotted path and keep order', async () => {
    const m = new Model();
    const q = getModule(m, 'layers.1.q_proj');
    expect(q).toBeInstanceOf(Linear);
    const repl: Module = new Linear(4, 4);
    replaceModule(m, 'layers.1.q_proj', repl);
    expect(getModule(m, 'layers.1.q_proj')).toBe(repl);
    expect(
      namedModules(m)
        .map(([n]) => n)
        .indexOf('layers.1.q_proj'),
    ).toBe(7);
    expect(() => getModule(m, 'layers.2.q_proj')).toThrow(ModulePathError);
    expect(() => replaceModule(m, 'layers.0.k_proj', repl)).toThrow(/no child 'k_proj'/);
  });
});

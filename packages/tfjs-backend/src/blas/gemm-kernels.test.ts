// The BLAS GEMM kernels against tfjs-backend-wasm's own (XNNPACK) kernels and a plain float64
// reference, for every transpose / batch / broadcast / fused case; gradients through tf.matMul.
// Needs the system OpenBLAS (CI installs libopenblas0-pthread); without it the BLAS cases skip visibly.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../index.js';
import type { BackendInfo } from '../types.js';
import { BLAS_MULTITHREAD_MIN_MACS, collapsePerm } from './gemm-kernels.js';
import { lcgFloats } from '@vla-lora/seeded-random/test-support';
import { maxAbsDiff } from '@vla-lora/vitest-config/compare';

let blasInfo: BackendInfo;
beforeAll(async () => {
  // blasMinMacs 0: every product goes to BLAS, however small
  blasInfo = await initBackend({ backend: 'wasm', blas: 'auto', blasMinMacs: 0, env: {} });
});

const values = (shape: number[], seed: number): Float32Array =>
  lcgFloats(
    shape.reduce((a, b) => a * b, 1),
    seed,
  );

/** float64 reference with numpy-style batch broadcasting. */
function reference(
  a: Float32Array,
  aShape: number[],
  b: Float32Array,
  bShape: number[],
  ta: boolean,
  tb: boolean,
): { data: Float64Array; shape: number[] } {
  const [ar, br] = [aShape.length, bShape.length];
  const m = ta ? aShape[ar - 1]! : aShape[ar - 2]!;
  const k = ta ? aShape[ar - 2]! : aShape[ar - 1]!;
  const n = tb ? bShape[br - 2]! : bShape[br - 1]!;
  const aB = aShape.slice(0, -2);
  const bB = bShape.slice(0, -2);
  const rank = Math.max(aB.length, bB.length);
  const pa = [...new Array<number>(rank - aB.length).fill(1), ...aB];
  const pb = [...new Array<number>(rank - bB.length).fill(1), ...bB];
  const outB = pa.map((d, i) => Math.max(d, pb[i]!));
  const batch = outB.reduce((x, y) => x * y, 1);
  const data = new Float64Array(batch * m * n);
  for (let i = 0; i < batch; i++) {
    let rest = i;
    let ai = 0;
    let bi = 0;
    let sa = 1;
    let sb = 1;
    for (let d = rank - 1; d >= 0; d--) {
      const idx = rest % outB[d]!;
      rest = Math.floor(rest / outB[d]!);
      ai += (pa[d] === 1 ? 0 : idx) * sa;
      bi += (pb[d] === 1 ? 0 : idx) * sb;
      sa *= pa[d]!;
      sb *= pb[d]!;
    }
    for (let r = 0; r < m; r++)
      for (let c = 0; c < n; c++) {
        let acc = 0;
        for (let j = 0; j < k; j++) {
          const av = a[ai * m * k + (ta ? j * m + r : r * k + j)]!;
          const bv = b[bi * k * n + (tb ? c * k + j : j * n + c)]!;
          acc += av * bv;
        }
        data[i * m * n + r * n + c] = acc;
      }
  }
  return { data, shape: [...outB, m, n] };
}

/** The same product on XNNPACK (the original kernel), then back to BLAS. */
async function onXnnpack<T>(f: () => T): Promise<T> {
  await initBackend({ backend: 'wasm', blas: 'off', registerGradients: false, env: {} });
  try {
    return f();
  } finally {
    await initBackend({ backend: 'wasm', blas: 'auto', blasMinMacs: 0, registerGradients: false, env: {} });
  }
}

const TOL = 2e-5;

const cases: Array<{ name: string; a: number[]; b: number[]; xnnpack: boolean }> = [
  { name: '2-D', a: [7, 5], b: [5, 3], xnnpack: true },
  { name: 'batched, equal batch', a: [4, 6, 5], b: [4, 5, 3], xnnpack: true },
  { name: 'batched a, shared 2-D b (one call)', a: [3, 6, 5], b: [5, 4], xnnpack: true },
  { name: 'shared 2-D a, batched b', a: [6, 5], b: [3, 5, 4], xnnpack: true },
  { name: 'batch 1 against batch 3', a: [1, 6, 5], b: [3, 5, 4], xnnpack: true },
  // XNNPACK's kernel flattens the batch to one dim and cannot broadcast these: reference only
  { name: 'two-sided broadcast [2,1]·[1,3]', a: [2, 1, 6, 5], b: [1, 3, 5, 4], xnnpack: false },
  { name: 'rank 4 · rank 3', a: [2, 3, 6, 5], b: [3, 5, 4], xnnpack: false },
];

describe('BLAS BatchMatMul', () => {
  it('reports the GEMM in use', () => {
    if (blasInfo.gemm?.kernel !== 'blas') {
      console.warn(`SKIPPED BLAS checks: ${blasInfo.description}`);
      return;
    }
    expect(blasInfo.gemm.library).toBeTruthy();
    expect(blasInfo.gemm.vendor).toMatch(/OpenBLAS|CBLAS/);
    expect(blasInfo.description).toContain(`GEMM: ${blasInfo.gemm.vendor}`);
  });

  for (const c of cases)
    for (const ta of [false, true])
      for (const tb of [false, true]) {
        it(`${c.name}, transposeA=${ta}, transposeB=${tb}`, async (ctx) => {
          if (blasInfo.gemm?.kernel !== 'blas') ctx.skip();
          // stored shapes: swap the last two dims of a transposed operand
          const sw = (s: number[], t: boolean): number[] => (t ? [...s.slice(0, -2), s.at(-1)!, s.at(-2)!] : s);
          const aShape = sw(c.a, ta);
          const bShape = sw(c.b, tb);
          const av = values(aShape, 1);
          const bv = values(bShape, 2);
          const a = tf.tensor(av, aShape);
          const b = tf.tensor(bv, bShape);
          const y = tf.matMul(a, b, ta, tb);
          const ref = reference(av, aShape, bv, bShape, ta, tb);
          expect(y.shape).toEqual(ref.shape);
          const got = y.dataSync();
          expect(maxAbsDiff(got, ref.data)).toBeLessThan(TOL);
          if (c.xnnpack) {
            const x = await onXnnpack(() => tf.matMul(a, b, ta, tb));
            expect(x.shape).toEqual(y.shape);
            expect(maxAbsDiff(got, x.dataSync())).toBeLessThan(TOL);
            x.dispose();
          }
          tf.dispose([a, b, y]);
        });
      }

  it('larger products (multi-threaded OpenBLAS) match XNNPACK', async (ctx) => {
    if (blasInfo.gemm?.kernel !== 'blas') ctx.skip();
    const a = tf.tensor(values([2, 200, 300], 3), [2, 200, 300]);
    const b = tf.tensor(values([300, 250], 4), [300, 250]);
    for (const [ta, tb, bb] of [
      [false, false, b],
      [false, true, tf.transpose(b)],
    ] as const) {
      const y = tf.matMul(a, bb, ta, tb);
      const x = await onXnnpack(() => tf.matMul(a, bb, ta, tb));
      expect(maxAbsDiff(y.dataSync(), x.dataSync())).toBeLessThan(1e-4);
      tf.dispose([x, y]);
    }
    tf.dispose([a, b]);
  });

  it('switches between all threads (large products) and one (small ones) with the same results', async (ctx) => {
    if (blasInfo.gemm?.kernel !== 'blas') ctx.skip();
    const big = [tf.tensor(values([512, 256], 14), [512, 256]), tf.tensor(values([256, 512], 15), [256, 512])];
    const small = [tf.tensor(values([64, 32], 16), [64, 32]), tf.tensor(values([32, 48], 17), [32, 48])];
    for (const [a, b] of [big, small, big, small] as tf.Tensor2D[][]) {
      expect(a!.shape[0]! * a!.shape[1]! * b!.shape[1]! >= BLAS_MULTITHREAD_MIN_MACS).toBe(a === big[0]);
      const y = tf.matMul(a!, b!);
      const x = await onXnnpack(() => tf.matMul(a!, b!));
      expect(maxAbsDiff(y.dataSync(), x.dataSync())).toBeLessThan(1e-4);
      tf.dispose([x, y]);
    }
    tf.dispose([...big, ...small]);
  });

  it('leaves no tensors or buffers behind', (ctx) => {
    if (blasInfo.gemm?.kernel !== 'blas') ctx.skip();
    const a = tf.tensor(values([3, 6, 5], 5), [3, 6, 5]);
    const b = tf.tensor(values([5, 4], 6), [5, 4]);
    const bias = tf.ones([4]);
    const before = tf.memory();
    tf.matMul(a, b, false, false).dispose();
    tf.fused.matMul({ a, b, bias, activation: 'relu' }).dispose();
    const after = tf.memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numDataBuffers).toBe(before.numDataBuffers);
    tf.dispose([a, b, bias]);
  });
});

describe('BLAS _FusedMatMul', () => {
  const activations = ['linear', 'relu', 'relu6', 'sigmoid', 'elu', 'leakyrelu', 'prelu'] as const;
  for (const activation of activations)
    for (const biasShape of [null, [4], [6, 4]] as const) {
      it(`activation ${activation}, bias ${biasShape === null ? 'none' : `[${biasShape}]`}`, async (ctx) => {
        if (blasInfo.gemm?.kernel !== 'blas') ctx.skip();
        const a = tf.tensor(values([3, 6, 5], 7), [3, 6, 5]);
        const b = tf.tensor(values([3, 4, 5], 8), [3, 4, 5]);
        const bias = biasShape === null ? undefined : tf.tensor(values([...biasShape], 9), [...biasShape]);
        const prelu = activation === 'prelu' ? tf.tensor(values([4], 10), [4]) : undefined;
        const run = (): tf.Tensor =>
          tf.fused.matMul({
            a,
            b,
            transposeB: true,
            bias,
            activation,
            preluActivationWeights: prelu,
            leakyreluAlpha: 0.3,
          });
        const y = run();
        // the unfused composition on BLAS: matMul, add, activation (tfjs's own ops)
        const unfused = tf.tidy(() => {
          let z = tf.matMul(a, b, false, true);
          if (bias) z = tf.add(z, bias);
          switch (activation) {
            case 'relu':
              return tf.relu(z);
            case 'relu6':
              return tf.relu6(z);
            case 'sigmoid':
              return tf.sigmoid(z);
            case 'elu':
              return tf.elu(z);
            case 'leakyrelu':
              return tf.leakyRelu(z, 0.3);
            case 'prelu':
              return tf.prelu(z, prelu!);
            default:
              return z;
          }
        });
        expect(maxAbsDiff(y.dataSync(), unfused.dataSync())).toBeLessThan(TOL);
        // the XNNPACK path (the fallback): tfjs-backend-wasm's fused kernel takes rank-1 bias only
        if (biasShape === null || biasShape.length === 1) {
          const x = await onXnnpack(run);
          expect(maxAbsDiff(y.dataSync(), x.dataSync())).toBeLessThan(TOL);
          x.dispose();
        }
        tf.dispose([a, b, y, unfused]);
        if (bias) bias.dispose();
        if (prelu) prelu.dispose();
      });
    }
});

describe('gradients through tf.matMul on BLAS', () => {
  for (const [ta, tb] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ] as const) {
    it(`transposeA=${ta}, transposeB=${tb}: equal to XNNPACK's`, async (ctx) => {
      if (blasInfo.gemm?.kernel !== 'blas') ctx.skip();
      const a = tf.tensor(values(ta ? [2, 5, 6] : [2, 6, 5], 11), ta ? [2, 5, 6] : [2, 6, 5]);
      // equal batches: tfjs's BatchMatMul gradient does not sum over a broadcast batch
      const b = tf.tensor(values(tb ? [2, 4, 5] : [2, 5, 4], 12), tb ? [2, 4, 5] : [2, 5, 4]);
      const w = tf.tensor(values([2, 6, 4], 13), [2, 6, 4]);
      const f = (x: tf.Tensor, y: tf.Tensor): tf.Scalar => tf.sum(tf.mul(tf.matMul(x, y, ta, tb), w));
      const g = tf.grads(f);
      const [ga, gb] = g([a, b]);
      const [xa, xb] = await onXnnpack(() => g([a, b]));
      expect(maxAbsDiff(ga!.dataSync(), xa!.dataSync())).toBeLessThan(TOL);
      expect(maxAbsDiff(gb!.dataSync(), xb!.dataSync())).toBeLessThan(TOL);
      // and the analytic gradient of sum(W ⊙ A·B) w.r.t. A: W·Bᵀ (per batch)
      const expectA = tf.matMul(w, b, false, !tb);
      const wantA = ta ? tf.transpose(expectA, [0, 2, 1]) : expectA;
      expect(maxAbsDiff(ga!.dataSync(), wantA.dataSync())).toBeLessThan(TOL);
      tf.dispose([a, b, w, ga!, gb!, xa!, xb!, expectA, wantA]);
    });
  }
});

describe('BLAS Transpose (cblas_somatcopy)', () => {
  it('collapses size-1 dims and dims that stay adjacent', () => {
    expect(collapsePerm([8, 128, 512], [0, 2, 1])).toEqual({ shape: [8, 128, 512], perm: [0, 2, 1] });
    expect(collapsePerm([2, 3, 4, 5], [2, 3, 0, 1])).toEqual({ shape: [6, 20], perm: [1, 0] });
    expect(collapsePerm([1, 64, 1, 32], [3, 1, 2, 0])).toEqual({ shape: [64, 32], perm: [1, 0] });
    expect(collapsePerm([4, 5, 6], [0, 1, 2])).toEqual({ shape: [120], perm: [0] });
    expect(collapsePerm([2, 3, 4, 5], [0, 2, 1, 3])).toEqual({ shape: [2, 3, 4, 5], perm: [0, 2, 1, 3] });
  });

  const perms: Array<[number[], number[]]> = [
    [
      [300, 200],
      [1, 0],
    ],
    [
      [4, 96, 80],
      [0, 2, 1],
    ],
    [
      [1, 128, 1, 64],
      [0, 3, 2, 1],
    ],
    [
      [6, 10, 12, 16],
      [2, 3, 0, 1],
    ],
    [
      [4, 32, 8, 16],
      [0, 2, 1, 3],
    ], // not a matrix transpose: stays on the wasm kernel
    [
      [8, 8],
      [1, 0],
    ], // small: stays on the wasm kernel
  ];
  for (const [shape, perm] of perms)
    it(`[${shape}] perm [${perm}] equals the wasm kernel's, bit for bit`, async (ctx) => {
      if (blasInfo.gemm?.kernel !== 'blas') ctx.skip();
      const x = tf.tensor(values(shape, 21), shape);
      const y = tf.transpose(x, perm);
      const w = await onXnnpack(() => tf.transpose(x, perm));
      expect(y.shape).toEqual(w.shape);
      expect(Array.from(y.dataSync())).toEqual(Array.from(w.dataSync()));
      tf.dispose([x, y, w]);
    });

  it('int32 tensors stay on the wasm kernel and are exact', (ctx) => {
    if (blasInfo.gemm?.kernel !== 'blas') ctx.skip();
    const x = tf.reshape(tf.range(0, 100 * 80, 1, 'int32'), [100, 80]);
    const y = tf.transpose(x);
    expect(y.dtype).toBe('int32');
    const d = y.dataSync();
    expect(d[1]).toBe(80);
    expect(d[100]).toBe(1);
    tf.dispose([x, y]);
  });
});

// A toy LoRA regression model + data source for the loop's tests (not exported from the package).
// Frozen base weight W; trainable LoRA A/B on it and a trainable head; targets depend on the input
// and the loss adds noise drawn from the rng's `noise` stream, so restoring the RNG matters.
import * as tf from '@tensorflow/tfjs-core';
import type { JsonValue } from '@vla-lora/checkpoint-io';
import { Philox, type RngStreams } from '../src/rng/index.js';
import type { DataSource } from '../src/loop/index.js';

export const IN = 6;
export const HID = 5;
export const OUT = 3;
export const RANK = 2;
export const N_SAMPLES = 24;

export interface ToyBatch {
  x: tf.Tensor2D;
  y: tf.Tensor2D;
}

export interface ToyModel {
  base: tf.Variable;
  params: Map<string, tf.Variable>;
  lossFn: (b: ToyBatch, rng: RngStreams) => tf.Scalar;
  dispose(): void;
}

function fill(n: number, rng: Philox, scale: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (rng.uniform() * 2 - 1) * scale;
  return a;
}

/** `initSeed` varies the initial trainable weights (a resumed run must overwrite them all). */
export function buildToy(initSeed: number): ToyModel {
  const fixed = new Philox(777);
  const init = new Philox(initSeed);
  const base = tf.variable(tf.tensor2d(fill(HID * IN, fixed, 0.5), [HID, IN]), false);
  const params = new Map<string, tf.Variable>([
    ['layer.lora_A.default.weight', tf.variable(tf.tensor2d(fill(RANK * IN, init, 0.3), [RANK, IN]))],
    ['layer.lora_B.default.weight', tf.variable(tf.tensor2d(fill(HID * RANK, init, 0.3), [HID, RANK]))],
    ['head.weight', tf.variable(tf.tensor2d(fill(OUT * HID, init, 0.3), [OUT, HID]))],
  ]);
  const A = params.get('layer.lora_A.default.weight') as tf.Variable;
  const B = params.get('layer.lora_B.default.weight') as tf.Variable;
  const H = params.get('head.weight') as tf.Variable;
  const lossFn = (b: ToyBatch, rng: RngStreams): tf.Scalar => {
    const noise = rng.get('noise').fillNormal(new Float32Array(b.y.size));
    return tf.tidy(() => {
      const h = tf.add(tf.matMul(b.x, base, false, true), tf.matMul(tf.matMul(b.x, A, false, true), B, false, true));
      const pred = tf.matMul(tf.tanh(h), H, false, true);
      const target = tf.add(b.y, tf.mul(tf.tensor2d(noise, b.y.shape), 0.01));
      return tf.mean(tf.square(tf.sub(pred, target))) as tf.Scalar;
    });
  };
  return {
    base,
    params,
    lossFn,
    dispose() {
      base.dispose();
      for (const v of params.values()) v.dispose();
    },
  };
}

interface Cursor {
  epoch: number;
  pos: number;
  order: number[];
  rng: JsonValue;
}

/** Fixed dataset, reshuffled each epoch by its own Philox; the cursor is the whole position. */
export class ToyData implements DataSource<ToyBatch> {
  private readonly xs: Float32Array;
  private readonly ys: Float32Array;
  private rng: Philox;
  private order: number[];
  private ep = 0;
  private pos = 0;

  constructor(
    readonly batchSize: number,
    seed = 5,
  ) {
    const g = new Philox(4242);
    this.xs = fill(N_SAMPLES * IN, g, 1);
    this.ys = new Float32Array(N_SAMPLES * OUT);
    for (let i = 0; i < N_SAMPLES; i++) {
      for (let o = 0; o < OUT; o++) {
        let s = 0;
        for (let k = 0; k < IN; k++) s += Math.sin(o + k) * (this.xs[i * IN + k] as number);
        this.ys[i * OUT + o] = Math.tanh(s);
      }
    }
    this.rng = new Philox(seed);
    this.order = this.rng.permutation(N_SAMPLES);
  }

  next(): ToyBatch {
    const xb = new Float32Array(this.batchSize * IN);
    const yb = new Float32Array(this.batchSize * OUT);
    for (let b = 0; b < this.batchSize; b++) {
      if (this.pos === N_SAMPLES) {
        this.ep++;
        this.pos = 0;
        this.order = this.rng.permutation(N_SAMPLES);
      }
      const i = this.order[this.pos++] as number;
      xb.set(this.xs.subarray(i * IN, (i + 1) * IN), b * IN);
      yb.set(this.ys.subarray(i * OUT, (i + 1) * OUT), b * OUT);
    }
    return { x: tf.tensor2d(xb, [this.batchSize, IN]), y: tf.tensor2d(yb, [this.batchSize, OUT]) };
  }
  disposeBatch(b: ToyBatch): void {
    b.x.dispose();
    b.y.dispose();
  }
  cursor(): JsonValue {
    const c: Cursor = {
      epoch: this.ep,
      pos: this.pos,
      order: this.order,
      rng: this.rng.state() as unknown as JsonValue,
    };
    return c as unknown as JsonValue;
  }
  restore(cursor: JsonValue): void {
    const c = cursor as unknown as Cursor;
    this.ep = c.epoch;
    this.pos = c.pos;
    this.order = [...c.order];
    this.rng = Philox.fromState(c.rng);
  }
  epoch(): number {
    return this.ep + this.pos / N_SAMPLES;
  }
}

/** The toy run shared by the in-process tests and the child process (same settings => same bits). */
export const TOY_SCHED = { warmupSteps: 2, peakLr: 0.05, decaySteps: 10, decayLr: 0.005 };
export const TOY_CONFIG = { toy: true, lr: 0.05 };
export const TOY_ADAM = { lr: TOY_SCHED.peakLr, betas: [0.9, 0.95] as [number, number], eps: 1e-8, weightDecay: 0.01 };
export const TOY_ADAPTER_CONFIG = {
  peft_type: 'LORA',
  r: 2,
  lora_alpha: 2,
  target_modules: ['layer'],
  base_model_name_or_path: 'toy',
  task_type: null,
};

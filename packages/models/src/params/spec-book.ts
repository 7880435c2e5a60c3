// Allocating a model's parameters from its ParamSpec list (gemma-config's specs are the one source of
// truth for names and shapes). Modules ask the book for the parameters at their paths; the book
// checks every request against the specs and, at the end, that no spec was left unused, so the
// accounting (gemma-config) and the model (here) cannot drift apart silently.
import * as tf from '@tensorflow/tfjs-core';
import type { ParamSpec } from '@vla-lora/gemma-config';
import { assertBufferFits, Linear, type WeightSource } from '@vla-lora/lora-core';
import { SpecMismatchError } from '../errors.js';
import { Embedding } from '../layers/embedding.js';
import { normalArray, type RandomSource } from '../rng/random-source.js';
import type { RowSource } from './streamed-file.js';

/**
 * Which frozen parameters stay outside the backend, and where they come from. A Linear whose
 * `weight` the plan gives is built without a Variable; an embedding table the plan gives as rows
 * is only ever read row by row. Everything else is allocated as usual.
 */
export interface StreamPlan {
  /** A source for `path` (a `.weight` or `.bias` name), or undefined to keep it resident. */
  tensor(path: string): WeightSource | undefined;
  /** Rows of the table at `path`, or undefined to keep it resident. */
  rows(path: string): RowSource | undefined;
}

/** How fresh parameters are filled before any weights are loaded. */
export type InitMode =
  /** All zeros (fast; use when a weights file is loaded right after). */
  | 'zeros'
  /** PyTorch-like defaults from a seeded RandomSource (Linear: U(±1/sqrt(in)); embeddings N(0, 0.02); norms 0 / 1). */
  | 'random';

export interface SpecBookOptions {
  init?: InitMode;
  /** Required for init 'random'. */
  rng?: RandomSource;
  /** Frozen parameters to stream from a file instead of allocating (see `StreamPlan`). */
  stream?: StreamPlan;
}

export class SpecBook {
  private readonly specs = new Map<string, ParamSpec>();
  private readonly used = new Set<string>();
  readonly init: InitMode;
  private readonly rng: RandomSource | undefined;
  private readonly stream: StreamPlan | undefined;

  /**
   * `specs` may be a plain model's specs or the LoRA-wrapped ones (gemma-config with `lora`): LoRA
   * tensors are left to lora-core's injectLora and `.base_layer.` paths are read as the plain
   * layer's, so one spec list serves both; compare the wrapped tree with `checkAgainstSpecs`.
   */
  constructor(specs: readonly ParamSpec[], opts: SpecBookOptions = {}) {
    for (const s0 of specs) {
      if (isLoraSpec(s0.path)) continue;
      const s = { ...s0, path: s0.path.replace('.base_layer.', '.') };
      if (this.specs.has(s.path))
        throw new SpecMismatchError(`parameter spec '${s.path}' is listed twice; fix the spec list`);
      this.specs.set(s.path, s);
    }
    this.init = opts.init ?? 'zeros';
    this.rng = opts.rng;
    this.stream = opts.stream;
    if (this.init === 'random' && this.rng === undefined) {
      throw new SpecMismatchError(
        "init 'random' needs an explicit RandomSource (opts.rng) so that the weights are reproducible",
      );
    }
  }

  has(path: string): boolean {
    return this.specs.has(path);
  }

  /** The declared shape of `path`; throws SpecMismatchError when the specs do not declare it. */
  shape(path: string): number[] {
    const s = this.specs.get(path);
    if (s === undefined) {
      throw new SpecMismatchError(
        `the model needs parameter '${path}' but the spec list does not declare it; the spec generator and the model disagree`,
      );
    }
    return s.shape;
  }

  private take(path: string, rank?: number): number[] {
    const shape = this.shape(path);
    if (this.used.has(path)) throw new SpecMismatchError(`parameter '${path}' was allocated twice`);
    if (rank !== undefined && shape.length !== rank) {
      throw new SpecMismatchError(
        `parameter '${path}' is declared with shape [${shape}] but the model needs rank ${rank}`,
      );
    }
    this.used.add(path);
    return shape;
  }

  private seed(): number {
    return Math.floor(this.rng!.uniform() * 2 ** 31);
  }

  /**
   * An nn.Linear at `modulePath`: in/out features from the `.weight` spec [out, in]; a bias exactly
   * when the specs declare `.bias`.
   */
  linear(modulePath: string, expect?: { inFeatures?: number; outFeatures?: number }): Linear {
    const [out, inF] = this.take(`${modulePath}.weight`, 2) as [number, number];
    if (
      (expect?.inFeatures !== undefined && expect.inFeatures !== inF) ||
      (expect?.outFeatures !== undefined && expect.outFeatures !== out)
    ) {
      throw new SpecMismatchError(
        `'${modulePath}.weight' is declared [${out}, ${inF}] but the model wires it as [${expect.outFeatures ?? out}, ${expect.inFeatures ?? inF}]`,
      );
    }
    const hasBias = this.specs.has(`${modulePath}.bias`);
    if (hasBias) {
      const b = this.take(`${modulePath}.bias`, 1);
      if (b[0] !== out)
        throw new SpecMismatchError(`'${modulePath}.bias' is declared [${b}] but the weight has ${out} outputs`);
    }
    const ws = this.stream?.tensor(`${modulePath}.weight`);
    if (ws !== undefined) {
      const bs = hasBias ? this.stream?.tensor(`${modulePath}.bias`) : undefined;
      if (hasBias && bs === undefined)
        throw new SpecMismatchError(`'${modulePath}': the stream plan gives the weight but not the bias`);
      return new Linear(inF, out, {
        trainable: false,
        weightSource: ws,
        ...(bs !== undefined ? { biasSource: bs } : {}),
      });
    }
    if (this.init === 'zeros') {
      return new Linear(inF, out, {
        bias: hasBias,
        weight: new Float32Array(out * inF),
        ...(hasBias ? { biasData: new Float32Array(out) } : {}),
      });
    }
    return new Linear(inF, out, { bias: hasBias, seed: this.seed() });
  }

  /** A free parameter (norm weight, embedding, position table) with a named fill for 'random' init. */
  variable(path: string, fill: 'zeros' | 'ones' | { normalStd: number }, expectShape?: number[]): tf.Variable {
    const shape = this.take(path, expectShape?.length);
    if (expectShape !== undefined && expectShape.some((d, i) => d !== shape[i])) {
      throw new SpecMismatchError(`parameter '${path}' is declared [${shape}] but the model needs [${expectShape}]`);
    }
    assertBufferFits(path, shape);
    const n = shape.reduce((a, b) => a * b, 1);
    let data: Float32Array;
    if (this.init === 'zeros' || fill === 'zeros') data = new Float32Array(n);
    else if (fill === 'ones') data = new Float32Array(n).fill(1);
    else {
      data = normalArray(this.rng!, n);
      for (let i = 0; i < n; i++) data[i] = data[i]! * fill.normalStd;
    }
    const t = tf.tensor(data, shape, 'float32');
    const v = tf.variable(t, true, undefined, 'float32');
    t.dispose();
    return v;
  }

  /** An nn.Embedding table at `path` (N(0, 0.02) for 'random'), streamed by rows when the plan says so. */
  embedding(path: string): Embedding {
    const rows = this.stream?.rows(path);
    if (rows === undefined) return new Embedding(this.variable(path, { normalStd: 0.02 }));
    const shape = this.take(path, 2);
    if (shape[0] !== rows.shape[0] || shape[1] !== rows.shape[1])
      throw new SpecMismatchError(`'${path}' is declared [${shape}] but its rows come as [${rows.shape}]`);
    return new Embedding(rows);
  }

  /** Throws when some declared spec was never allocated (a spec without a module behind it). */
  finish(): void {
    const unused = [...this.specs.keys()].filter((p) => !this.used.has(p));
    if (unused.length > 0) {
      const head = unused.slice(0, 8).join(', ');
      throw new SpecMismatchError(
        `${unused.length} declared parameter(s) have no module behind them: ${head}${unused.length > 8 ? ', ...' : ''}`,
      );
    }
  }
}

/** Whether a spec path is a LoRA adapter tensor (PEFT naming: `.lora_A.` / `.lora_B.` / embedding variants). */
export function isLoraSpec(path: string): boolean {
  return /\.lora_(A|B|embedding_A|embedding_B|magnitude_vector)(\.|$)/.test(path);
}

// transformers' GemmaForCausalLM on tfjs: config.json + model.safetensors in, logits and the
// shifted causal-LM loss out. Module names are transformers' (model.layers.0.self_attn.q_proj, ...),
// so lora-core's injectLora and PEFT adapter names line up.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { openSafetensors } from '@vla-lora/checkpoint-io';
import { gemmaCausalLmSpecs, type ParamSpec } from '@vla-lora/gemma-config';
import { ModuleBase, linearApply, namedParameters, type Linear, type LinearLike } from '@vla-lora/lora-core';
import { InputShapeError, ModelConfigError } from '../errors.js';
import { causalMask, additiveMask } from '../ops/masks.js';
import { causalLmLoss } from '../ops/cross-entropy.js';
import { ropeTables } from '../ops/rope.js';
import { loadStateDict, type LoadReport } from '../params/load-state-dict.js';
import { SpecBook, type InitMode } from '../params/spec-book.js';
import type { RandomSource } from '../rng/random-source.js';
import { parseGemmaConfig, toHfGemmaConfig, type GemmaConfig } from './config.js';
import { GemmaModel } from './gemma-model.js';

/** Token ids [B][S] as int32 rows or an int32 tensor. */
export type TokenIds = tf.Tensor | ArrayLike<number>[];

export interface CausalLmForwardOptions {
  /** attention_mask [B][S]: 0 hides a (padding) key. Default: all tokens real. */
  attentionMask?: ArrayLike<number | boolean>[];
  /** position_ids [B][S]. Default 0..S-1. */
  positions?: ArrayLike<number>[];
}

export class GemmaForCausalLM extends ModuleBase {
  constructor(
    readonly config: GemmaConfig,
    model: GemmaModel,
    lmHead: Linear | null,
  ) {
    super();
    this.registerChild('model', model);
    if (lmHead !== null) this.registerChild('lm_head', lmHead);
  }

  /** The parameter specs of this config (gemma-config's gemmaCausalLmSpecs): the single source of shapes. */
  static specs(config: GemmaConfig): ParamSpec[] {
    return gemmaCausalLmSpecs(toHfGemmaConfig(config));
  }

  /** Allocates the model from specs (default: `GemmaForCausalLM.specs(config)`). */
  static create(
    config: GemmaConfig,
    opts: { specs?: readonly ParamSpec[]; init?: InitMode; rng?: RandomSource } = {},
  ): GemmaForCausalLM {
    const book = new SpecBook(opts.specs ?? GemmaForCausalLM.specs(config), {
      init: opts.init ?? 'zeros',
      ...(opts.rng ? { rng: opts.rng } : {}),
    });
    const model = GemmaModel.fromSpecs(
      book,
      'model.',
      {
        numLayers: config.numLayers,
        numHeads: config.numHeads,
        numKvHeads: config.numKvHeads,
        headDim: config.headDim,
        rmsNormEps: config.rmsNormEps,
        ropeTheta: config.ropeTheta,
        attnScale: config.attnScale,
      },
      { embedTokens: true },
    );
    const head = config.tieWordEmbeddings
      ? null
      : book.linear('lm_head', { inFeatures: model.hiddenSize, outFeatures: config.vocabSize });
    book.finish();
    return new GemmaForCausalLM(config, model, head);
  }

  get model(): GemmaModel {
    return this.child<GemmaModel>('model');
  }

  /** Final hidden states [B, S, hidden]. */
  hidden(ids: TokenIds, opts: CausalLmForwardOptions = {}): tf.Tensor {
    return tf.tidy(() => {
      const idsT = toIds(ids);
      const [b, s] = idsT.shape as [number, number];
      const positions = opts.positions ?? Array.from({ length: b }, () => Int32Array.from({ length: s }, (_, i) => i));
      const rope = ropeTables(positions, this.config.headDim, this.config.ropeTheta);
      const mask = additiveMask(causalMask(b, s, opts.attentionMask));
      return this.model.forwardEmbeds(this.model.embed(idsT), rope, mask);
    });
  }

  /** Logits [B, S, vocab]; the head is the tied embedding (x E^T on the fast path) unless untied. */
  logits(ids: TokenIds, opts: CausalLmForwardOptions = {}): tf.Tensor3D {
    return tf.tidy(() => {
      const h = this.hidden(ids, opts);
      const head = this.namedChildren().find(([n]) => n === 'lm_head')?.[1] as LinearLike | undefined;
      if (head !== undefined) return head.apply(h) as tf.Tensor3D;
      const w = this.model.embedTokens.weight;
      return linearApply(h, w, null, w.shape[1]!) as tf.Tensor3D;
    });
  }

  /** Mean token cross-entropy with transformers' shift (logits[:, :-1] vs labels[:, 1:], -100 ignored). */
  loss(ids: TokenIds, labels: ArrayLike<number>[], opts: CausalLmForwardOptions = {}): tf.Scalar {
    return tf.tidy(() => causalLmLoss(this.logits(ids, opts), labels));
  }

  namedParameters(): Array<[string, tf.Variable]> {
    return namedParameters(this);
  }
}

function toIds(ids: TokenIds): tf.Tensor {
  if (ids instanceof tf.Tensor) {
    if (ids.rank !== 2) throw new InputShapeError(`input ids must be [B, S], got [${ids.shape}]`);
    return ids.dtype === 'int32' ? ids : tf.cast(ids, 'int32');
  }
  const b = ids.length;
  const s = ids[0]?.length ?? 0;
  const flat = new Int32Array(b * s);
  ids.forEach((row, i) => {
    if (row.length !== s) throw new InputShapeError('input id rows differ in length');
    for (let j = 0; j < s; j++) flat[i * s + j] = row[j]!;
  });
  return tf.tensor2d(flat, [b, s], 'int32');
}

export interface LoadedCausalLm {
  model: GemmaForCausalLM;
  report: LoadReport;
}

/**
 * Loads a transformers `save_pretrained` directory: config.json + model.safetensors (or a sharded
 * index). Strict: any missing, unexpected or reshaped tensor throws WeightsMismatchError.
 */
export async function loadGemmaForCausalLM(dir: string): Promise<LoadedCausalLm> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
  } catch (e) {
    throw new ModelConfigError(
      `cannot read ${join(dir, 'config.json')}: ${(e as Error).message}; point at a transformers save_pretrained directory`,
      { cause: e },
    );
  }
  const config = parseGemmaConfig(raw);
  const model = GemmaForCausalLM.create(config);
  const reader = await openSafetensors(dir);
  try {
    const report = await loadStateDict(model, reader, {
      aliases: config.tieWordEmbeddings ? { 'model.embed_tokens.weight': ['lm_head.weight'] } : {},
      ignoreUnexpected: (n) => config.tieWordEmbeddings && n === 'lm_head.weight',
    });
    return { model, report };
  } finally {
    await reader.close();
  }
}

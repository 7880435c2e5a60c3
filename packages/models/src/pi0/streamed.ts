// pi0 with its frozen base weights outside the tfjs heap: a full-size pi0 (3.5 B parameters, 14 GB
// in float32) does not fit tfjs-backend-wasm's 4 GiB heap, so every SigLIP / Gemma block's Linear
// weights stay in the safetensors file in their file dtype (bf16) and enter the backend only while
// the block runs (forward, and the recomputation in backward: streamed training always
// checkpoints), the PaliGemma embedding is read row by row for the token ids, and the expert's
// unused lm_head is never read. Norms, the patch/position embeddings, the projector, the heads,
// LoRA weights and optimizer state stay resident (a few MB at full size).
import * as tf from '@tensorflow/tfjs-core';
import {
  getPi0Config,
  type ParamSpec,
  PI0_PATHS,
  pi0MemoryBill,
  pi0ParamSpecs,
  formatBytes,
} from '@vla-lora/gemma-config';
import type { Pi0Config } from '@vla-lora/gemma-config';
import { namedParameters } from '@vla-lora/lora-core';
import { ModelMemoryError, StreamedWeightsError } from '../errors.js';
import { isLoraSpec, type StreamPlan } from '../params/spec-book.js';
import { StreamedSafetensors } from '../params/streamed-file.js';
import { PI0_TIED_HEAD_KEY } from './layout.js';
import { Pi0Policy, type Pi0CreateOptions } from './policy.js';

/** The wasm32 heap limit of tfjs-backend-wasm (`getHeapMax()`): 4 GiB minus one 64 KiB page. */
export const WASM_HEAP_MAX_BYTES = 4_294_901_760;

export interface OpenStreamedPi0Options extends Pick<Pi0CreateOptions, 'rmsNormEps' | 'ropeTheta'> {
  /** Batch size the policy will run at (for the memory check). Default 1. */
  batchSize?: number;
  /** Bytes the backend may hold (default: the wasm heap limit, 4 GiB). */
  memoryBudgetBytes?: number;
}

/** What stays where, in bytes as the backend holds them (float32). */
export interface StreamedPi0Report {
  /** Frozen bytes kept in the file, per tensor read whole when its block runs. */
  streamedParams: number;
  /** Parameters allocated in the backend (norms, patch/position embeddings, projector, heads). */
  residentParams: number;
  /** Largest block's frozen float32 bytes: what one block brings into the backend at a time. */
  largestBlockBytes: number;
  /** Bytes checked against the budget (resident + largest block + activations of the bill). */
  neededBytes: number;
  budgetBytes: number;
  /** The bill the check used (gemma-config's pi0MemoryBill table). */
  bill: string;
}

export interface StreamedPi0 {
  policy: Pi0Policy;
  file: StreamedSafetensors;
  report: StreamedPi0Report;
  /** Closes the file; the policy cannot run afterwards. */
  close(): void;
}

/** The block a streamed tensor belongs to (its layer), or null for a tensor that is never read whole. */
function blockOf(path: string): string | null {
  const m = /^(.*\.layers\.\d+)\./.exec(path);
  return m ? m[1]! : null;
}

/** Whether `path` (a file-side name) is streamed rather than resident. */
function isStreamed(path: string): boolean {
  if (path === `${PI0_PATHS.languageModel}.embed_tokens.weight`) return true;
  if (path === `${PI0_PATHS.expertLmHead}.weight`) return true;
  return blockOf(path) !== null && /_proj\.(weight|bias)$|\.fc\d\.(weight|bias)$/.test(path);
}

/**
 * Checks a weights file against `specs` from its header alone: every base parameter present with
 * its exact shape and a float dtype (F32/BF16/F16), nothing else but a tied lm_head. Throws
 * `StreamedWeightsError` naming the tensors at fault; reads no tensor data.
 */
export function checkStreamedHeader(file: StreamedSafetensors, specs: readonly ParamSpec[]): Map<string, ParamSpec> {
  const want = new Map<string, ParamSpec>();
  for (const s of specs) if (!isLoraSpec(s.path)) want.set(s.path.replace('.base_layer.', '.'), s);
  const problems: string[] = [];
  const names: string[] = [];
  for (const [name, s] of want) {
    if (!file.has(name)) {
      problems.push(`missing '${name}' [${s.shape}]`);
      names.push(name);
      continue;
    }
    const t = file.info(name);
    if (t.shape.length !== s.shape.length || t.shape.some((d, i) => d !== s.shape[i])) {
      problems.push(`'${name}' is [${t.shape}] in the file, the model needs [${s.shape}]`);
      names.push(name);
    } else if (t.dtype !== 'F32' && t.dtype !== 'BF16' && t.dtype !== 'F16') {
      problems.push(`'${name}' is ${t.dtype}; weights must be F32, BF16 or F16`);
      names.push(name);
    }
  }
  for (const t of file.list())
    if (!want.has(t.name) && t.name !== PI0_TIED_HEAD_KEY) {
      problems.push(`unexpected '${t.name}'`);
      names.push(t.name);
    }
  if (problems.length > 0) {
    const head = problems.slice(0, 6).join('; ');
    throw new StreamedWeightsError(
      `${file.path} does not fit pi0 config from its header (${problems.length} problem(s)): ${head}${problems.length > 6 ? '; ...' : ''}. Nothing was loaded; use a checkpoint written for this config`,
      names,
    );
  }
  return want;
}

/**
 * Opens a pi0 whose frozen block weights stream from `path` (one safetensors file with openpi's
 * names, e.g. from scripts/gen-full-pi0.ts). Order of checks, all before any tensor data is read:
 * the header against the config's specs, then the memory the backend would need against the
 * budget (refused with the bill). Then the resident parameters are loaded, and gradient
 * checkpointing is switched on (a streamed block's weights exist only while the block runs).
 * LoRA can be injected afterwards as usual (`injectLora(policy, pi0LoraConfig(config))`).
 */
export function openStreamedPi0(
  path: string,
  config: Pi0Config | string,
  opts: OpenStreamedPi0Options = {},
): StreamedPi0 {
  const cfg = typeof config === 'string' ? getPi0Config(config) : config;
  const specs = pi0ParamSpecs(cfg);
  const file = StreamedSafetensors.open(path);
  try {
    const want = checkStreamedHeader(file, specs);
    const report = streamedBill(cfg, specs, want, opts);
    if (report.neededBytes > report.budgetBytes) {
      throw new ModelMemoryError(
        `pi0 '${cfg.name}' at batch ${opts.batchSize ?? 1} needs ${formatBytes(report.neededBytes)} in the backend with streamed weights (resident ${formatBytes(4 * report.residentParams)}, largest block ${formatBytes(report.largestBlockBytes)}, activations as billed, float32) but the budget is ${formatBytes(report.budgetBytes)}; lower the batch size or use a backend with more memory.\n${report.bill}`,
        report.neededBytes,
        report.budgetBytes,
      );
    }
    const plan: StreamPlan = {
      tensor: (p) =>
        isStreamed(p) && p !== `${PI0_PATHS.languageModel}.embed_tokens.weight` ? file.source(p) : undefined,
      rows: (p) => (p === `${PI0_PATHS.languageModel}.embed_tokens.weight` ? file.rows(p) : undefined),
    };
    const policy = Pi0Policy.create(cfg, {
      specs,
      init: 'zeros',
      stream: plan,
      ...(opts.rmsNormEps !== undefined ? { rmsNormEps: opts.rmsNormEps } : {}),
      ...(opts.ropeTheta !== undefined ? { ropeTheta: opts.ropeTheta } : {}),
    });
    for (const [name, v] of namedParameters(policy)) {
      if (isLoraSpec(name)) continue;
      const fileName = name.replace('.base_layer.', '.');
      if (!want.has(fileName)) throw new StreamedWeightsError(`the model has '${name}' but the specs do not`, [name]);
      const data = file.readFloat32(fileName);
      const t = v.shape.length === 0 ? data[0]! : data;
      const tensor = tfTensor(t, v.shape);
      v.assign(tensor);
      tensor.dispose();
    }
    policy.setGradientCheckpointing(true);
    return { policy, file, report, close: () => file.close() };
  } catch (e) {
    file.close();
    throw e;
  }
}

function tfTensor(data: Float32Array | number, shape: number[]): tf.Tensor {
  return typeof data === 'number' ? tf.scalar(data) : tf.tensor(data, shape, 'float32');
}

function streamedBill(
  cfg: Pi0Config,
  specs: readonly ParamSpec[],
  want: Map<string, ParamSpec>,
  opts: OpenStreamedPi0Options,
): StreamedPi0Report {
  const numel = (s: ParamSpec): number => s.shape.reduce((a, b) => a * b, 1);
  let streamed = 0;
  let resident = 0;
  const blocks = new Map<string, number>();
  for (const [name, s] of want) {
    if (isStreamed(name)) {
      streamed += numel(s);
      const b = blockOf(name);
      // a joint pi0 block runs PaliGemma layer i and expert layer i together
      const key = b?.replace(/^.*\.(vision_tower|language_model|gemma_expert)\..*layers\.(\d+)$/, (_, t, i) =>
        t === 'vision_tower' ? `siglip.${i}` : `joint.${i}`,
      );
      if (key !== undefined) blocks.set(key, (blocks.get(key) ?? 0) + 4 * numel(s));
    } else resident += numel(s);
  }
  const lora = specs.filter((s) => isLoraSpec(s.path));
  for (const s of lora) resident += numel(s);
  const largestBlockBytes = Math.max(0, ...blocks.values());
  const batchSize = opts.batchSize ?? 1;
  const bill = pi0MemoryBill(cfg, {
    specs,
    trainable: (s) => isLoraSpec(s.path),
    batchSize,
    gradientCheckpointing: true,
  });
  // tfjs computes in float32: activations billed in bf16 take twice the bytes here.
  const actScale = cfg.precision === 'bfloat16' ? 2 : 1;
  const act = bill.rows
    .filter((r) => r.item === 'activations' || r.item === 'recompute')
    .reduce((a, r) => a + r.bytesPerDevice * actScale, 0);
  const trainState = bill.rows
    .filter((r) => r.item === 'gradients' || r.item === 'optimizer')
    .reduce((a, r) => a + r.bytesPerDevice, 0);
  const neededBytes = 4 * resident + largestBlockBytes + act + trainState;
  return {
    streamedParams: streamed,
    residentParams: resident,
    largestBlockBytes,
    neededBytes,
    budgetBytes: opts.memoryBudgetBytes ?? WASM_HEAP_MAX_BYTES,
    bill: bill.table,
  };
}

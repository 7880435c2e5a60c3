// Streamed merge of a PEFT LoRA adapter into a base safetensors checkpoint, for deployment
// (PEFT's merge_and_unload + save_pretrained, without loading the model): the base is read and
// written one tensor at a time; W' = W + scaling * B A for every adapted Linear; modules_to_save
// tensors are replaced by the adapter's; every other tensor is copied byte for byte. Each merged
// tensor keeps its dtype (bf16 stays bf16: W is widened to fp32, the delta added in fp32, and the
// sum rounded once to bf16 — PEFT rounds the delta to bf16 first and then adds in bf16, so values
// can differ by one bf16 ulp). Needs no tfjs backend: the rank-r product is plain JS.
import {
  castFloat,
  checkAdapterFit,
  fromFloat32,
  loadPeftAdapter,
  openSafetensors,
  parseLoraKey,
  removeAdapterName,
  ShardedSet,
  toFloat32,
  writeSafetensors,
  writeSafetensorsSharded,
  type ChunkedData,
  type Dtype,
  type PeftAdapter,
  type PeftLoraConfig,
  type RawTensor,
  type SafetensorsEntry,
  type SafetensorsReader,
  type TensorInfo,
} from '@vla-lora/checkpoint-io';
import { loraConfigFromPeft, loraScaling, type PeftConfigJson } from './config.js';
import { rankAndAlphaFor } from './target-match.js';
import { PEFT_PREFIX } from './save-load.js';
import { AdapterMismatchError, MergeError } from './errors.js';

export interface MergeFileOptions {
  adapterName?: string;
  /** Refuse to write when a merged tensor holds NaN/Inf (default true). */
  safe?: boolean;
  /**
   * Write a sharded directory (transformers layout: shards + model.safetensors.index.json) with
   * shards of at most this many bytes. Default: a sharded base gives a sharded output whose shard
   * size is the base's largest shard; a single-file base gives one file.
   */
  maxShardSize?: number;
  /** Rows of a merged weight processed at once; bounds memory to one block, not one tensor (default: ~8 MB of f32). */
  blockBytes?: number;
  /** Called after each tensor is prepared. */
  onTensor?: (p: { name: string; action: 'merged' | 'replaced' | 'copied'; index: number; total: number }) => void;
}

export interface MergeFileReport {
  /** Base weights that received scaling * B A, with the scaling used. */
  merged: Array<{ name: string; r: number; scaling: number }>;
  /** Base tensors replaced by the adapter's modules_to_save copies. */
  replaced: string[];
  /** Tensors copied unchanged. */
  copied: number;
  /** Where the result is: one file, or a directory of shards with its index. */
  output: { kind: 'file' | 'sharded'; path: string; shards: number };
}

const FLOAT = new Set(['F32', 'F16', 'BF16', 'F64']);
const same = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((d, i) => d === b[i]);
const f32 = Math.fround;

/**
 * W (row-major [out, in]) += scaling * (B [out, r] · A [r, in]), with torch's float32 steps as PEFT's
 * merge runs them: each (B·A)[o, i] accumulated in float32 over k (fused multiply-add, as OpenBLAS's
 * sgemm kernels do), times scaling (as float32), added to W in float32. `rows` limits the work to
 * W's rows [row0, row0 + rows) when `w` holds only that block.
 */
export function addLoraDelta(
  w: Float32Array,
  a: Float32Array,
  b: Float32Array,
  out: number,
  inF: number,
  r: number,
  scaling: number,
  row0 = 0,
): void {
  const s = f32(scaling);
  const acc = new Float32Array(inF);
  const rows = w.length / inF;
  for (let ro = 0; ro < rows && row0 + ro < out; ro++) {
    const o = row0 + ro;
    acc.fill(0);
    for (let k = 0; k < r; k++) {
      const bk = b[o * r + k]!;
      const aOff = k * inF;
      // acc + bk * a: the product of two float32s is exact in float64, so one rounding = an fma
      for (let i = 0; i < inF; i++) acc[i] = acc[i]! + bk * a[aOff + i]!;
    }
    const wOff = ro * inF;
    for (let i = 0; i < inF; i++) w[wOff + i] = w[wOff + i]! + f32(acc[i]! * s);
  }
}

/** Bytes of `name` in pieces of at most `piece` bytes (a copy never holds a whole tensor). */
function copyChunks(base: SafetensorsReader, info: TensorInfo, piece: number): ChunkedData {
  return {
    async *chunks(): AsyncIterable<Uint8Array> {
      for (let at = 0; at < info.byteLength; at += piece)
        yield await base.readBytes(info.name, at, Math.min(piece, info.byteLength - at));
    },
  };
}

const BYTES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2 };

/**
 * Merges `adapter` (a PEFT adapter directory or one already loaded) into the base checkpoint at
 * `basePath` (a .safetensors file, a directory, or a sharded index) and writes `outPath`
 * atomically (a file, or for a sharded output a directory with its index). Before anything is
 * written the adapter is checked against the base's headers with checkpoint-io's
 * `checkAdapterFit` (extra / missing targets, shapes, ranks): AdapterMismatchError lists every
 * problem. Memory: one block of rows of one tensor (plus the adapter), whatever the base's size.
 */
export async function mergeAdapterIntoSafetensors(
  basePath: string,
  adapter: string | PeftAdapter,
  outPath: string,
  opts: MergeFileOptions = {},
): Promise<MergeFileReport> {
  const adapterName =
    opts.adapterName ?? (typeof adapter === 'string' ? 'default' : (adapter.adapterName ?? 'default'));
  const ad = typeof adapter === 'string' ? await loadPeftAdapter(adapter, { adapterName }) : adapter;
  const { config } = loraConfigFromPeft(ad.config as PeftConfigJson);
  const strip = (k: string): string => (k.startsWith(PEFT_PREFIX) ? k.slice(PEFT_PREFIX.length) : k);

  // Group the adapter's tensors: LoRA pairs per module, everything else a full replacement.
  const pairs = new Map<string, { a?: RawTensor; b?: RawTensor }>();
  const replacements = new Map<string, RawTensor>();
  const onDisk: Array<{ name: string; dtype: Dtype; shape: number[] }> = [];
  for (const [k, t] of ad.tensors) {
    // checkpoint-io's key rules (PEFT's save_and_load): drop the adapter name, then parse the role
    const disk = removeAdapterName(k, adapterName);
    const parts = parseLoraKey(disk);
    if (parts !== null && (parts.role === 'A' || parts.role === 'B') && disk !== k) {
      const mod = strip(parts.module);
      const p = pairs.get(mod) ?? {};
      if (parts.role === 'A') p.a = t;
      else p.b = t;
      pairs.set(mod, p);
      onDisk.push({ name: disk, dtype: t.dtype, shape: t.shape });
    } else if (parts !== null || /\.lora_[A-Za-z_]+\./.test(k)) {
      throw new AdapterMismatchError(
        `adapter tensor '${k}' is a LoRA tensor this merge cannot apply (only lora_A/lora_B weights of adapter '${adapterName}')`,
        [],
        [k],
        [],
      );
    } else {
      replacements.set(strip(k), t);
      onDisk.push({ name: k, dtype: t.dtype, shape: t.shape });
    }
  }

  const base = await openSafetensors(basePath);
  try {
    const infos = base.list();
    // the one fit check (checkpoint-io's rulebook): headers of the base against the adapter
    const fit = checkAdapterFit(ad.config as PeftLoraConfig, onDisk, infos);
    const problems = [
      ...fit.extra.map((u) => `${u} has no base tensor`),
      ...fit.missing.map((m) => `${m} is targeted by adapter_config.json but the adapter has no LoRA weights for it`),
      ...fit.shapeMismatches.map((s) => `${s.name} expected [${s.expected.join(', ')}] got [${s.got.join(', ')}]`),
      ...fit.rankMismatches.map(
        (m) =>
          `${m.module}: adapter tensors have rank ${m.rankA}/${m.rankB}, adapter_config.json says r=${m.expected} (rank_pattern?)`,
      ),
      ...fit.unsupported.map((u) => `${u.name}: ${u.why}; only 2-D float weights can be merged`),
    ];
    if (problems.length > 0) {
      throw new AdapterMismatchError(
        `the adapter does not fit ${basePath}: ${problems.slice(0, 20).join('; ')}. Is this the base model the adapter was trained on?`,
        fit.missing,
        fit.extra,
        fit.shapeMismatches,
      );
    }
    const plan = new Map<string, { r: number; scaling: number; a: Float32Array; b: Float32Array }>();
    for (const [mod, { a, b }] of pairs) {
      const cfg = rankAndAlphaFor(config, mod);
      plan.set(`${mod}.weight`, {
        r: cfg.r,
        scaling: loraScaling(cfg.alpha, cfg.r, config.useRslora),
        a: toFloat32(a!),
        b: toFloat32(b!),
      });
    }
    if (plan.size === 0) throw new AdapterMismatchError('the adapter has no lora_A/lora_B pairs to merge', [], [], []);

    const report: MergeFileReport = {
      merged: [],
      replaced: [],
      copied: 0,
      output: { kind: 'file', path: outPath, shards: 1 },
    };
    const safe = opts.safe ?? true;
    const total = infos.length;
    const blockBytes = opts.blockBytes ?? 8 << 20;
    const entries: SafetensorsEntry[] = infos.map((info, index) => {
      const p = plan.get(info.name);
      const rep = replacements.get(info.name);
      if (p !== undefined) {
        report.merged.push({ name: info.name, r: p.r, scaling: p.scaling });
        const [out, inF] = info.shape as [number, number];
        const rowBytes = inF * BYTES[info.dtype]!;
        const rowsPer = Math.max(1, Math.floor(blockBytes / (inF * 4)));
        const data: ChunkedData = {
          async *chunks(): AsyncIterable<Uint8Array> {
            for (let row0 = 0; row0 < out; row0 += rowsPer) {
              const rows = Math.min(rowsPer, out - row0);
              const bytes = await base.readBytes(info.name, row0 * rowBytes, rows * rowBytes);
              const w = toFloat32({ dtype: info.dtype, shape: [rows, inF], bytes });
              addLoraDelta(w, p.a, p.b, out, inF, p.r, p.scaling, row0);
              if (safe)
                for (let i = 0; i < w.length; i++)
                  if (!Number.isFinite(w[i]!))
                    throw new MergeError(
                      `merging into ${info.name} produced ${w[i]} at element ${row0 * inF + i}; the adapter is broken — nothing written`,
                    );
              yield fromFloat32(w, [rows, inF], info.dtype as 'F32' | 'F16' | 'BF16' | 'F64').bytes;
            }
            opts.onTensor?.({ name: info.name, action: 'merged', index, total });
          },
        };
        return { name: info.name, dtype: info.dtype, shape: info.shape, data };
      }
      if (rep !== undefined) {
        report.replaced.push(info.name);
        return {
          name: info.name,
          dtype: info.dtype,
          shape: info.shape,
          data: async (): Promise<Uint8Array> => {
            opts.onTensor?.({ name: info.name, action: 'replaced', index, total });
            return (rep.dtype === info.dtype ? rep : castFloat(rep, info.dtype as 'F32' | 'F16' | 'BF16' | 'F64'))
              .bytes;
          },
        };
      }
      report.copied++;
      const chunks = copyChunks(base, info, blockBytes);
      return {
        name: info.name,
        dtype: info.dtype,
        shape: info.shape,
        data: {
          async *chunks(): AsyncIterable<Uint8Array> {
            yield* chunks.chunks();
            opts.onTensor?.({ name: info.name, action: 'copied', index, total });
          },
        },
      };
    });
    const metadata = base.metadata ?? { format: 'pt' };
    let maxShardSize = opts.maxShardSize;
    if (maxShardSize === undefined && base instanceof ShardedSet)
      maxShardSize = Math.max(
        ...(base as ShardedSet).shards.map((s: SafetensorsReader) =>
          s.list().reduce((n: number, t: TensorInfo) => n + t.byteLength, 0),
        ),
      );
    if (maxShardSize !== undefined) {
      const w = await writeSafetensorsSharded(outPath, entries, { maxShardSize, metadata });
      report.output = { kind: 'sharded', path: outPath, shards: w.files.length };
    } else await writeSafetensors(outPath, entries, { metadata });
    return report;
  } finally {
    await base.close();
  }
}

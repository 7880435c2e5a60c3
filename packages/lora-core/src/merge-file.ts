// Streamed merge of a PEFT LoRA adapter into a base safetensors checkpoint, for deployment
// (PEFT's merge_and_unload + save_pretrained, without loading the model): the base is read and
// written one tensor at a time; W' = W + scaling * B A for every adapted Linear; modules_to_save
// tensors are replaced by the adapter's; every other tensor is copied byte for byte. Each merged
// tensor keeps its dtype (bf16 stays bf16: W is widened to fp32, the delta added in fp32, and the
// sum rounded once to bf16 — PEFT rounds the delta to bf16 first and then adds in bf16, so values
// can differ by one bf16 ulp). Needs no tfjs backend: the rank-r product is plain JS.
import {
  castFloat,
  fromFloat32,
  loadPeftAdapter,
  openSafetensors,
  toFloat32,
  writeSafetensors,
  writeSafetensorsSharded,
  type PeftAdapter,
  type RawTensor,
  type SafetensorsEntry,
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
  /** Write a sharded directory (transformers layout) instead of one file. */
  maxShardSize?: number;
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
}

const FLOAT = new Set(['F32', 'F16', 'BF16', 'F64']);
const same = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((d, i) => d === b[i]);

/** W (row-major [out, in]) += scaling * B [out, r] · A [r, in], accumulated in float64 per row. */
export function addLoraDelta(
  w: Float32Array,
  a: Float32Array,
  b: Float32Array,
  out: number,
  inF: number,
  r: number,
  scaling: number,
): void {
  const row = new Float64Array(inF);
  for (let o = 0; o < out; o++) {
    row.fill(0);
    for (let k = 0; k < r; k++) {
      const bk = b[o * r + k]!;
      if (bk === 0) continue;
      const aOff = k * inF;
      for (let i = 0; i < inF; i++) row[i]! += bk * a[aOff + i]!;
    }
    const wOff = o * inF;
    for (let i = 0; i < inF; i++) w[wOff + i] = w[wOff + i]! + scaling * row[i]!;
  }
}

/**
 * Merges `adapter` (a PEFT adapter directory or one already loaded) into the base checkpoint at
 * `basePath` (a .safetensors file, a directory, or a sharded index) and writes `outPath`
 * atomically. Every adapter tensor must land on a base tensor of the right shape, or nothing is
 * written (AdapterMismatchError lists the names).
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
  const loraRe = new RegExp(`^(.*)\\.lora_([AB])\\.${adapterName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.weight$`);
  for (const [k, t] of ad.tensors) {
    const m = loraRe.exec(k);
    if (m) {
      const mod = strip(m[1]!);
      const p = pairs.get(mod) ?? {};
      if (m[2] === 'A') p.a = t;
      else p.b = t;
      pairs.set(mod, p);
    } else if (/\.lora_[A-Za-z_]+\./.test(k)) {
      throw new AdapterMismatchError(
        `adapter tensor '${k}' is a LoRA tensor this merge cannot apply (only lora_A/lora_B weights of adapter '${adapterName}')`,
        [],
        [k],
        [],
      );
    } else {
      replacements.set(strip(k), t);
    }
  }

  const base = await openSafetensors(basePath);
  try {
    const infos = base.list();
    const byName = new Map<string, TensorInfo>(infos.map((i) => [i.name, i]));
    const problems: string[] = [];
    const unexpected: string[] = [];
    const shapeMismatches: AdapterMismatchError['shapeMismatches'] = [];
    const plan = new Map<string, { r: number; scaling: number; a: RawTensor; b: RawTensor }>();
    for (const [mod, { a, b }] of pairs) {
      const wName = `${mod}.weight`;
      const w = byName.get(wName);
      if (a === undefined || b === undefined) {
        problems.push(`${mod}: lora_${a === undefined ? 'A' : 'B'} is missing`);
        continue;
      }
      if (w === undefined) {
        unexpected.push(`${PEFT_PREFIX}${mod}`);
        continue;
      }
      if (!FLOAT.has(w.dtype)) problems.push(`${wName} is ${w.dtype}; only float weights can be merged`);
      const [out, inF] = w.shape as [number, number];
      const r = a.shape[0]!;
      if (w.shape.length !== 2 || !same(a.shape, [r, inF]))
        shapeMismatches.push({ name: `${mod}.lora_A`, expected: [r, inF ?? -1], got: [...a.shape] });
      if (!same(b.shape, [out, r]))
        shapeMismatches.push({ name: `${mod}.lora_B`, expected: [out, r], got: [...b.shape] });
      const cfg = rankAndAlphaFor(config, mod);
      if (cfg.r !== r)
        problems.push(`${mod}: adapter tensors have rank ${r}, adapter_config.json says r=${cfg.r} (rank_pattern?)`);
      plan.set(wName, { r, scaling: loraScaling(cfg.alpha, cfg.r, config.useRslora), a, b });
    }
    for (const [name, t] of replacements) {
      const w = byName.get(name);
      if (w === undefined) unexpected.push(`${PEFT_PREFIX}${name}`);
      else if (!same(w.shape, t.shape)) shapeMismatches.push({ name, expected: [...w.shape], got: [...t.shape] });
    }
    if (problems.length + unexpected.length + shapeMismatches.length > 0) {
      throw new AdapterMismatchError(
        `the adapter does not fit ${basePath}: ${[...problems, ...unexpected.map((u) => `${u} has no base tensor`), ...shapeMismatches.map((s) => `${s.name} expected [${s.expected.join(', ')}] got [${s.got.join(', ')}]`)].slice(0, 20).join('; ')}. Is this the base model the adapter was trained on?`,
        [],
        unexpected,
        shapeMismatches,
      );
    }
    if (plan.size === 0) throw new AdapterMismatchError('the adapter has no lora_A/lora_B pairs to merge', [], [], []);

    const report: MergeFileReport = { merged: [], replaced: [], copied: 0 };
    const safe = opts.safe ?? true;
    const total = infos.length;
    const entries: SafetensorsEntry[] = infos.map((info, index) => {
      const p = plan.get(info.name);
      const rep = replacements.get(info.name);
      if (p !== undefined) {
        report.merged.push({ name: info.name, r: p.r, scaling: p.scaling });
        return {
          name: info.name,
          dtype: info.dtype,
          shape: info.shape,
          data: async (): Promise<Uint8Array> => {
            const w = await base.readFloat32(info.name);
            const [out, inF] = info.shape as [number, number];
            addLoraDelta(w, toFloat32(p.a), toFloat32(p.b), out, inF, p.r, p.scaling);
            if (safe)
              for (let i = 0; i < w.length; i++)
                if (!Number.isFinite(w[i]!))
                  throw new MergeError(
                    `merging into ${info.name} produced ${w[i]} at element ${i}; the adapter is broken — nothing written`,
                  );
            opts.onTensor?.({ name: info.name, action: 'merged', index, total });
            return fromFloat32(w, info.shape, info.dtype as 'F32' | 'F16' | 'BF16' | 'F64').bytes;
          },
        };
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
      return {
        name: info.name,
        dtype: info.dtype,
        shape: info.shape,
        data: async (): Promise<Uint8Array> => {
          opts.onTensor?.({ name: info.name, action: 'copied', index, total });
          return (await base.read(info.name)).bytes;
        },
      };
    });
    const metadata = base.metadata ?? { format: 'pt' };
    if (opts.maxShardSize !== undefined)
      await writeSafetensorsSharded(outPath, entries, { maxShardSize: opts.maxShardSize, metadata });
    else await writeSafetensors(outPath, entries, { metadata });
    return report;
  } finally {
    await base.close();
  }
}

// inspect: what a ZeRO checkpoint holds, read from the pickles only (no tensor bytes), and whether
// the adapter file beside it is the empty ZeRO-3 placeholder — with the command that recovers it.
import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ADAPTER_SAFETENSORS_NAME, openSafetensors } from '@vla-lora/checkpoint-io';
import { parseLoraParam } from './adapter.js';
import { openZeroCheckpoint } from './checkpoint.js';
import { reconstruct, type KindCount, type TensorKind } from './reconstruct.js';

export interface InspectFile {
  name: string;
  role: 'optim' | 'model';
  rank: number;
  bytes: number;
}

export interface AdapterFileState {
  path: string;
  bytes: number;
  /** Tensors in the file; null when it could not be read as safetensors. */
  tensors: number | null;
  /** No tensors, or only zero-element tensors: the file a ZeRO-3 trainer leaves. */
  placeholder: boolean;
  error?: string;
}

export interface InspectReport {
  checkpointDir: string;
  tagDir: string;
  tag: string;
  tagSource: 'latest' | 'option' | 'path';
  stage: number;
  worldSize: number;
  partitionCount: number | number[];
  dtype16: 'BF16' | 'F16' | null;
  dsVersion: string | null;
  /** Optimizer file prefix ('bf16_' or ''). */
  prefix: string;
  files: InspectFile[];
  totalBytes: number;
  counts: Record<TensorKind, KindCount>;
  /** [tied, source, source present in the reconstructed state dict]. */
  sharedParams: Array<[string, string, boolean]>;
  lora: { tensors: number; values: number; adapterNames: string[] };
  adapterFile: AdapterFileState | null;
  /** Command that writes a real adapter, when the checkpoint holds LoRA tensors. */
  recoverCommand: string | null;
  warnings: string[];
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

async function adapterFileState(dir: string): Promise<AdapterFileState | null> {
  const path = join(dir, ADAPTER_SAFETENSORS_NAME);
  const st = await stat(path).catch(() => null);
  if (!st?.isFile()) return null;
  try {
    const r = await openSafetensors(path);
    try {
      const list = r.list();
      const placeholder = list.length === 0 || list.every((t) => t.shape.some((d) => d === 0));
      return { path, bytes: st.size, tensors: list.length, placeholder };
    } finally {
      await r.close();
    }
  } catch (err) {
    return { path, bytes: st.size, tensors: null, placeholder: false, error: (err as Error).message };
  }
}

/** Reads the checkpoint's structure (all sanity checks of a consolidation run, no tensor data read). */
export async function inspectCheckpoint(checkpoint: string, opts: { tag?: string } = {}): Promise<InspectReport> {
  const ck = await openZeroCheckpoint(checkpoint, opts);
  try {
    const rec = reconstruct(ck);
    const files: InspectFile[] = [];
    for (const [rank, f] of ck.optimFiles.entries())
      files.push({ name: basename(f), role: 'optim', rank, bytes: (await stat(f)).size });
    for (const [rank, f] of ck.modelFiles.entries())
      files.push({ name: basename(f), role: 'model', rank, bytes: (await stat(f)).size });
    const present = new Set(rec.tensors.map((t) => t.name));
    const lora = rec.tensors.filter(
      (t) => (t.kind === 'trainable' || t.kind === 'frozen') && parseLoraParam(t.name) !== null,
    );
    const adapterNames = [...new Set(lora.map((t) => parseLoraParam(t.name)!.adapterName))].sort();
    const adapterFile = await adapterFileState(ck.location.checkpointDir);
    const dir = ck.location.checkpointDir;
    // point at what was given: the checkpoint dir (with --tag when one was chosen) or the tag dir itself
    const loc = ck.location;
    const src = loc.tagSource === 'path' ? loc.tagDir : dir;
    const recoverCommand =
      lora.length > 0
        ? `npx @vla-lora/zero-merge extract-adapter ${shellQuote(src)} ${shellQuote(`${dir}-adapter`)}${loc.tagSource === 'option' ? ` --tag ${shellQuote(loc.tag)}` : ''}`
        : null;
    return {
      checkpointDir: dir,
      tagDir: ck.location.tagDir,
      tag: ck.location.tag,
      tagSource: ck.location.tagSource,
      stage: ck.stage,
      worldSize: ck.worldSize,
      partitionCount: ck.partitionCount,
      dtype16: ck.dtype16,
      dsVersion: ck.dsVersion,
      prefix: ck.location.prefix,
      files,
      totalBytes: files.reduce((a, f) => a + f.bytes, 0),
      counts: rec.counts,
      sharedParams: rec.sharedParams.map(([t, s]) => [t, s, present.has(s)]),
      lora: { tensors: lora.length, values: lora.reduce((a, t) => a + t.numel, 0), adapterNames },
      adapterFile,
      recoverCommand,
      warnings: rec.warnings,
    };
  } finally {
    await ck.close();
  }
}

const fmt = (n: number): string => n.toLocaleString('en-US');

function bytesHuman(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`;
}

/** The human-readable form `zero-merge inspect` prints. */
export function formatInspectReport(r: InspectReport): string {
  const lines: string[] = [];
  lines.push(`checkpoint   ${r.checkpointDir}`);
  lines.push(
    `tag          ${r.tag} (${r.tagSource === 'latest' ? 'from latest' : r.tagSource === 'option' ? 'from --tag' : 'given directly'})`,
  );
  lines.push(`ZeRO stage   ${r.stage}`);
  lines.push(
    `world size   ${r.worldSize}${Array.isArray(r.partitionCount) ? ` (partition_count per group ${JSON.stringify(r.partitionCount)})` : ''}`,
  );
  lines.push(`16-bit dtype ${r.dtype16 ?? 'unknown'}${r.prefix ? ` (optimizer files prefixed ${r.prefix})` : ''}`);
  lines.push(`deepspeed    ${r.dsVersion ?? 'unknown'}`);
  lines.push(`files        ${r.files.length}, ${bytesHuman(r.totalBytes)}`);
  for (const f of r.files) lines.push(`  ${f.name}  ${bytesHuman(f.bytes)}`);
  const c = r.counts;
  lines.push(`trainable    ${fmt(c.trainable.count)} tensors, ${fmt(c.trainable.numel)} values (fp32 master weights)`);
  lines.push(
    `frozen       ${fmt(c.frozen.count)} tensors, ${fmt(c.frozen.numel)} values${r.dtype16 ? ` (${r.dtype16})` : ''}`,
  );
  lines.push(`buffers      ${fmt(c.buffer.count)} tensors, ${fmt(c.buffer.numel)} values`);
  if (r.sharedParams.length === 0) lines.push('shared       none');
  for (const [t, s, ok] of r.sharedParams)
    lines.push(`shared       ${t} = ${s}${ok ? '' : ' (source not in the checkpoint: left out)'}`);
  lines.push(
    `LoRA         ${fmt(r.lora.tensors)} tensors, ${fmt(r.lora.values)} values${r.lora.adapterNames.length ? ` (adapter ${r.lora.adapterNames.join(', ')})` : ''}`,
  );
  if (r.adapterFile) {
    const a = r.adapterFile;
    if (a.placeholder)
      lines.push(
        `adapter file ${a.path}: PLACEHOLDER (${a.bytes} bytes, ${a.tensors} tensors) — loading it gives random LoRA`,
      );
    else if (a.tensors === null) lines.push(`adapter file ${a.path}: unreadable (${a.error})`);
    else lines.push(`adapter file ${a.path}: ${a.tensors} tensors, ${bytesHuman(a.bytes)}`);
  } else lines.push('adapter file none beside the checkpoint');
  if (r.recoverCommand) lines.push(`recover with ${r.recoverCommand}`);
  for (const w of r.warnings) lines.push(`warning      ${w}`);
  return lines.join('\n');
}

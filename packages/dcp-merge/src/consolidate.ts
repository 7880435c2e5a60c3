// Consolidation to one safetensors file, streamed one tensor (and one 4 MB piece) at a time; the file appears
// (atomically) only when every tensor was written.
import {
  freshOutputPath,
  torchToSafetensorsDtype,
  writeSafetensors,
  type SafetensorsEntry,
} from '@vla-lora/checkpoint-io';
import { openDcpCheckpoint, type DcpCheckpoint, type DcpTensor } from './checkpoint.js';
import { DcpOutputExistsError, DcpUsageError } from './errors.js';

export interface SelectOptions {
  /**
   * Top-level key of the saved state dict to export, with that key dropped from the names (`model` →
   * `model.embed_tokens.weight`). Default: `model` when the checkpoint has one, else every tensor. `null`: every
   * tensor under its flattened fqn (`model.model.embed_tokens.weight`, `optim.state.….exp_avg`).
   */
  key?: string | null;
}

export interface ConsolidateOptions extends SelectOptions {
  overwrite?: boolean;
  /** Called after each tensor is written. */
  onProgress?: (p: { tensors: number; totalTensors: number; bytes: number; totalBytes: number; name: string }) => void;
}

export interface ConsolidateResult {
  output: string;
  tensors: number;
  bytes: number;
  /** The key that was exported (null: all). */
  key: string | null;
  /** Tensors not exported (other top-level keys), and non-tensor entries (never exported). */
  skippedTensors: number;
  skippedBytesEntries: number;
  files: string[];
}

/** Output name of a tensor for a key, or null when it is not under that key. */
function nameFor(t: DcpTensor, key: string | null): string | null {
  if (key === null) return t.fqn;
  if (t.path.length >= 2 && t.path[0] === key) return t.path.slice(1).map(String).join('.');
  if (t.path.length === 1 && t.fqn.startsWith(`${key}.`)) return t.fqn.slice(key.length + 1);
  return null;
}

/** The tensors to export with their output names; checks the key and the names. */
export function selectTensors(
  ck: DcpCheckpoint,
  opts: SelectOptions = {},
): { key: string | null; list: Array<{ name: string; t: DcpTensor }> } {
  let key = opts.key;
  if (key === undefined) key = ck.tensors.some((t) => nameFor(t, 'model') !== null) ? 'model' : null;
  const list: Array<{ name: string; t: DcpTensor }> = [];
  for (const t of ck.tensors) {
    const name = nameFor(t, key);
    if (name !== null) list.push({ name, t });
  }
  if (list.length === 0) {
    const tops = [...new Set(ck.tensors.map((t) => String(t.path[0])))].slice(0, 8);
    throw new DcpUsageError(
      `no tensor of ${ck.dir} is under key ${JSON.stringify(key)}; its top-level keys are ${tops.join(', ')} — pass --key <one of them> or --all`,
    );
  }
  const seen = new Set<string>();
  for (const { name } of list) {
    if (seen.has(name)) throw new DcpUsageError(`two tensors would both be written as ${name}; use --all`);
    seen.add(name);
  }
  return { key, list };
}

export function toEntry(name: string, t: DcpTensor): SafetensorsEntry {
  const dtype = torchToSafetensorsDtype(t.dtype);
  if (dtype === undefined) throw new DcpUsageError(`${t.fqn} is ${t.dtype}, which safetensors cannot hold`);
  return { name, dtype, shape: t.shape, data: { chunks: () => t.chunks() } };
}

/** `output` resolved; DcpOutputExistsError when something is already there and `overwrite` is not set. */
export function freshOutput(output: string, overwrite = false): Promise<string> {
  return freshOutputPath(output, overwrite, (m) => new DcpOutputExistsError(m));
}

/** Consolidates the DCP checkpoint in `dir` into one safetensors file at `output`. */
export async function consolidate(
  dir: string,
  output: string,
  opts: ConsolidateOptions = {},
): Promise<ConsolidateResult> {
  const out = await freshOutput(output, opts.overwrite);
  const ck = await openDcpCheckpoint(dir);
  try {
    const { key, list } = selectTensors(ck, opts);
    await writeSafetensors(
      out,
      list.map(({ name, t }) => toEntry(name, t)),
      { metadata: { format: 'pt' }, ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) },
    );
    return {
      output: out,
      tensors: list.length,
      bytes: list.reduce((a, { t }) => a + t.byteLength, 0),
      key,
      skippedTensors: ck.tensors.length - list.length,
      skippedBytesEntries: ck.bytesEntries.length,
      files: ck.files,
    };
  } finally {
    await ck.close();
  }
}

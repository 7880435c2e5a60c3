// verifyAdapterFiles: the adapter checks on a set of files (a folder dropped on a web page, Blobs from
// anywhere) instead of a directory on disk. No node: imports.
import { SafetensorsSourceFile } from '../safetensors/source-reader.js';
import { blobSource } from '../source/blob.js';
import type { NamedBlob } from '../safetensors/open-source.js';
import type { RawTensor } from '../dtype/dtypes.js';
import type { PeftAdapter } from './adapter.js';
import { ADAPTER_CONFIG_NAME, MAX_CONFIG_BYTES, parseAdapterConfig, type PeftLoraConfig } from './config.js';
import { insertAdapterName } from './names.js';
import { AdapterConfigError, AdapterWeightsMissingError } from './errors.js';
import { verifyAdapterWeights, type AdapterReport, type EmptyAdapterErrors } from './verify.js';
import { readPtSource } from '../pt/read-source.js';
import { adapterWeightsFromPt, adapterWeightsFromReader } from './weights-source.js';
import type { AdapterWeights } from './weights.js';
import { pickZeroCheckpointDir, placeholderErrorFor, zeroElementErrorFor } from './zero-hint.js';

const split = (name: string): [string, string] => {
  const i = Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\'));
  return i < 0 ? ['', name] : [name.slice(0, i), name.slice(i + 1)];
};

/** Opens a `.bin` adapter weights Blob (default: the safe .pt reader over the Blob). */
export type OpenAdapterBin = (blob: Blob, name: string) => Promise<AdapterWeights>;

/** An adapter found among files: its folder (for messages), config, opened weights, and the empty-weights errors. */
export interface AdapterFiles {
  label: string;
  config: PeftLoraConfig;
  weights: AdapterWeights;
  empty: EmptyAdapterErrors;
}

/**
 * Finds the adapter among `files` (names are paths relative to the dropped folder, e.g.
 * `checkpoint-5000/adapter_config.json`): the shallowest adapter_config.json, the
 * adapter_model.safetensors (else adapter_model.bin, read with the safe .pt reader) beside it, and — for the
 * ZeRO hint — a `latest` file and `global_step*` folders beside it. Close `weights` when done.
 */
export async function openAdapterFiles(
  files: readonly NamedBlob[],
  opts: { openBin?: OpenAdapterBin } = {},
): Promise<AdapterFiles> {
  const configs = files
    .filter((f) => split(f.name)[1] === ADAPTER_CONFIG_NAME)
    .sort((a, b) => a.name.split('/').length - b.name.split('/').length);
  const cfg = configs[0];
  if (!cfg)
    throw new AdapterConfigError(
      'files',
      `no ${ADAPTER_CONFIG_NAME} among the files: not a PEFT adapter folder (drop the folder that holds it)`,
    );
  const [dir] = split(cfg.name);
  const label = dir === '' ? '.' : dir;
  if (cfg.blob.size > MAX_CONFIG_BYTES)
    throw new AdapterConfigError(label, `${cfg.name} is ${cfg.blob.size} bytes; an adapter config is a few KB`);
  const config = parseAdapterConfig(await cfg.blob.text(), cfg.name, label);
  const inDir = (n: string) => (dir === '' ? n : `${dir}/${n}`);
  const byName = new Map(files.map((f) => [f.name.replace(/\\/g, '/'), f.blob]));
  // entries beside the adapter: files and the first segment of deeper paths (folders)
  const prefix = dir === '' ? '' : `${dir}/`;
  const beside = [
    ...new Set(
      [...byName.keys()].filter((n) => n.startsWith(prefix)).map((n) => n.slice(prefix.length).split('/')[0]!),
    ),
  ];
  const latestBlob = byName.get(inDir('latest'));
  const latest = latestBlob && latestBlob.size < 4096 ? (await latestBlob.text()).trim() : null;
  const zero = pickZeroCheckpointDir(beside, latest);
  const zeroDir = zero === null ? null : inDir(zero);
  const empty = {
    placeholder: (path: string) => placeholderErrorFor(label, path, byName.get(path)?.size ?? 0, zeroDir),
    zeroElements: (path: string, names: string[]) => zeroElementErrorFor(label, path, names, zeroDir),
  };
  const st = inDir('adapter_model.safetensors');
  const bin = inDir('adapter_model.bin');
  let weights: AdapterWeights;
  if (byName.has(st)) {
    weights = adapterWeightsFromReader(st, await SafetensorsSourceFile.open(blobSource(byName.get(st)!, st)));
  } else if (byName.has(bin)) {
    const open =
      opts.openBin ?? (async (b: Blob, n: string) => adapterWeightsFromPt(n, await readPtSource(blobSource(b, n))));
    weights = await open(byName.get(bin)!, bin);
  } else {
    throw new AdapterWeightsMissingError(
      label,
      `${label} has neither adapter_model.safetensors nor adapter_model.bin; if training ran under DeepSpeed ZeRO the weights are in its global_step*/ shards: npx @vla-lora/zero-merge extract-adapter <ckpt-dir> <out-dir>`,
    );
  }
  return { label, config, weights, empty };
}

/** Verifies the adapter among `files` (found as openAdapterFiles does) with verifyAdapterWeights' checks. */
export async function verifyAdapterFiles(
  files: readonly NamedBlob[],
  opts: { openBin?: OpenAdapterBin } = {},
): Promise<AdapterReport> {
  const { label, config, weights, empty } = await openAdapterFiles(files, opts);
  return verifyAdapterWeights(label, config, weights, empty);
}

/**
 * loadPeftAdapter for files (a dropped folder, Blobs): config and every tensor, keys with the adapter name
 * inserted as PEFT's set_peft_model_state_dict does; the ZeRO-3 placeholder and zero-element tensors throw
 * (with the zero-merge hint) instead of loading as random LoRA.
 */
export async function loadPeftAdapterFiles(
  files: readonly NamedBlob[],
  opts: { adapterName?: string; openBin?: OpenAdapterBin } = {},
): Promise<PeftAdapter> {
  const adapterName = opts.adapterName ?? 'default';
  const { config, weights, empty } = await openAdapterFiles(files, opts);
  try {
    if (weights.names.length === 0) throw await empty.placeholder(weights.path);
    if (weights.emptyNames.length > 0) throw await empty.zeroElements(weights.path, weights.emptyNames);
    const tensors = new Map<string, RawTensor>();
    for await (const [k, t] of weights.tensors()) tensors.set(insertAdapterName(k, adapterName), t);
    return { config, tensors, adapterName };
  } finally {
    await weights.close();
  }
}

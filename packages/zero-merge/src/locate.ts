// Finding the files of a DeepSpeed checkpoint: the `latest` tag (or --tag), the optimizer and model
// state files of every rank, their name prefix (bf16_ or none), and what is missing or extra.
import { readFile, readdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { isDirectory, isFile } from '@vla-lora/checkpoint-io';
import { CheckpointNotFoundError, RankFilesError, UnsupportedCheckpointError } from './errors.js';

const OPTIM_RE = /^(.*?)zero_pp_rank_(\d+)_mp_rank_(\d+)_optim_states\.pt$/;
const ZERO3_MODEL_RE = /^zero_pp_rank_(\d+)_mp_rank_(\d+)_model_states\.pt$/;
const MODEL_RE = /^mp_rank_(\d+)_model_states\.pt$/;

/** The files of one checkpoint tag, before any of them is opened. */
export interface CheckpointLocation {
  /** Directory holding `latest` and adapter files (the one passed in, or the tag dir's parent). */
  checkpointDir: string;
  /** Directory holding the *_states.pt files (e.g. checkpoint-5000/global_step5000). */
  tagDir: string;
  tag: string;
  /** How the tag was chosen. */
  tagSource: 'latest' | 'option' | 'path';
  /** Prefix of the optimizer files: 'bf16_' or ''. */
  prefix: string;
  /** Optimizer files by rank (index = rank); null where a rank's file is absent. */
  optimByRank: Array<string | null>;
  /** zero_pp_rank_{r}_mp_rank_00_model_states.pt by rank (ZeRO-3 layout). */
  zero3ModelByRank: Array<string | null>;
  /** mp_rank_00_model_states.pt (ZeRO-1/2 layout), if present. */
  modelFile: string | null;
  /** Every file name in the tag dir. */
  names: string[];
}

function hasStates(names: string[]): boolean {
  return names.some((n) => n.endsWith('_optim_states.pt') || n.endsWith('_model_states.pt'));
}

async function subdirsWithStates(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (e.isDirectory() && hasStates(await readdir(join(dir, e.name)).catch(() => []))) out.push(e.name);
  }
  return out.sort();
}

/** Resolves `path` (a checkpoint dir with `latest`, or a tag dir) and lists its rank files. */
export async function locateCheckpoint(path: string, opts: { tag?: string } = {}): Promise<CheckpointLocation> {
  const root = resolve(path);
  if (!(await isDirectory(root)))
    throw new CheckpointNotFoundError(
      `${root} is not a directory; pass the checkpoint directory (the one holding "latest") or a global_step* tag directory`,
    );
  let checkpointDir: string;
  let tag: string;
  let tagSource: CheckpointLocation['tagSource'];
  if (opts.tag !== undefined) {
    if (opts.tag === '' || opts.tag !== basename(opts.tag))
      throw new CheckpointNotFoundError(`--tag ${JSON.stringify(opts.tag)} must be a directory name inside ${root}`);
    checkpointDir = root;
    tag = opts.tag;
    tagSource = 'option';
  } else if (await isFile(join(root, 'latest'))) {
    tag = (await readFile(join(root, 'latest'), 'utf8')).trim();
    if (tag === '' || tag !== basename(tag))
      throw new CheckpointNotFoundError(
        `${join(root, 'latest')} holds ${JSON.stringify(tag)}, not a tag directory name; pass --tag <global_stepN>`,
      );
    checkpointDir = root;
    tagSource = 'latest';
  } else if (hasStates(await readdir(root))) {
    checkpointDir = dirname(root);
    tag = basename(root);
    tagSource = 'path';
  } else {
    const candidates = await subdirsWithStates(root);
    throw new CheckpointNotFoundError(
      `${root} has no "latest" file and no *_states.pt files` +
        (candidates.length > 0
          ? `; tag directories found: ${candidates.join(', ')} — pass --tag ${candidates[candidates.length - 1]}`
          : '; pass the DeepSpeed checkpoint directory (it holds "latest" and global_step*/)'),
    );
  }
  const tagDir = join(checkpointDir, tag);
  if (!(await isDirectory(tagDir))) {
    const candidates = await subdirsWithStates(checkpointDir);
    throw new CheckpointNotFoundError(
      `tag directory ${tagDir} does not exist (tag ${JSON.stringify(tag)} from ${tagSource === 'latest' ? join(checkpointDir, 'latest') : '--tag'})` +
        (candidates.length > 0 ? `; tag directories found: ${candidates.join(', ')} — pass --tag <one of them>` : ''),
    );
  }
  const names = (await readdir(tagDir)).sort();

  const optim = new Map<string, Array<string | null>>();
  const zero3Model: Array<string | null> = [];
  let modelFile: string | null = null;
  const otherMp: string[] = [];
  for (const n of names) {
    let m = OPTIM_RE.exec(n);
    if (m) {
      if (Number(m[3]) !== 0) {
        otherMp.push(n);
        continue;
      }
      const list = optim.get(m[1]!) ?? [];
      list[Number(m[2])] = join(tagDir, n);
      optim.set(m[1]!, list);
      continue;
    }
    m = ZERO3_MODEL_RE.exec(n);
    if (m) {
      if (Number(m[2]) !== 0) otherMp.push(n);
      else zero3Model[Number(m[1])] = join(tagDir, n);
      continue;
    }
    m = MODEL_RE.exec(n);
    if (m) {
      if (Number(m[1]) !== 0) otherMp.push(n);
      else modelFile = join(tagDir, n);
    }
  }
  if (otherMp.length > 0) {
    throw new UnsupportedCheckpointError(
      `${tagDir} holds model-parallel rank files (${otherMp.slice(0, 3).join(', ')}${otherMp.length > 3 ? ' …' : ''}); zero-merge, like zero_to_fp32, consolidates data-parallel ZeRO checkpoints with mp_world_size 1 only — convert with DeepSpeed's ds_to_universal.py`,
    );
  }
  if (names.some((n) => /^layer_\d+-model_\d+-model_states\.pt$/.test(n))) {
    throw new UnsupportedCheckpointError(
      `${tagDir} is a pipeline-parallel checkpoint (layer_*-model_states.pt); zero-merge does not consolidate pipeline stages — use DeepSpeed's ds_to_universal.py`,
    );
  }
  if (optim.size === 0) {
    throw new RankFilesError(
      `no *_optim_states.pt files in ${tagDir}${hasStates(names) ? ' (model states only)' : ''}: the fp32 master weights live in the optimizer files — copy every zero_pp_rank_*_optim_states.pt of this tag from the training machines`,
      [],
      [],
    );
  }
  if (optim.size > 1) {
    const groups = [...optim.keys()].map(
      (p) => `${p === '' ? '(no prefix)' : p}: ${optim.get(p)!.filter(Boolean).length} file(s)`,
    );
    throw new RankFilesError(
      `${tagDir} mixes optimizer files of different precisions (${groups.join('; ')}); a later run probably saved into the same tag — remove the stale set so that one prefix remains`,
      [],
      [...optim.entries()].flatMap(([, l]) => l.filter((x): x is string => x !== null).map((f) => basename(f))),
    );
  }
  const [prefix, optimByRank] = [...optim.entries()][0]!;
  return {
    checkpointDir,
    tagDir,
    tag,
    tagSource,
    prefix,
    optimByRank: Array.from({ length: optimByRank.length }, (_, i) => optimByRank[i] ?? null),
    zero3ModelByRank: Array.from({ length: zero3Model.length }, (_, i) => zero3Model[i] ?? null),
    modelFile,
    names,
  };
}

export function optimFileName(prefix: string, rank: number): string {
  return `${prefix}zero_pp_rank_${rank}_mp_rank_00_optim_states.pt`;
}

export function zero3ModelFileName(rank: number): string {
  return `zero_pp_rank_${rank}_mp_rank_00_model_states.pt`;
}

export const ZERO2_MODEL_FILE = 'mp_rank_00_model_states.pt';

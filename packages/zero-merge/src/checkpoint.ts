// Opening a DeepSpeed ZeRO checkpoint: every rank file is parsed (pickle only: tensor bytes stay on
// disk behind lazy TorchTensor handles), the stage, world size and 16-bit dtype are detected, and
// the file set is checked against the world size before anything is reconstructed.
import { basename } from 'node:path';
import { PickleDict, readPt, UnsafePickleError, type PtFile, type TorchTensor } from '@vla-lora/checkpoint-io';
import { CorruptCheckpointError, RankFilesError, UnsupportedStageError, WorldSizeMismatchError } from './errors.js';
import {
  locateCheckpoint,
  optimFileName,
  zero3ModelFileName,
  ZERO2_MODEL_FILE,
  type CheckpointLocation,
} from './locate.js';
import {
  asDict,
  asInt,
  asList,
  asShape,
  asString,
  asTensor,
  at,
  child,
  get,
  req,
  stringEntries,
  type At,
} from './pickle.js';

export type ZeroStage = 1 | 2 | 3;

/** What one model-states file says (ZeRO-3 has one per rank; ZeRO-1/2 one in all). */
export interface ModelStates {
  file: string;
  bufferNames: string[];
  /** `module` entries that are buffers, in module order. */
  buffers: Array<{ name: string; tensor: TorchTensor }>;
  /** Trainable parameter shapes, one ordered map per optimizer param group. */
  paramGroups: Array<Array<{ name: string; shape: number[] }>>;
  frozenShapes: Array<{ name: string; shape: number[] }>;
  frozenFragments: Map<string, TorchTensor>;
  /** [tied name, source name] pairs (e.g. lm_head.weight -> embed_tokens.weight). */
  sharedParams: Array<[string, string]>;
  dsVersion: string | null;
  /** dtype of the module's parameter entries (placeholders under ZeRO-3). */
  moduleParamDtype: string | null;
  dsConfig: PickleDict | null;
}

export interface ZeroCheckpoint {
  location: CheckpointLocation;
  stage: ZeroStage;
  worldSize: number;
  /** partition_count as saved: an int (ZeRO-3) or one per param group (ZeRO-1/2). */
  partitionCount: number | number[];
  /** The 16-bit training dtype ('BF16' | 'F16'), or null when it cannot be told. */
  dtype16: 'BF16' | 'F16' | null;
  dsVersion: string | null;
  optimFiles: string[];
  modelFiles: string[];
  /** Model states: ZeRO-3 one per rank (index = rank), ZeRO-1/2 exactly one. */
  models: ModelStates[];
  /** fp32 master partitions: [rank][group] (single_partition_of_fp32_groups / fp32_flat_groups). */
  fp32Groups: TorchTensor[][];
  /** Closes every rank file (tensors cannot be read afterwards). */
  close(): Promise<void>;
}

async function openPt(file: string): Promise<PtFile> {
  try {
    return await readPt(file);
  } catch (err) {
    // A hostile pickle is not a damaged file: keep checkpoint-io's UnsafePickleError (it names the globals).
    if (err instanceof UnsafePickleError) throw err;
    throw new CorruptCheckpointError(
      `could not read ${file}: ${(err as Error).message} — the file is truncated or damaged; copy it again from the machine that saved it`,
      file,
      { cause: err },
    );
  }
}

function rootDict(pt: PtFile, file: string): PickleDict {
  return asDict(pt.root, at(file));
}

function parseModelStates(pt: PtFile, file: string): ModelStates {
  const a = at(file);
  const root = rootDict(pt, file);
  if (get(root, 'buffer_names') === undefined) {
    throw new CorruptCheckpointError(`${file} is not a DeepSpeed model state checkpoint (no "buffer_names")`, file);
  }
  const bufferNames = asList(req(root, 'buffer_names', a), child(a, 'buffer_names')).map((v, i) =>
    asString(v, child(child(a, 'buffer_names'), i)),
  );
  const moduleAt = child(a, 'module');
  const module = asDict(req(root, 'module', a), moduleAt);
  const bufferSet = new Set(bufferNames);
  const buffers: ModelStates['buffers'] = [];
  let moduleParamDtype: string | null = null;
  for (const [name, v] of stringEntries(module, moduleAt)) {
    if (bufferSet.has(name)) buffers.push({ name, tensor: asTensor(v, child(moduleAt, name)) });
    else if (
      moduleParamDtype === null &&
      v !== null &&
      typeof v === 'object' &&
      'dtype' in v &&
      typeof v.dtype === 'string'
    )
      moduleParamDtype = v.dtype;
  }
  const psAt = child(a, 'param_shapes');
  const paramGroups = asList(req(root, 'param_shapes', a), psAt).map((g, gi) => {
    const gAt = child(psAt, gi);
    return stringEntries(asDict(g, gAt), gAt).map(([name, s]) => ({ name, shape: asShape(s, child(gAt, name)) }));
  });
  const fsV = get(root, 'frozen_param_shapes');
  const fsAt = child(a, 'frozen_param_shapes');
  const frozenShapes =
    fsV === undefined || fsV === null
      ? []
      : stringEntries(asDict(fsV, fsAt), fsAt).map(([name, s]) => ({ name, shape: asShape(s, child(fsAt, name)) }));
  const ffV = get(root, 'frozen_param_fragments');
  const ffAt = child(a, 'frozen_param_fragments');
  const frozenFragments = new Map<string, TorchTensor>();
  if (ffV !== undefined && ffV !== null)
    for (const [name, t] of stringEntries(asDict(ffV, ffAt), ffAt))
      frozenFragments.set(name, asTensor(t, child(ffAt, name)));
  const spAt = child(a, 'shared_params');
  const spV = get(root, 'shared_params');
  const sharedParams: Array<[string, string]> =
    spV === undefined || spV === null
      ? []
      : stringEntries(asDict(spV, spAt), spAt).map(([k, v]) => [k, asString(v, child(spAt, k))]);
  const dv = get(root, 'ds_version');
  const dc = get(root, 'ds_config');
  return {
    file,
    bufferNames,
    buffers,
    paramGroups,
    frozenShapes,
    frozenFragments,
    sharedParams,
    dsVersion: typeof dv === 'string' ? dv : null,
    moduleParamDtype,
    dsConfig: dc instanceof PickleDict ? dc : null,
  };
}

interface OptimInfo {
  stage: number;
  partitionCount: number | number[];
  worldSize: number;
}

function optimInfo(pt: PtFile, file: string): { info: OptimInfo; osd: PickleDict; osdAt: At } {
  const a = at(file);
  const root = rootDict(pt, file);
  const osdAt = child(a, 'optimizer_state_dict');
  const osdV = get(root, 'optimizer_state_dict');
  if (osdV === undefined)
    throw new CorruptCheckpointError(
      `${file} is not a DeepSpeed optimizer state file (no "optimizer_state_dict")`,
      file,
    );
  const osd = asDict(osdV, osdAt);
  const zs = get(osd, 'zero_stage');
  if (zs === undefined) {
    throw new UnsupportedStageError(
      `${file} is not a ZeRO checkpoint (its optimizer state has no "zero_stage"); plain DeepSpeed or stage-0 checkpoints hold full weights in mp_rank_00_model_states.pt already`,
      null,
    );
  }
  const stage = asInt(zs, child(osdAt, 'zero_stage'));
  const pcV = req(osd, 'partition_count', osdAt);
  const pcAt = child(osdAt, 'partition_count');
  const partitionCount = Array.isArray(pcV) ? pcV.map((x, i) => asInt(x, child(pcAt, i))) : asInt(pcV, pcAt);
  const worldSize = Array.isArray(partitionCount) ? Math.max(...partitionCount) : partitionCount;
  if (!Number.isInteger(worldSize) || worldSize < 1)
    throw new CorruptCheckpointError(
      `${file}: partition_count ${JSON.stringify(partitionCount)} is not a positive world size`,
      file,
    );
  return { info: { stage, partitionCount, worldSize }, osd, osdAt };
}

function sameCount(a: number | number[], b: number | number[]): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function detectDtype16(models: ModelStates[], prefix: string): 'BF16' | 'F16' | null {
  const m = models[0]!;
  const fromTorch = (d: string | null | undefined): 'BF16' | 'F16' | null =>
    d === 'bfloat16' ? 'BF16' : d === 'float16' ? 'F16' : null;
  const firstFrozen = m.frozenFragments.values().next().value as TorchTensor | undefined;
  const direct = fromTorch(m.moduleParamDtype) ?? fromTorch(firstFrozen?.dtype);
  if (direct) return direct;
  const cfg = m.dsConfig;
  const enabled = (k: string): boolean => {
    const sec = cfg ? get(cfg, k) : undefined;
    return sec instanceof PickleDict && get(sec, 'enabled') === true;
  };
  if (enabled('bf16')) return 'BF16';
  if (enabled('fp16')) return 'F16';
  return prefix.startsWith('bf16') ? 'BF16' : null;
}

/**
 * Opens every rank file of the checkpoint at `path` (a dir with `latest`, or a tag dir). Checks,
 * before any tensor byte is read: the stage is 1, 2 or 3; one optimizer file per rank of
 * `partition_count` (naming missing and extra files); the model-states files the stage needs; the
 * same stage, partition_count and group layout in every rank.
 */
export async function openZeroCheckpoint(path: string, opts: { tag?: string } = {}): Promise<ZeroCheckpoint> {
  const loc = await locateCheckpoint(path, opts);
  const opened: PtFile[] = [];
  const open = async (file: string): Promise<PtFile> => {
    const pt = await openPt(file);
    opened.push(pt);
    return pt;
  };
  const closeAll = async (): Promise<void> => {
    await Promise.all(opened.map((p) => p.close().catch(() => undefined)));
  };
  try {
    const present = loc.optimByRank.map((f, r) => (f ? r : -1)).filter((r) => r >= 0);
    const firstRank = present[0]!;
    const firstFile = loc.optimByRank[firstRank]!;
    const firstPt = await open(firstFile);
    const first = optimInfo(firstPt, firstFile);
    const { stage, partitionCount, worldSize } = first.info;
    if (stage !== 1 && stage !== 2 && stage !== 3) {
      throw new UnsupportedStageError(
        `${basename(firstFile)} records ZeRO stage ${stage}; zero-merge reconstructs stages 1, 2 and 3 only (as DeepSpeed's zero_to_fp32 does)`,
        stage,
      );
    }
    const missing: string[] = [];
    const extra: string[] = [];
    for (let r = 0; r < Math.max(worldSize, loc.optimByRank.length); r++) {
      const f = loc.optimByRank[r] ?? null;
      if (r < worldSize && f === null) missing.push(optimFileName(loc.prefix, r));
      if (r >= worldSize && f !== null) extra.push(basename(f));
    }
    if (missing.length > 0 || extra.length > 0) {
      throw new WorldSizeMismatchError(
        `expected ${worldSize} *_optim_states.pt files (partition_count ${JSON.stringify(partitionCount)} in ${basename(firstFile)}) under ${loc.tagDir} but found ${present.length}` +
          (missing.length > 0 ? `; missing: ${missing.join(', ')}` : '') +
          (extra.length > 0 ? `; extra: ${extra.join(', ')}` : '') +
          ' — a rank did not save, or an older checkpoint with another world size was overwritten; copy the missing files from the training machines or remove the extra ones',
        worldSize,
        present.length,
        missing,
        extra,
      );
    }
    const optimFiles = loc.optimByRank as string[];
    const groupsKey = stage <= 2 ? 'single_partition_of_fp32_groups' : 'fp32_flat_groups';
    const fp32Groups: TorchTensor[][] = [];
    for (let r = 0; r < worldSize; r++) {
      const file = optimFiles[r]!;
      const o = r === firstRank ? first : optimInfo(await open(file), file);
      if (o.info.stage !== stage || !sameCount(o.info.partitionCount, partitionCount)) {
        throw new WorldSizeMismatchError(
          `${basename(file)} records stage ${o.info.stage}, partition_count ${JSON.stringify(o.info.partitionCount)} but ${basename(firstFile)} records stage ${stage}, partition_count ${JSON.stringify(partitionCount)}: the files come from different runs — use one checkpoint's files only`,
          worldSize,
          o.info.worldSize,
          [],
          [basename(file)],
        );
      }
      const gAt = child(o.osdAt, groupsKey);
      const groups = asList(req(o.osd, groupsKey, o.osdAt), gAt).map((t, i) => asTensor(t, child(gAt, i)));
      for (const [i, t] of groups.entries()) {
        if (t.dtype !== 'float32' || t.shape.length !== 1) {
          throw new CorruptCheckpointError(
            `${file}: ${groupsKey}[${i}] is ${t.dtype}${JSON.stringify(t.shape)}, expected a 1-D float32 partition`,
            file,
          );
        }
      }
      if (fp32Groups.length > 0 && groups.length !== fp32Groups[0]!.length) {
        throw new CorruptCheckpointError(
          `${file} has ${groups.length} fp32 param groups but ${optimFiles[0]} has ${fp32Groups[0]!.length}: the files come from different runs`,
          file,
        );
      }
      fp32Groups.push(groups);
    }

    const models: ModelStates[] = [];
    let modelFiles: string[];
    if (stage <= 2) {
      if (loc.modelFile === null) {
        throw new RankFilesError(
          `can't find model states file ${ZERO2_MODEL_FILE} in ${loc.tagDir}: it holds the frozen weights, buffers and parameter shapes — copy it from rank 0 of the training run`,
          [ZERO2_MODEL_FILE],
          [],
        );
      }
      modelFiles = [loc.modelFile];
    } else {
      const miss: string[] = [];
      const ext: string[] = [];
      for (let r = 0; r < Math.max(worldSize, loc.zero3ModelByRank.length); r++) {
        const f = loc.zero3ModelByRank[r] ?? null;
        if (r < worldSize && f === null) miss.push(zero3ModelFileName(r));
        if (r >= worldSize && f !== null) ext.push(basename(f));
      }
      if (miss.length > 0 || ext.length > 0) {
        throw new RankFilesError(
          `ZeRO-3 needs one model states file per rank (${worldSize}) in ${loc.tagDir}` +
            (miss.length > 0 ? `; missing: ${miss.join(', ')}` : '') +
            (ext.length > 0 ? `; extra: ${ext.join(', ')}` : '') +
            ' — every rank holds a fragment of each frozen weight; copy the missing files from the training machines or remove the extra ones',
          miss,
          ext,
        );
      }
      modelFiles = loc.zero3ModelByRank as string[];
    }
    for (const f of modelFiles) models.push(parseModelStates(await open(f), f));
    const m0 = models[0]!;
    const dtype16 = detectDtype16(models, loc.prefix);
    return {
      location: loc,
      stage: stage as ZeroStage,
      worldSize,
      partitionCount,
      dtype16,
      dsVersion: m0.dsVersion,
      optimFiles,
      modelFiles,
      models,
      fp32Groups,
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

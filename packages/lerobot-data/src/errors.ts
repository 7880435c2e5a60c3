// Typed errors of @vla-lora/lerobot-data. Every message names the file and says what to do.

/** Base class of every error this package throws. */
export class LeRobotDataError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A meta file (info.json, episodes.jsonl, tasks.jsonl, stats) is not there. */
export class MissingMetaFileError extends LeRobotDataError {
  constructor(
    readonly path: string,
    hint: string,
  ) {
    super(`${path} is missing; ${hint}`);
  }
}

/** A meta file is there but does not parse or lacks a field LeRobot v2.x requires. */
export class InvalidMetaError extends LeRobotDataError {
  constructor(
    readonly path: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${path}: ${detail}; fix the file or re-export the dataset with LeRobot v2.0/v2.1`, options);
  }
}

/** codebase_version is not v2.0 / v2.1 (e.g. v3.0 stores many episodes per file; v1.x is pre-parquet). */
export class UnsupportedVersionError extends LeRobotDataError {
  constructor(
    readonly path: string,
    readonly version: string,
  ) {
    super(
      `${path}: codebase_version "${version}" is not supported (this reader handles v2.0 and v2.1); ` +
        (version.startsWith('v3')
          ? "convert it back with LeRobot's v3.0→v2.1 tooling, or export the dataset with lerobot<0.4"
          : 'convert it with LeRobot\'s "convert_dataset_v1_to_v2" / "convert_dataset_v20_to_v21" scripts'),
    );
  }
}

/** episodes.jsonl does not number its episodes 0..N-1 (gaps or duplicates), or disagrees with info.json. */
export class EpisodeIndexGapError extends LeRobotDataError {
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(
      `${path}: ${detail}; LeRobot v2.x needs episodes numbered 0..N-1 without gaps: re-export the dataset or renumber episodes.jsonl and the parquet files together`,
    );
  }
}

/** A per-episode data parquet file named by info.json's data_path is not there. */
export class MissingDataFileError extends LeRobotDataError {
  constructor(
    readonly path: string,
    readonly episodeIndex: number,
  ) {
    super(
      `${path} (episode ${episodeIndex}) is missing; episodes.jsonl lists it, so the download/copy is incomplete: fetch the data folder again`,
    );
  }
}

/** A feature declared in info.json (or needed by a transform) is not a column of the parquet file. */
export class MissingColumnError extends LeRobotDataError {
  constructor(
    readonly path: string,
    readonly column: string,
    readonly present: readonly string[],
  ) {
    super(
      `${path}: column "${column}" is missing (columns present: ${present.join(', ') || 'none'}); ` +
        'the file does not match meta/info.json features: re-export the episode, or map your column names with the `keys` option',
    );
  }
}

/** A value does not have the shape / length / type info.json declares. */
export class ShapeMismatchError extends LeRobotDataError {
  constructor(
    readonly path: string,
    readonly column: string,
    detail: string,
  ) {
    super(
      `${path}: column "${column}" ${detail}; the file does not match meta/info.json: re-export the episode or fix the feature's shape`,
    );
  }
}

/** Per-frame bookkeeping (episode_index, frame_index, index, timestamp, task_index) is inconsistent. */
export class FrameIndexError extends LeRobotDataError {
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(`${path}: ${detail}; action chunks would be misaligned: re-export the episode`);
  }
}

/** A stored image does not decode as PNG, or decodes to the wrong size. */
export class BadImageError extends LeRobotDataError {
  constructor(
    readonly path: string,
    readonly column: string,
    readonly row: number,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(
      `${path}: image "${column}" at row ${row} ${detail}; re-encode the frame as PNG (LeRobot's "image" dtype stores PNG bytes in struct<bytes, path>)`,
      options,
    );
  }
}

/** A feature type this reader does not decode (videos). */
export class UnsupportedFeatureError extends LeRobotDataError {
  constructor(
    readonly feature: string,
    detail: string,
  ) {
    super(`feature "${feature}": ${detail}`);
  }
}

/** norm_stats.json is malformed or does not match the data. */
export class NormStatsError extends LeRobotDataError {
  constructor(detail: string) {
    super(`${detail}; recompute them with compute-norm-stats for this dataset`);
  }
}

/** A sampler cursor does not belong to this dataset / sampler configuration. */
export class SamplerCursorError extends LeRobotDataError {
  constructor(detail: string) {
    super(
      `cannot restore the data order: ${detail}; resume with the same dataset and batch settings, or start a fresh run`,
    );
  }
}

/** Invalid options passed by the caller. */
export class InvalidOptionError extends LeRobotDataError {}

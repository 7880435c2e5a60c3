// lerobot-data CLI: generate | compute-norm-stats | inspect.
import { parseArgs } from 'node:util';
import { computeNormStatsCommand } from './commands.js';
import { LeRobotDataset } from './dataset.js';
import { LeRobotDataError } from './errors.js';
import { generateLiberoDataset } from './generator.js';
import { progressReporter } from './progress.js';

const USAGE = `usage:
  lerobot-data generate <dir> [--episodes 50] [--steps 40] [--image-size 32] [--seed 0] [--held-out N] [--chunks-size 1000] [--v2.0] [--overwrite]
  lerobot-data compute-norm-stats <dataset> [--out FILE|DIR] [--split train] [--action-horizon 50] [--delta-actions] [--max-frames N]
  lerobot-data inspect <dataset> [--split NAME] [--check-images]`;

function int(v: string | boolean | undefined, name: string): number | undefined {
  if (v === undefined || typeof v === 'boolean') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new LeRobotDataError(`--${name} must be an integer (got "${v}")`);
  return n;
}

/** node:util parseArgs with the CLI's options; a bad flag is a LeRobotDataError (one line, exit 1). */
function parseCliArgs(args: string[]) {
  try {
    return parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        episodes: { type: 'string' },
        steps: { type: 'string' },
        'image-size': { type: 'string' },
        seed: { type: 'string' },
        'held-out': { type: 'string' },
        'chunks-size': { type: 'string' },
        'v2.0': { type: 'boolean' },
        overwrite: { type: 'boolean' },
        out: { type: 'string' },
        split: { type: 'string' },
        'action-horizon': { type: 'string' },
        'delta-actions': { type: 'boolean' },
        'max-frames': { type: 'string' },
        'check-images': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    if ((err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS'))
      throw new LeRobotDataError((err as Error).message);
    throw err;
  }
}

/** Runs the CLI; returns the exit code. Output: one JSON object on stdout, progress on stderr. */
export async function runCli(
  argv: string[],
  out: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
  showProgress = true,
): Promise<number> {
  const progress = (label: string): ((done: number, total: number) => void) | undefined =>
    showProgress ? progressReporter(label) : undefined;
  const [cmd, ...rest] = argv;
  const { values, positionals } = parseCliArgs(rest);
  const target = positionals[0];
  if (values.help || cmd === undefined || cmd === 'help' || cmd === '--help' || cmd === '-h') {
    out(USAGE);
    return cmd === undefined ? 2 : 0;
  }
  if (target === undefined) {
    out(USAGE);
    return 2;
  }
  switch (cmd) {
    case 'generate': {
      const t0 = Date.now();
      const r = await generateLiberoDataset(target, {
        episodes: int(values.episodes, 'episodes'),
        steps: int(values.steps, 'steps'),
        imageSize: int(values['image-size'], 'image-size'),
        seed: int(values.seed, 'seed'),
        heldOut: int(values['held-out'], 'held-out'),
        chunksSize: int(values['chunks-size'], 'chunks-size'),
        codebaseVersion: values['v2.0'] ? 'v2.0' : 'v2.1',
        overwrite: values.overwrite ?? false,
      });
      const ds = await LeRobotDataset.open(target);
      out(
        JSON.stringify({
          event: 'generated',
          root: r.root,
          episodes: ds.episodeIndices.length,
          frames: ds.length,
          train: r.trainEpisodes.length,
          heldOut: r.heldOutEpisodes.length,
          seconds: (Date.now() - t0) / 1000,
        }),
      );
      return 0;
    }
    case 'compute-norm-stats': {
      const r = await computeNormStatsCommand({
        dataset: target,
        out: values.out,
        split: values.split,
        actionHorizon: int(values['action-horizon'], 'action-horizon'),
        deltaActions: values['delta-actions'] ?? false,
        maxFrames: int(values['max-frames'], 'max-frames'),
        onProgress: progress('norm stats'),
      });
      out(JSON.stringify({ event: 'norm_stats', path: r.path, frames: r.frames, episodes: r.episodes }));
      return 0;
    }
    case 'inspect': {
      const ds = await LeRobotDataset.open(
        target,
        values.split ? { episodes: values.split } : { onProgress: progress('episodes') },
      );
      const images = values['check-images'] ? await ds.validateImages(progress('images')) : null;
      const info = ds.meta.info;
      out(
        JSON.stringify({
          event: 'dataset',
          root: target,
          version: info.codebase_version,
          fps: info.fps,
          episodes: ds.episodeIndices.length,
          frames: ds.length,
          splits: info.splits,
          tasks: ds.meta.tasks.map((t) => t.task),
          vectors: ds.kinds.vectors,
          images: ds.kinds.images,
          imagesChecked: images,
        }),
      );
      return 0;
    }
    default:
      out(`unknown command "${cmd}"\n${USAGE}`);
      return 2;
  }
}

// lerobot-data CLI: generate | compute-norm-stats | inspect (commander, as every other @vla-lora CLI).
import { Command, CommanderError } from 'commander';
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

interface Flags {
  episodes?: string;
  steps?: string;
  imageSize?: string;
  seed?: string;
  heldOut?: string;
  chunksSize?: string;
  'v2.0'?: boolean;
  overwrite?: boolean;
  out?: string;
  split?: string;
  actionHorizon?: string;
  deltaActions?: boolean;
  maxFrames?: string;
  checkImages?: boolean;
}

type Invocation = { cmd: 'generate' | 'compute-norm-stats' | 'inspect'; target: string; values: Flags };

/** The command line (commander, as every other @vla-lora CLI); help is USAGE. */
function buildProgram(write: (text: string) => void, onAction: (inv: Invocation) => void): Command {
  const program = new Command('lerobot-data')
    .exitOverride()
    .configureHelp({ formatHelp: () => `${USAGE}\n` })
    .configureOutput({ writeOut: write, writeErr: (t) => process.stderr.write(t) });
  program
    .command('generate')
    .argument('<dir>')
    .option('--episodes <n>')
    .option('--steps <n>')
    .option('--image-size <n>')
    .option('--seed <n>')
    .option('--held-out <n>')
    .option('--chunks-size <n>')
    .option('--v2.0')
    .option('--overwrite')
    .action((target: string, values: Flags) => onAction({ cmd: 'generate', target, values }));
  program
    .command('compute-norm-stats')
    .argument('<dataset>')
    .option('--out <path>')
    .option('--split <name>')
    .option('--action-horizon <n>')
    .option('--delta-actions')
    .option('--max-frames <n>')
    .action((target: string, values: Flags) => onAction({ cmd: 'compute-norm-stats', target, values }));
  program
    .command('inspect')
    .argument('<dataset>')
    .option('--split <name>')
    .option('--check-images')
    .action((target: string, values: Flags) => onAction({ cmd: 'inspect', target, values }));
  return program;
}

/** Runs the CLI; returns the exit code (2 for a bad command line). Output: one JSON object on stdout, progress on stderr. */
export async function runCli(
  argv: string[],
  out: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
  showProgress = true,
): Promise<number> {
  const progress = (label: string): ((done: number, total: number) => void) | undefined =>
    showProgress ? progressReporter(label) : undefined;
  let inv: Invocation | null = null;
  const program = buildProgram(
    (t) => out(t.replace(/\n$/, '')),
    (i) => {
      inv = i;
    },
  );
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    throw err;
  }
  if (inv === null) return 2;
  const { cmd, target, values } = inv as Invocation;
  switch (cmd) {
    case 'generate': {
      const t0 = Date.now();
      const r = await generateLiberoDataset(target, {
        episodes: int(values.episodes, 'episodes'),
        steps: int(values.steps, 'steps'),
        imageSize: int(values.imageSize, 'image-size'),
        seed: int(values.seed, 'seed'),
        heldOut: int(values.heldOut, 'held-out'),
        chunksSize: int(values.chunksSize, 'chunks-size'),
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
        actionHorizon: int(values.actionHorizon, 'action-horizon'),
        deltaActions: values.deltaActions ?? false,
        maxFrames: int(values.maxFrames, 'max-frames'),
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
      const images = values.checkImages ? await ds.validateImages(progress('images')) : null;
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
  }
}

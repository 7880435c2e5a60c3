// Command-line parsing for vla-train (commander). Pure: returns what to run; cli.ts runs it.
import { Command, CommanderError, Option } from 'commander';
import { FAMILY_RECIPE_NAMES } from '@vla-lora/gemma-config';
import { getTrainConfig, listConfigs } from '@vla-lora/pi0';
import { UsageError } from './errors.js';

export interface CommonOptions {
  runsRoot: string;
  dataRoot: string;
  backend?: string;
  set: string[];
}

export type Invocation =
  | ({
      kind: 'train';
      config: string;
      expName: string;
      resume: boolean;
      overwrite: boolean;
      baseWeights?: string;
      tokenizer?: string;
      allowConfigChange: boolean;
    } & CommonOptions)
  | ({ kind: 'plan'; config: string; json: boolean } & CommonOptions)
  | {
      kind: 'export-launch';
      config: string;
      engine: 'deepspeed' | 'torchrun';
      out: string;
      nprocPerNode: number;
      nnodes: number;
      zeroStage?: 0 | 1 | 2 | 3;
      microBatch?: number;
      gradAccum: number;
      gradientClipping: number;
      overwrite: boolean;
    }
  | ({ kind: 'compute-norm-stats'; config: string } & CommonOptions)
  | ({ kind: 'demo'; config: string; expName: string } & CommonOptions)
  | { kind: 'help'; text: string };

function configsHelp(): string {
  const rows = listConfigs();
  const w = Math.max(...rows.map((r) => r.name.length));
  return `\nConfigs:\n${rows.map((r) => `  ${r.name.padEnd(w)}  ${r.description}`).join('\n')}\nPlan / export-launch only (PyTorch trainers): ${FAMILY_RECIPE_NAMES.join(', ')}\n`;
}

const isFamily = (name: string): boolean => (FAMILY_RECIPE_NAMES as readonly string[]).includes(name);

/** plan accepts the pi0 configs and the family recipes (OpenVLA, Qwen2.5-VL). */
function checkPlanConfig(name: string): string {
  return isFamily(name) ? name : checkConfig(name);
}

function positiveInt(what: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1)
      throw new UsageError(`${what} must be a positive integer, got ${JSON.stringify(v)}`);
    return n;
  };
}

function checkConfig(name: string): string {
  getTrainConfig(name); // throws listing the known names
  return name;
}

const collect = (v: string, prev: string[]) => [...prev, v];

function addCommon(c: Command): Command {
  return c
    .option('--runs-root <dir>', 'where runs go: <runs-root>/<config>/<exp-name>', 'runs')
    .option('--data-root <dir>', 'where datasets are found / generated', 'data')
    .addOption(
      new Option('--backend <name>', "tfjs backend (default: the config's, then VLA_BACKEND, then auto)").choices([
        'auto',
        'wasm',
        'cpu',
        'webgpu',
        'tfjs-node',
        'tfjs-node-gpu',
      ]),
    )
    .option(
      '--set <key=value>',
      'override a config value (repeatable), e.g. --set trainer.numTrainSteps=200',
      collect,
      [] as string[],
    );
}

/** Parses argv (without `node` and the script). Throws UsageError with a helpful message. */
export function parseArgs(argv: readonly string[]): Invocation {
  let result: Invocation | null = null;
  const help: string[] = [];
  const program = new Command('vla-train')
    .description('pi0 LoRA fine-tuning on LeRobot/LIBERO data (TensorFlow.js)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => help.push(s), writeErr: (s) => help.push(s) })
    .addHelpText('after', configsHelp())
    .showSuggestionAfterError(true);

  addCommon(
    program
      .command('train <config>', { isDefault: true })
      .description('train a config: vla-train <config> --exp-name NAME [--resume | --overwrite]')
      .requiredOption('--exp-name <name>', 'experiment name (the run directory)')
      .option('--resume', 'continue the run from its latest checkpoint', false)
      .option('--overwrite', 'delete an existing run directory and start again', false)
      .option('--allow-config-change', "resume even though the config hash differs from the checkpoint's", false)
      .option('--base-weights <dir>', 'openpi PyTorch-layout model.safetensors (file or dir) to start from')
      .option('--tokenizer <path>', "openpi's paligemma_tokenizer.model (required for real-vocabulary configs)"),
  ).action(
    (
      config: string,
      o: {
        expName: string;
        resume: boolean;
        overwrite: boolean;
        allowConfigChange: boolean;
        baseWeights?: string;
        tokenizer?: string;
      } & CommonOptions,
    ) => {
      if (o.resume && o.overwrite)
        throw new UsageError(
          '--resume and --overwrite exclude each other: --resume continues the run, --overwrite deletes it',
        );
      if (!/^[A-Za-z0-9._-]+$/.test(o.expName) || o.expName.startsWith('.'))
        throw new UsageError(`--exp-name "${o.expName}": use letters, digits, '.', '_' and '-' only`);
      result = {
        kind: 'train',
        config: checkConfig(config),
        expName: o.expName,
        resume: o.resume,
        overwrite: o.overwrite,
        allowConfigChange: o.allowConfigChange,
        ...(o.baseWeights ? { baseWeights: o.baseWeights } : {}),
        ...(o.tokenizer ? { tokenizer: o.tokenizer } : {}),
        ...common(o),
      };
    },
  );

  addCommon(
    program
      .command('plan <config>')
      .description('parameter accounting and the memory bill, without training')
      .option('--json', 'machine-readable', false),
  ).action((config: string, o: { json: boolean } & CommonOptions) => {
    result = { kind: 'plan', config: checkPlanConfig(config), json: o.json, ...common(o) };
  });

  program
    .command('export-launch <config>')
    .description(
      `DeepSpeed JSON or torchrun command + PEFT LoraConfig + trainable-parameter list + memory bill per rank, for your PyTorch trainer (${FAMILY_RECIPE_NAMES.join(', ')})`,
    )
    .addOption(
      new Option('--engine <engine>', 'deepspeed or torchrun').choices(['deepspeed', 'torchrun']).makeOptionMandatory(),
    )
    .option('--out <dir>', 'output directory (default launch/<config>-<engine>)')
    .option('--nproc-per-node <n>', 'GPUs per node', positiveInt('--nproc-per-node'), 8)
    .option('--nnodes <n>', 'nodes', positiveInt('--nnodes'), 1)
    .addOption(new Option('--zero-stage <n>', 'DeepSpeed ZeRO stage (default 2)').choices(['0', '1', '2', '3']))
    .option('--micro-batch <n>', "per-GPU micro batch (default: the recipe's)", positiveInt('--micro-batch'))
    .option('--grad-accum <n>', 'gradient accumulation steps', positiveInt('--grad-accum'), 1)
    .option(
      '--gradient-clipping <x>',
      'max gradient norm',
      (v: string) => {
        const x = Number(v);
        if (!(x > 0)) throw new UsageError(`--gradient-clipping must be > 0, got ${JSON.stringify(v)}`);
        return x;
      },
      1,
    )
    .option('--overwrite', 'replace an existing output directory', false)
    .action(
      (
        config: string,
        o: {
          engine: 'deepspeed' | 'torchrun';
          out?: string;
          nprocPerNode: number;
          nnodes: number;
          zeroStage?: string;
          microBatch?: number;
          gradAccum: number;
          gradientClipping: number;
          overwrite: boolean;
        },
      ) => {
        if (!isFamily(config))
          throw new UsageError(
            `export-launch knows ${FAMILY_RECIPE_NAMES.join(', ')}; ${config} is trained by vla-train itself`,
          );
        if (o.engine === 'torchrun' && o.zeroStage !== undefined)
          throw new UsageError('--zero-stage is a DeepSpeed option; use --engine deepspeed');
        result = {
          kind: 'export-launch',
          config,
          engine: o.engine,
          out: o.out ?? `launch/${config}-${o.engine}`,
          nprocPerNode: o.nprocPerNode,
          nnodes: o.nnodes,
          ...(o.zeroStage !== undefined ? { zeroStage: Number(o.zeroStage) as 0 | 1 | 2 | 3 } : {}),
          ...(o.microBatch !== undefined ? { microBatch: o.microBatch } : {}),
          gradAccum: o.gradAccum,
          gradientClipping: o.gradientClipping,
          overwrite: o.overwrite,
        };
      },
    );

  addCommon(
    program
      .command('compute-norm-stats <config>')
      .description("compute the dataset's normalisation statistics (<dataset>/norm_stats.json)"),
  ).action((config: string, o: CommonOptions) => {
    result = { kind: 'compute-norm-stats', config: checkConfig(config), ...common(o) };
  });

  addCommon(
    program
      .command('demo')
      .description(
        'the main job: generate the synthetic LIBERO data, train pi0_libero_lora_tiny, verify the adapter, evaluate base vs fine-tuned',
      )
      .option('--config <name>', 'config to run', 'pi0_libero_lora_tiny')
      .option('--exp-name <name>', 'experiment name', 'demo'),
  ).action((o: { config: string; expName: string } & CommonOptions) => {
    result = { kind: 'demo', config: checkConfig(o.config), expName: o.expName, ...common(o) };
  });

  if (argv.length === 0) return { kind: 'help', text: program.helpInformation() + configsHelp() };
  try {
    program.parse(argv as string[], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version')
        return { kind: 'help', text: help.join('') };
      throw new UsageError(help.join('').trim() || err.message);
    }
    throw err;
  }
  if (!result) return { kind: 'help', text: program.helpInformation() + configsHelp() };
  return result;
}

function common(o: CommonOptions): CommonOptions {
  return { runsRoot: o.runsRoot, dataRoot: o.dataRoot, set: o.set, ...(o.backend ? { backend: o.backend } : {}) };
}

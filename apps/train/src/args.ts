// Command-line parsing for vla-train (commander). Pure: returns what to run; cli.ts runs it.
import { Command, Option } from 'commander';
import { captureParse, collect, positiveInt, positiveNumber, UsageError } from '@vla-lora/cli-kit';
import { FAMILY_RECIPE_NAMES, type LaunchOptions } from '@vla-lora/gemma-config';
import { isFamilyRecipe, listConfigs, type TrainPi0Options } from '@vla-lora/pi0';
import { BACKEND_REQUESTS } from '@vla-lora/tfjs-backend';
import { runRequestProblem } from '@vla-lora/trainer';

export interface CommonOptions {
  runsRoot: string;
  dataRoot: string;
  backend?: string;
  set: string[];
}

/** The flags of `vla-train <config> --exp-name …` (the train command): pi0's trainPi0 options and the run's name. */
export type TrainOptions = CommonOptions & { expName: string } & Required<
    Pick<TrainPi0Options, 'resume' | 'overwrite' | 'allowConfigChange'>
  > &
  Pick<TrainPi0Options, 'baseWeights' | 'tokenizer'>;

/** gemma-config's launch options as export-launch fills them, plus where the spec goes. */
export type ExportLaunchOptions = Required<
  Pick<LaunchOptions, 'engine' | 'nprocPerNode' | 'nnodes' | 'gradAccum' | 'gradientClipping'>
> &
  Pick<LaunchOptions, 'zeroStage' | 'microBatch'> & { out: string; overwrite: boolean };

export type Invocation =
  | ({ kind: 'train'; config: string } & TrainOptions)
  | ({ kind: 'plan'; config: string; json: boolean } & CommonOptions)
  | ({ kind: 'export-launch'; config: string } & ExportLaunchOptions)
  | ({ kind: 'compute-norm-stats'; config: string } & CommonOptions)
  | ({ kind: 'demo'; config: string; expName: string } & CommonOptions)
  | { kind: 'help'; text: string };

function configsHelp(): string {
  const rows = listConfigs();
  const w = Math.max(...rows.map((r) => r.name.length));
  return `\nConfigs:\n${rows.map((r) => `  ${r.name.padEnd(w)}  ${r.description}`).join('\n')}\nPlan / export-launch only (PyTorch trainers): ${FAMILY_RECIPE_NAMES.join(', ')}\n`;
}

function addCommon(c: Command): Command {
  return c
    .option('--runs-root <dir>', 'where runs go: <runs-root>/<config>/<exp-name>', 'runs')
    .option('--data-root <dir>', 'where datasets are found / generated', 'data')
    .addOption(
      new Option('--backend <name>', "tfjs backend (default: the config's, then VLA_BACKEND, then auto)").choices(
        BACKEND_REQUESTS,
      ),
    )
    .option(
      '--set <key=value>',
      'override a config value (repeatable), e.g. --set trainer.numTrainSteps=200',
      collect,
      [] as string[],
    );
}

/**
 * Parses argv (without `node` and the script). Throws UsageError with a helpful message. Config names are checked
 * by pi0's registry when the command runs (Pi0ConfigError, listing the known names).
 */
export function parseArgs(argv: readonly string[]): Invocation {
  let result: Invocation | null = null;
  const program = new Command('vla-train');
  const parse = captureParse(program);
  program
    .description('pi0 LoRA fine-tuning on LeRobot/LIBERO data (TensorFlow.js)')
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
  ).action((config: string, o: TrainOptions) => {
    const problem = runRequestProblem(o);
    if (problem) throw new UsageError(problem);
    result = { kind: 'train', ...o, config };
  });

  addCommon(
    program
      .command('plan <config>')
      .description('parameter accounting and the memory bill, without training')
      .option('--json', 'machine-readable', false),
  ).action((config: string, o: { json: boolean } & CommonOptions) => {
    result = { kind: 'plan', ...o, config };
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
    .option('--nproc-per-node <n>', 'GPUs per node', positiveInt('--nproc-per-node', UsageError), 8)
    .option('--nnodes <n>', 'nodes', positiveInt('--nnodes', UsageError), 1)
    .addOption(new Option('--zero-stage <n>', 'DeepSpeed ZeRO stage (default 2)').choices(['0', '1', '2', '3']))
    .option(
      '--micro-batch <n>',
      "per-GPU micro batch (default: the recipe's)",
      positiveInt('--micro-batch', UsageError),
    )
    .option('--grad-accum <n>', 'gradient accumulation steps', positiveInt('--grad-accum', UsageError), 1)
    .option('--gradient-clipping <x>', 'max gradient norm', positiveNumber('--gradient-clipping', UsageError), 1)
    .option('--overwrite', 'replace an existing output directory', false)
    .action(
      (config: string, o: Omit<ExportLaunchOptions, 'out' | 'zeroStage'> & { out?: string; zeroStage?: string }) => {
        if (!isFamilyRecipe(config))
          throw new UsageError(
            `export-launch knows ${FAMILY_RECIPE_NAMES.join(', ')}; ${config} is trained by vla-train itself`,
          );
        if (o.engine === 'torchrun' && o.zeroStage !== undefined)
          throw new UsageError('--zero-stage is a DeepSpeed option; use --engine deepspeed');
        const { out, zeroStage, ...rest } = o;
        result = {
          kind: 'export-launch',
          config,
          ...rest,
          out: out ?? `launch/${config}-${o.engine}`,
          ...(zeroStage !== undefined ? { zeroStage: Number(zeroStage) as 0 | 1 | 2 | 3 } : {}),
        };
      },
    );

  addCommon(
    program
      .command('compute-norm-stats <config>')
      .description("compute the dataset's normalisation statistics (<dataset>/norm_stats.json)"),
  ).action((config: string, o: CommonOptions) => {
    result = { kind: 'compute-norm-stats', ...o, config };
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
    result = { kind: 'demo', ...o };
  });

  if (argv.length === 0) return { kind: 'help', text: program.helpInformation() + configsHelp() };
  const parsed = parse(argv);
  if (parsed.kind === 'help') return { kind: 'help', text: parsed.text };
  if (parsed.kind === 'error') throw new UsageError(parsed.printed.trim() || parsed.message);
  if (!result) return { kind: 'help', text: program.helpInformation() + configsHelp() };
  return result;
}

// Launch specs for the user's PyTorch trainer: a DeepSpeed config (or a torchrun command), the PEFT LoraConfig
// JSON, the list of trainable parameters and the memory bill per rank. vla-lora checks the plan; the engines run it.
import { InvalidConfigError } from '../errors.js';
import { formatBytes, type ShardStage } from '../memory-bill.js';
import { numel } from '../param-spec.js';
import { isLoraPath } from '../path-segments.js';
import { planFamily, type FamilyPlan, type PeftLoraConfigJson } from './recipes.js';

export type LaunchEngine = 'deepspeed' | 'torchrun';

export interface LaunchOptions {
  engine: LaunchEngine;
  /** GPUs per node (default 8). */
  nprocPerNode?: number;
  nnodes?: number;
  /** DeepSpeed ZeRO stage (default 2; torchrun/DDP: 0). */
  zeroStage?: ShardStage;
  /** Per-GPU micro batch (default: the recipe's). */
  microBatch?: number;
  gradAccum?: number;
  gradientClipping?: number;
  learningRate?: number;
}

/** The DeepSpeed config fields we write (names and types from DeepSpeed's docs/_pages/config-json.md). */
export interface DeepSpeedConfig {
  train_batch_size: number;
  train_micro_batch_size_per_gpu: number;
  gradient_accumulation_steps: number;
  gradient_clipping: number;
  steps_per_print: number;
  wall_clock_breakdown: boolean;
  bf16: { enabled: boolean };
  optimizer: { type: 'AdamW'; params: { lr: number; betas: [number, number]; eps: number; weight_decay: number } };
  zero_optimization: {
    stage: ShardStage;
    overlap_comm: boolean;
    contiguous_gradients: boolean;
    reduce_bucket_size: number;
    allgather_bucket_size?: number;
    stage3_gather_16bit_weights_on_model_save?: boolean;
  };
}

export interface LaunchSpec {
  plan: FamilyPlan;
  engine: LaunchEngine;
  worldSize: number;
  /** File name → contents, to write into the output directory. */
  files: Record<string, string>;
  /** Lines for the terminal. */
  lines: string[];
}

const posInt = (v: number, what: string): number => {
  if (!Number.isInteger(v) || v < 1) throw new InvalidConfigError(`${what}=${v} must be a positive integer.`);
  return v;
};

/** Module path → the PEFT-wrapped model's parameter name (get_peft_model puts the model under base_model.model). */
const peftName = (p: string): string => `base_model.model.${p}`;

export function launchSpec(name: string, opts: LaunchOptions): LaunchSpec {
  const nproc = posInt(opts.nprocPerNode ?? 8, 'nproc-per-node');
  const nnodes = posInt(opts.nnodes ?? 1, 'nnodes');
  const world = nproc * nnodes;
  const stage: ShardStage = opts.engine === 'deepspeed' ? (opts.zeroStage ?? 2) : 0;
  if (opts.engine === 'torchrun' && opts.zeroStage !== undefined && opts.zeroStage !== 0)
    throw new InvalidConfigError(
      'ZeRO stages are DeepSpeed options; with torchrun (DDP) every rank holds everything — use --engine deepspeed.',
    );
  if (![0, 1, 2, 3].includes(stage)) throw new InvalidConfigError(`zero stage ${String(stage)} must be 0, 1, 2 or 3.`);
  const base = planFamily(name);
  const micro = posInt(opts.microBatch ?? base.recipe.training.batchSize, 'micro batch');
  const accum = posInt(opts.gradAccum ?? 1, 'gradient accumulation steps');
  const clip = opts.gradientClipping ?? 1.0;
  if (!(clip > 0)) throw new InvalidConfigError(`gradient clipping ${clip} must be > 0.`);
  const lr = opts.learningRate ?? (name === 'openvla_7b_lora' ? 5e-4 : 1e-4);
  const plan = planFamily(name, { batchSize: micro, devices: world, zeroStage: stage });
  const r = plan.recipe;

  // The PEFT config the trainer passes to get_peft_model: explicit module paths, so that any PEFT version wraps
  // exactly the modules the plan counted (OpenVLA's "all-linear" expands differently across PEFT versions).
  const peft: PeftLoraConfigJson = { ...r.peftConfig, target_modules: [...r.loraModules] };
  const trainable = r.specs.filter((s) => isLoraPath(s.path));
  const trainableText = `${trainable.map((s) => `${peftName(s.path)}\t${JSON.stringify(s.shape)}\t${s.dtype}\t${numel(s)}`).join('\n')}\n`;

  const files: Record<string, string> = {
    'adapter_config.json': `${JSON.stringify(peft, null, 2)}\n`,
    'trainable_parameters.tsv': `# name\tshape\tdtype\tnumel — requires_grad=True after get_peft_model; everything else frozen\n${trainableText}`,
    'memory.txt': `${plan.lines.join('\n')}\n`,
  };
  const batchNote = `global batch ${micro * accum * world} = micro ${micro} × accumulation ${accum} × ${world} GPUs`;
  let cmd: string;
  if (opts.engine === 'deepspeed') {
    const ds: DeepSpeedConfig = {
      train_batch_size: micro * accum * world,
      train_micro_batch_size_per_gpu: micro,
      gradient_accumulation_steps: accum,
      gradient_clipping: clip,
      steps_per_print: 10,
      wall_clock_breakdown: false,
      bf16: { enabled: r.training.dtype === 'bfloat16' },
      optimizer: { type: 'AdamW', params: { lr, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0 } },
      zero_optimization: {
        stage,
        overlap_comm: true,
        contiguous_gradients: true,
        reduce_bucket_size: 5e8,
        ...(stage <= 2 ? { allgather_bucket_size: 5e8 } : {}),
        // Without this, ZeRO-3 saves a placeholder adapter_model.safetensors (the weights stay in the shards).
        ...(stage === 3 ? { stage3_gather_16bit_weights_on_model_save: true } : {}),
      },
    };
    files['ds_config.json'] = `${JSON.stringify(ds, null, 2)}\n`;
    cmd = `deepspeed --num_nodes ${nnodes} --num_gpus ${nproc} \${TRAIN_SCRIPT:-train.py} --deepspeed ds_config.json --lora_config adapter_config.json`;
  } else {
    cmd = `torchrun --nnodes ${nnodes} --nproc-per-node ${nproc}${nnodes === 1 ? ' --standalone' : ' --rdzv-backend c10d --rdzv-endpoint $MASTER_ADDR:29500'} \${TRAIN_SCRIPT:-train.py} --lora_config adapter_config.json --batch_size ${micro} --grad_accumulation_steps ${accum} --max_grad_norm ${clip} --learning_rate ${lr}`;
  }
  const native =
    name === 'openvla_7b_lora'
      ? `# OpenVLA's own script: torchrun --standalone --nnodes ${nnodes} --nproc-per-node ${nproc} vla-scripts/finetune.py --vla_path openvla/openvla-7b --lora_rank ${r.peftConfig.r} --batch_size ${micro} --grad_accumulation_steps ${accum} --learning_rate ${lr}`
      : `# LLaMA-Factory: llamafactory-cli train <yaml> with model_name_or_path: ${r.baseModel}, finetuning_type: lora, lora_rank: ${r.peftConfig.r}, lora_alpha: ${r.peftConfig.lora_alpha}, lora_target: all, per_device_train_batch_size: ${micro}, gradient_accumulation_steps: ${accum}${opts.engine === 'deepspeed' ? ', deepspeed: ds_config.json' : ' (FORCE_TORCHRUN=1 for several GPUs)'}`;
  files['launch.sh'] = [
    '#!/usr/bin/env bash',
    `# ${r.name} on ${world} GPU(s) (${nnodes} node(s) × ${nproc}); ${batchNote}; written by vla-train export-launch.`,
    '# Your trainer loads the base model, applies adapter_config.json with peft.get_peft_model, and must end up with',
    `# exactly the parameters in trainable_parameters.tsv trainable (${plan.counts.trainable.toLocaleString('en-US')} values).`,
    native,
    'set -euo pipefail',
    cmd,
    '',
  ].join('\n');
  const lines = [
    `${r.name} → ${opts.engine}, ${world} GPU(s), ${batchNote}${opts.engine === 'deepspeed' ? `, ZeRO-${stage}` : ' (DDP: every rank holds all weights)'}`,
    plan.peftLine,
    `memory per rank: ${formatBytes(plan.bill.perDeviceBytes)} (estimate; see memory.txt)`,
    `files: ${Object.keys(files).sort().join(', ')}`,
    'after training: consolidate with zero-merge (DeepSpeed) or dcp-merge (FSDP/DCP), then vla-ckpt verify the adapter',
  ];
  return { plan, engine: opts.engine, worldSize: world, files, lines };
}

// The run directory's file names, in one place (trainer, pi0, the apps and their tests use these).
//   <run>/config.json             the config of the run (hashed into checkpoints)
//   <run>/checkpoints/            checkpoint-io's resumable layout (step-NNNNNN/, latest)
//   <run>/metrics.jsonl           one JSON object per optimizer step
//   <run>/tensorboard/            TensorBoard event files
//   <run>/report.html             the offline report
//   <run>/norm_stats.json         the norm stats the model was trained with (openpi's assets)
//   <run>/tokenizer-record.json   the tokenizer the run was trained with (sha256, vocab size)
//   <run>/adapter/                the final PEFT adapter (a completed run)
//   <run>/trainable.safetensors   the final trained non-LoRA weights (heads)
//   <run>/eval.json, summary.json, train.log
import { join } from 'node:path';

export const RUN_LAYOUT = {
  config: 'config.json',
  checkpoints: 'checkpoints',
  metrics: 'metrics.jsonl',
  tensorboard: 'tensorboard',
  report: 'report.html',
  normStats: 'norm_stats.json',
  tokenizerRecord: 'tokenizer-record.json',
  adapter: 'adapter',
  trainable: 'trainable.safetensors',
  eval: 'eval.json',
  summary: 'summary.json',
  log: 'train.log',
} as const;

export type RunEntry = keyof typeof RUN_LAYOUT;

/** `<runDir>/<the entry's name>`. */
export function runPath(runDir: string, entry: RunEntry): string {
  return join(runDir, RUN_LAYOUT[entry]);
}

/** Every name a run directory may hold (--overwrite refuses to delete a directory holding anything else). */
export const RUN_ENTRY_NAMES: ReadonlySet<string> = new Set(Object.values(RUN_LAYOUT));

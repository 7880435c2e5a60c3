// `plan`: parameter accounting and the memory bill of a config, without building anything.
import { freezeReport, type FreezeReport } from '@vla-lora/freeze-policy';
import {
  formatBytes,
  getPi0Config,
  OPENPI_PUBLISHED_MEMORY,
  pi0MemoryBill,
  pi0ParamSpecs,
  pi0SequenceLengths,
  type MemoryBill,
} from '@vla-lora/gemma-config';
import type { TrainConfig } from '../config/index.js';
import { freezePolicyFor } from './freeze.js';

export interface RunPlan {
  config: string;
  pi0: string;
  report: FreezeReport;
  bill: MemoryBill;
  tokensPerExample: number;
  text: string;
}

const int = (n: number) => n.toLocaleString('en-US');

export function planRun(cfg: TrainConfig): RunPlan {
  const pi0 = getPi0Config(cfg.model.pi0);
  const specs = pi0ParamSpecs(pi0);
  const plan = freezePolicyFor(cfg).plan(specs);
  const trainable = new Set(plan.entries.filter((e) => e.trainable).map((e) => e.path));
  const report = freezeReport(plan);
  const seq = pi0SequenceLengths(pi0);
  // As openpi trains: float32 trainable weights + AdamW (+ EMA), frozen weights in bf16, every
  // block rematerialised for real-size (bf16) configs.
  const bill = pi0MemoryBill(pi0, {
    specs,
    trainable: (s) => trainable.has(s.path),
    batchSize: cfg.data.batchSize,
    ema: cfg.ema !== undefined,
  });
  const published = cfg.freeze === 'pi0_lora' ? OPENPI_PUBLISHED_MEMORY.lora : OPENPI_PUBLISHED_MEMORY.full;
  const publishedLine =
    pi0.precision === 'bfloat16'
      ? `openpi publishes for this job: ${published.text} (${OPENPI_PUBLISHED_MEMORY.source}); the bill excludes temporaries and allocator overhead`
      : 'openpi publishes no figure for toy widths';
  const lines = [
    `config ${cfg.name}: pi0 preset ${pi0.name} (PaliGemma ${pi0.paligemmaVariant}, expert ${pi0.actionExpertVariant}, ${pi0.precision}), freeze ${cfg.freeze}`,
    report.peftLine,
    `LoRA tensors: ${report.loraTensors} (${int(report.loraParams)} values)`,
    `tokens per example: ${seq.total} (prefix ${seq.prefix} = ${seq.imageTokens} image + ${pi0.maxTokenLen} text, suffix ${seq.suffix})`,
    `batch ${cfg.data.batchSize} x accumulation ${cfg.trainer.gradAccumSteps}, ${int(cfg.trainer.numTrainSteps)} steps`,
    `memory bill (per device, before launch): ${formatBytes(bill.perDeviceBytes)}${cfg.ema ? `, EMA ${cfg.ema.decay}` : ''}`,
    bill.table,
    publishedLine,
  ];
  return { config: cfg.name, pi0: pi0.name, report, bill, tokensPerExample: seq.total, text: lines.join('\n') };
}

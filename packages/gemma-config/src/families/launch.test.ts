import { describe, expect, it } from 'vitest';
import { InvalidConfigError } from '../errors.js';
import { launchSpec, type DeepSpeedConfig } from './launch.js';

// Field names and types from DeepSpeed's configuration reference (docs/_pages/config-json.md, "DeepSpeed
// Configuration JSON"): batch-size parameters, gradient_clipping, bf16, optimizer, zero_optimization, logging.
const DS_TOP: Record<string, string> = {
  train_batch_size: 'integer',
  train_micro_batch_size_per_gpu: 'integer',
  gradient_accumulation_steps: 'integer',
  gradient_clipping: 'number',
  steps_per_print: 'integer',
  wall_clock_breakdown: 'boolean',
  bf16: 'object',
  optimizer: 'object',
  zero_optimization: 'object',
};
const DS_ZERO: Record<string, string> = {
  stage: 'integer',
  overlap_comm: 'boolean',
  contiguous_gradients: 'boolean',
  reduce_bucket_size: 'number',
  allgather_bucket_size: 'number',
  stage3_gather_16bit_weights_on_model_save: 'boolean',
};
const typeOf = (v: unknown): string =>
  Number.isInteger(v) ? 'integer' : typeof v === 'number' ? 'number' : Array.isArray(v) ? 'array' : typeof v;
const typeOk = (want: string, v: unknown) => (want === 'number' ? typeof v === 'number' : typeOf(v) === want);

describe('export-launch specs', () => {
  it('DeepSpeed JSON: only documented fields, right types, train_batch_size = micro × accumulation × GPUs', () => {
    for (const stage of [0, 1, 2, 3] as const) {
      const s = launchSpec('qwen2_5_vl_7b_lora', {
        engine: 'deepspeed',
        nprocPerNode: 4,
        nnodes: 2,
        zeroStage: stage,
        microBatch: 2,
        gradAccum: 8,
      });
      const ds = JSON.parse(s.files['ds_config.json'] as string) as DeepSpeedConfig & Record<string, unknown>;
      for (const [k, v] of Object.entries(ds)) {
        expect(DS_TOP[k], `unknown top-level key ${k}`).toBeDefined();
        expect(typeOk(DS_TOP[k] as string, v), `${k}: ${typeOf(v)}`).toBe(true);
      }
      for (const [k, v] of Object.entries(ds.zero_optimization)) {
        expect(DS_ZERO[k], `unknown zero_optimization key ${k}`).toBeDefined();
        expect(typeOk(DS_ZERO[k] as string, v), k).toBe(true);
      }
      expect(ds.train_batch_size).toBe(ds.train_micro_batch_size_per_gpu * ds.gradient_accumulation_steps * 8);
      expect(ds.train_batch_size).toBe(128);
      expect(ds.zero_optimization.stage).toBe(stage);
      expect(ds.bf16.enabled).toBe(true);
      expect(ds.gradient_clipping).toBe(1);
      expect(ds.optimizer.type).toBe('AdamW');
      expect(ds.zero_optimization.stage3_gather_16bit_weights_on_model_save).toBe(stage === 3 ? true : undefined);
      expect(s.files['launch.sh']).toContain('deepspeed --num_nodes 2 --num_gpus 4');
    }
  });

  it('memory per rank shrinks with the ZeRO stage (weights sharded at 3)', () => {
    const per = (zeroStage: 0 | 3) =>
      launchSpec('openvla_7b_lora', { engine: 'deepspeed', nprocPerNode: 8, zeroStage }).plan.bill.perDeviceBytes;
    expect(per(3)).toBeLessThan(per(0));
  });

  it('freeze/LoRA spec: PEFT LoraConfig with the exact wrapped modules, the trainable list, torchrun command', () => {
    const s = launchSpec('openvla_7b_lora', { engine: 'torchrun', nprocPerNode: 2 });
    const cfg = JSON.parse(s.files['adapter_config.json'] as string) as Record<string, unknown>;
    expect(cfg).toMatchObject({
      peft_type: 'LORA',
      r: 32,
      lora_alpha: 16,
      lora_dropout: 0,
      init_lora_weights: 'gaussian',
    });
    expect((cfg.target_modules as string[]).length).toBe(439);
    expect(cfg.target_modules).toContain('language_model.lm_head');
    expect(cfg.target_modules).toContain('vision_backbone.featurizer.patch_embed.proj');
    const rows = (s.files['trainable_parameters.tsv'] as string).trim().split('\n').slice(1);
    expect(rows).toHaveLength(878);
    expect(rows.reduce((a, r) => a + Number(r.split('\t')[3]), 0)).toBe(110_828_288);
    expect(rows[0]?.startsWith('base_model.model.vision_backbone.featurizer.')).toBe(true);
    expect(s.files['launch.sh']).toContain('torchrun --nnodes 1 --nproc-per-node 2 --standalone');
    expect(s.files['ds_config.json']).toBeUndefined();
    expect(s.files['memory.txt']).toContain('trainable params: 110,828,288');
  });

  it('bad options are typed errors', () => {
    expect(() => launchSpec('openvla_7b_lora', { engine: 'torchrun', zeroStage: 3 })).toThrow(InvalidConfigError);
    expect(() => launchSpec('openvla_7b_lora', { engine: 'deepspeed', nprocPerNode: 0 })).toThrow(InvalidConfigError);
    expect(() => launchSpec('nope', { engine: 'deepspeed' })).toThrow(/Unknown family recipe/);
  });
});

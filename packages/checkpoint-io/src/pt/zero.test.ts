// Acceptance: every DeepSpeed ZeRO .pt fixture parses; DeepSpeed's own classes come back as inert records.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readPt } from './read.js';
import { TorchTensor } from './torch/tensor.js';
import { PickleDict, PickleObject, PickleSet, type PickleValue } from './pickle/values.js';
import { TorchSize } from './torch/values.js';

const ZERO = fileURLToPath(new URL('../../../../fixtures/zero/', import.meta.url));

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.pt') ? [p] : [];
  });
}

function dict(v: PickleValue | undefined): PickleDict {
  if (!(v instanceof PickleDict)) throw new Error(`not a dict: ${String(v)}`);
  return v;
}

const files = walk(ZERO);

describe('fixtures/zero', () => {
  it('finds the 12 .pt files of both checkpoints', () => {
    expect(files.length).toBe(12);
  });

  it.each(files.map((f) => [relative(ZERO, f), f]))('%s parses and every tensor reads', async (_name, file) => {
    const pt = await readPt(file);
    try {
      expect(pt.format).toBe('zip');
      const tensors = pt.tensors();
      expect(tensors.length).toBeGreaterThan(0);
      for (const [, t] of tensors) expect((await t.readBytes()).byteLength).toBe(t.byteLength);
      const root = dict(pt.root);
      expect(root.get('ds_version')).toBe('0.18.3');
    } finally {
      await pt.close();
    }
  });

  it('ZeRO-3 optimizer shards: ZeroStageEnum(3) and LossScaler are inert records; fp32_flat_groups are lazy fp32 tensors', async () => {
    const shards = files.filter((f) => f.includes('zero3') && f.includes('optim_states'));
    expect(shards.length).toBe(4);
    let flatTotal = 0;
    for (const f of shards) {
      const pt = await readPt(f);
      try {
        const osd = dict(dict(pt.root).get('optimizer_state_dict'));
        const stage = osd.get('zero_stage');
        expect(stage).toBeInstanceOf(PickleObject);
        expect(stage).toMatchObject({
          module: 'deepspeed.runtime.zero.config',
          name: 'ZeroStageEnum',
          args: [3],
          via: 'reduce',
        });
        const scaler = osd.get('loss_scaler') as PickleObject;
        expect(scaler).toBeInstanceOf(PickleObject);
        expect(scaler.qualifiedName).toBe('deepspeed.runtime.fp16.loss_scaler.LossScaler');
        expect(scaler.via).toBe('newobj');
        expect(scaler.attr('cur_scale')).toBe(1);
        expect(scaler.attr('dynamic')).toBe(false);
        expect(osd.get('partition_count')).toBe(4);
        const groups = osd.get('fp32_flat_groups') as TorchTensor[];
        expect(Array.isArray(groups)).toBe(true);
        for (const g of groups) {
          expect(g).toBeInstanceOf(TorchTensor);
          expect(g.dtype).toBe('float32');
          expect(g.shape.length).toBe(1);
          flatTotal += g.numel;
          // A slice reads the same bytes as the matching part of the whole.
          const all = await g.readBytes();
          const part = await g.readElements(1, Math.min(5, g.numel - 1));
          expect(Buffer.from(part).equals(Buffer.from(all.subarray(4, 4 + part.byteLength)))).toBe(true);
        }
      } finally {
        await pt.close();
      }
    }
    expect(flatTotal).toBeGreaterThan(0);
  });

  it('ZeRO-2 optimizer shards: ZeroStageEnum(2), fragment_address records, single_partition_of_fp32_groups', async () => {
    const shards = files.filter((f) => f.includes('zero2') && f.includes('optim_states'));
    expect(shards.length).toBe(3);
    for (const f of shards) {
      const pt = await readPt(f);
      try {
        const osd = dict(dict(pt.root).get('optimizer_state_dict'));
        expect(osd.get('zero_stage')).toMatchObject({
          module: 'deepspeed.runtime.zero.config',
          name: 'ZeroStageEnum',
          args: [2],
        });
        const groups = osd.get('single_partition_of_fp32_groups') as TorchTensor[];
        expect(groups.map((g) => g.dtype)).toEqual(['float32', 'float32']);
        // fragment_address objects (NEWOBJ + BUILD with a state dict) are somewhere in the param slice mappings.
        const fragments: PickleObject[] = [];
        const stack: PickleValue[] = [osd];
        while (stack.length) {
          const v = stack.pop() as PickleValue;
          if (v instanceof PickleDict) stack.push(...v.values());
          else if (Array.isArray(v)) stack.push(...v);
          else if (v instanceof PickleObject && v.name === 'fragment_address') fragments.push(v);
        }
        expect(fragments.length).toBeGreaterThan(0);
        for (const fa of fragments) {
          expect(fa.module).toBe('deepspeed.utils.tensor_fragment');
          expect(typeof fa.attr('numel')).toBe('number');
          expect(typeof fa.attr('start')).toBe('number');
        }
      } finally {
        await pt.close();
      }
    }
  });

  it('ZeRO-3 model states: empty bf16 placeholders, frozen fragments, torch.Size shapes, a set of buffer names', async () => {
    const f = files.find(
      (x) => x.includes('zero3') && x.endsWith('zero_pp_rank_0_mp_rank_00_model_states.pt'),
    ) as string;
    const pt = await readPt(f);
    try {
      const root = dict(pt.root);
      const module = dict(root.get('module'));
      expect(module.ordered).toBe(true);
      const q = module.get('base_model.model.model.layers.0.self_attn.q_proj.lora_A.default.weight') as TorchTensor;
      expect(q.dtype).toBe('bfloat16');
      expect(q.shape).toEqual([0]);
      const shapes = root.get('param_shapes') as PickleDict[];
      expect(dict(shapes[0]).get('base_model.model.model.layers.0.self_attn.q_proj.lora_A.default.weight')).toEqual(
        new TorchSize([8, 40]),
      );
      const frozen = dict(root.get('frozen_param_fragments'));
      expect((frozen.get('base_model.model.model.embed_tokens.weight') as TorchTensor).dtype).toBe('bfloat16');
      expect(dict(root.get('shared_params')).get('base_model.model.lm_head.weight')).toBe(
        'base_model.model.model.embed_tokens.weight',
      );
      const sets: PickleSet[] = [];
      const stack: PickleValue[] = [root];
      while (stack.length) {
        const v = stack.pop() as PickleValue;
        if (v instanceof PickleDict) stack.push(...v.values());
        else if (Array.isArray(v)) stack.push(...v);
        else if (v instanceof PickleSet) sets.push(v);
      }
      expect(sets.length).toBeGreaterThan(0);
    } finally {
      await pt.close();
    }
  });
});

// The graph preflight on the real family recipes (gemma-config): the RoboVLMs failure modes are named before step 0.
import { getFamilyRecipe, isLoraPath, type FamilyRecipe } from '@vla-lora/gemma-config';
import { describe, expect, it } from 'vitest';
import {
  CheckpointedStageWithoutInputGradError,
  DisconnectedParametersError,
  NothingReachesLossError,
  NoTrainableParametersError,
} from './errors.js';
import { preflightGraph } from './graph-preflight.js';

const params = (r: FamilyRecipe, trainable = (p: string) => isLoraPath(p)) =>
  r.specs.map((s) => ({ path: s.path, trainable: trainable(s.path) }));

describe('preflightGraph on qwen2_5_vl_7b_lora (LLaMA-Factory: reentrant checkpointing, vision frozen)', () => {
  const r = getFamilyRecipe('qwen2_5_vl_7b_lora');
  it('passes as LLaMA-Factory runs it (enable_input_require_grads)', () => {
    const rep = preflightGraph({
      flow: r.flow,
      params: params(r),
      gradientCheckpointing: 'reentrant',
      inputRequiresGrad: true,
    });
    expect(rep.trainableByStage).toEqual({ 'language model': 392 });
    expect(rep.disconnected).toEqual([]);
    expect(rep.unassigned).toEqual([]);
  });
  it('without enable_input_require_grads: the "element 0 of tensors does not require grad" failure, named', () => {
    const run = () =>
      preflightGraph({ flow: r.flow, params: params(r), gradientCheckpointing: 'reentrant', inputRequiresGrad: false });
    expect(run).toThrow(CheckpointedStageWithoutInputGradError);
    expect(run).toThrow(/element 0 of tensors does not require grad/);
    expect(run).toThrow(/enable_input_require_grads/);
  });
  it('non-reentrant checkpointing needs no input grads', () => {
    expect(() =>
      preflightGraph({
        flow: r.flow,
        params: params(r),
        gradientCheckpointing: 'non-reentrant',
        inputRequiresGrad: false,
      }),
    ).not.toThrow();
  });
  it('a trainable head on a frozen, checkpointed LoRA-less stack still trains; LoRA inside it would be lost silently', () => {
    // lm_head trainable too: loss.backward() works, but the checkpointed LoRA gets nothing → not fatal, still named.
    const run = () =>
      preflightGraph({
        flow: r.flow,
        params: params(r, (p) => isLoraPath(p) || p === 'lm_head.weight'),
        gradientCheckpointing: 'reentrant',
        inputRequiresGrad: false,
      });
    expect(run).toThrow(/silently never change/);
  });
});

describe('preflightGraph on openvla_7b_lora', () => {
  const r = getFamilyRecipe('openvla_7b_lora');
  it("names the LoRA tensors OpenVLA's all-linear puts where the loss never reaches (ViT tails, SigLIP attn_pool)", () => {
    expect(() => preflightGraph({ flow: r.flow, params: params(r) })).toThrow(DisconnectedParametersError);
    const rep = preflightGraph({ flow: r.flow, params: params(r), onDisconnected: 'report' });
    expect(rep.disconnected).toHaveLength(26);
    expect(rep.disconnected).toContain('vision_backbone.fused_featurizer.attn_pool.q.lora_A.default.weight');
    expect(rep.disconnected).toContain('vision_backbone.featurizer.blocks.23.attn.qkv.lora_B.default.weight');
    expect(rep.lines[0]).toMatch(/852 of 878 trainable tensors reach the loss/);
  });
  it('with reentrant checkpointing the trainable projector keeps gradients flowing into the LLM LoRA', () => {
    const rep = preflightGraph({
      flow: r.flow,
      params: params(r),
      gradientCheckpointing: 'reentrant',
      inputRequiresGrad: false,
      onDisconnected: 'report',
    });
    expect(rep.trainableByStage['llm']).toBeGreaterThan(0);
  });
});

describe('RoboVLMs-style failures on a small flow', () => {
  const flow = {
    stages: [
      { name: 'backbone', prefixes: ['backbone'], inputs: ['input'], checkpointed: true },
      { name: 'lm_head', prefixes: ['lm_head'], inputs: ['backbone'] },
      { name: 'action_head', prefixes: ['action_head'], inputs: ['backbone'] },
    ],
    lossFrom: ['action_head'],
  };
  it('LoRA on a bypassed path (lm_head while the loss reads the action head) → DisconnectedParametersError', () => {
    const run = () =>
      preflightGraph({
        flow,
        params: [
          { path: 'backbone.w', trainable: false },
          { path: 'lm_head.lora_A.default.weight', trainable: true },
          { path: 'action_head.w', trainable: true },
        ],
      });
    expect(run).toThrow(DisconnectedParametersError);
    expect(run).toThrow(/lm_head\.lora_A\.default\.weight/);
  });
  it('only bypassed parameters trainable → NothingReachesLossError; nothing trainable → NoTrainableParametersError', () => {
    expect(() =>
      preflightGraph({ flow, params: [{ path: 'lm_head.lora_A.default.weight', trainable: true }] }),
    ).toThrow(NothingReachesLossError);
    expect(() => preflightGraph({ flow, params: [{ path: 'backbone.w', trainable: false }] })).toThrow(
      NoTrainableParametersError,
    );
  });
});

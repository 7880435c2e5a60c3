import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { type Dtype, serializeHeader } from '@vla-lora/checkpoint-io';
import { getPi0Config, pi0ParamSpecs, PI0_PATHS } from '@vla-lora/gemma-config';
import { injectLora, namedParameters, namedStreamedParameters, WeightNotResidentError } from '@vla-lora/lora-core';
import { ModelConfigError, ModelMemoryError, StreamedWeightsError } from '../errors.js';
import { leanVariableGrads } from '../ops/backprop.js';
import { StreamedSafetensors } from '../params/streamed-file.js';
import { SeededRandom } from '../rng/random-source.js';
import { maxAbsDiff, setupBackend } from '../test-support.js';
import { loadPi0Weights, savePi0Weights } from './load.js';
import { pi0LoraConfig } from './lora.js';
import { Pi0Policy } from './policy.js';
import { checkStreamedHeader, openStreamedPi0 } from './streamed.js';
import { tinyBatch } from '../../test-support/test-batch.js';

const dir = mkdtempSync(join(tmpdir(), 'vla-streamed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A bf16 base file of a random resident policy (what the streamed path reads) and that policy's twin loaded from it. */
async function baseFile(cfgName: string, seed: number): Promise<string> {
  const cfg = getPi0Config(cfgName);
  const policy = Pi0Policy.create(cfg, { init: 'random', rng: new SeededRandom(seed) });
  const path = join(dir, `${cfgName}-${seed}.safetensors`);
  await savePi0Weights(policy, path, { dtype: 'BF16' });
  for (const [, v] of namedParameters(policy)) v.dispose();
  return path;
}

async function residentFrom(cfgName: string, path: string): Promise<Pi0Policy> {
  const policy = Pi0Policy.create(getPi0Config(cfgName));
  await loadPi0Weights(policy, path);
  return policy;
}

/** A header-only safetensors file of full size: the data section is a hole (sparse, nothing on disk). */
function sparseFile(name: string, edit: (n: string) => { dtype?: Dtype; shape?: number[] } = () => ({})): string {
  const specs = pi0ParamSpecs(getPi0Config('pi0')).filter((s) => !/\.lora_/.test(s.path));
  const entries = specs.map((s) => {
    const e = edit(s.path);
    return {
      name: s.path,
      dtype: e.dtype ?? (s.dtype === 'bfloat16' ? ('BF16' as const) : ('F32' as const)),
      shape: e.shape ?? s.shape,
    };
  });
  const { prefixAndHeader, dataLength } = serializeHeader(entries, { format: 'pt' }, name);
  const path = join(dir, name);
  const fd = openSync(path, 'w');
  writeSync(fd, prefixAndHeader);
  ftruncateSync(fd, prefixAndHeader.byteLength + dataLength);
  closeSync(fd);
  return path;
}

describe('streamed pi0 weights (tiny config, real structure)', () => {
  beforeAll(async () => {
    await setupBackend();
  });

  it('sampleActions equals the resident path; one block of frozen weights in the backend at a time', async () => {
    const path = await baseFile('pi0_tiny', 31);
    const resident = await residentFrom('pi0_tiny', path);
    const cfg = getPi0Config('pi0_tiny');
    const before = tf.memory().numBytes;
    const s = openStreamedPi0(path, cfg);
    try {
      const { policy, file, report } = s;
      // names and shapes of everything still visible: resident + streamed = the specs
      const all = new Map([
        ...namedParameters(policy).map(([n, v]) => [n, v.shape] as const),
        ...namedStreamedParameters(policy).map(([n, src]) => [n, [...src.shape]] as const),
      ]);
      for (const spec of pi0ParamSpecs(cfg)) expect(all.get(spec.path)).toEqual(spec.shape);
      expect(all.size).toBe(pi0ParamSpecs(cfg).length);
      expect(report.streamedParams).toBeGreaterThan(report.residentParams);
      const residentBytes = tf.memory().numBytes - before;
      expect(residentBytes).toBe(4 * report.residentParams);

      const obs = tinyBatch(cfg, 2, 5);
      const noise = tf.randomNormal([2, cfg.actionHorizon, cfg.actionDim], 0, 1, 'float32', 9);
      const want = resident.sampleActions(obs, new SeededRandom(1), { noise, numSteps: 3 });
      const base = tf.memory().numBytes;
      const got = policy.sampleActions(obs, new SeededRandom(1), { noise, numSteps: 3 });
      expect(maxAbsDiff(got.dataSync(), want.dataSync())).toBeLessThanOrEqual(1e-6);
      // nothing streamed stays behind in the backend; the block peak is one block's weights
      expect(tf.memory().numBytes - base).toBe(got.size * 4);
      expect(file.liveBytes).toBe(0);
      expect(file.peakLiveBytes).toBeGreaterThan(0);
      expect(file.peakLiveBytes).toBeLessThanOrEqual(report.largestBlockBytes);
      // the embedding is read by rows only, the expert's lm_head never
      expect(file.materializations.has(`${PI0_PATHS.languageModel}.embed_tokens.weight`)).toBe(false);
      expect(file.materializations.has(`${PI0_PATHS.expertLmHead}.weight`)).toBe(false);
      // each expert layer came in once for the prefix-free suffix pass per Euler step (3), each PaliGemma layer once
      expect(file.materializations.get(`${PI0_PATHS.expertModel}.layers.0.mlp.up_proj.weight`)).toBe(3);
      expect(file.materializations.get(`${PI0_PATHS.languageModel}.layers.0.mlp.up_proj.weight`)).toBe(1);
      // outside a block the weight is not there, and says so
      const q = (
        policy.paligemmaWithExpert.expertModel.layers[0]!.selfAttn as unknown as { qProj: { weight: unknown } }
      ).qProj;
      expect(() => q.weight).toThrow(WeightNotResidentError);
      expect(() => policy.setGradientCheckpointing(false)).toThrow(ModelConfigError);
      for (const t of [got, want, noise, ...obs.images, obs.tokens, obs.state, obs.actions]) t.dispose();
    } finally {
      s.close();
    }
  });

  it('LoRA loss and gradients equal the resident path (<= 1e-6), block weights recomputed in backward', async () => {
    const path = await baseFile('pi0_tiny_lora', 32);
    const cfg = getPi0Config('pi0_tiny_lora');
    const lora = { ...pi0LoraConfig(cfg), initLoraWeights: 'gaussian' as const, seed: 7 };
    const resident = await residentFrom('pi0_tiny_lora', path);
    injectLora(resident, lora);
    const s = openStreamedPi0(path, cfg);
    try {
      injectLora(s.policy, lora);
      const batch = tinyBatch(cfg, 2, 6);
      const run = (p: Pi0Policy) => {
        const trainable = namedParameters(p).filter(([n, v]) => {
          if (/^(action_|state_proj)/.test(n)) v.trainable = true;
          return v.trainable;
        });
        const { value, grads } = leanVariableGrads(
          () => tf.mean(p.computeLoss(batch, new SeededRandom(11))) as tf.Scalar,
          trainable.map(([, v]) => v),
        );
        // the last PaliGemma layer's o_proj/MLP feed nothing pi0 uses: no gradient there, on both paths
        const out = new Map(
          trainable
            .filter(([, v]) => grads[v.name] !== undefined)
            .map(([n, v]) => [n, grads[v.name]!.dataSync().slice()] as const),
        );
        const loss = value.dataSync()[0]!;
        value.dispose();
        for (const g of Object.values(grads)) g.dispose();
        return { loss, grads: out };
      };
      const want = run(resident);
      const before = s.file.materializations.get(`${PI0_PATHS.languageModel}.layers.0.mlp.up_proj.weight`) ?? 0;
      const got = run(s.policy);
      expect(Math.abs(got.loss - want.loss)).toBeLessThanOrEqual(1e-6);
      expect([...got.grads.keys()]).toEqual([...want.grads.keys()]);
      expect(got.grads.size).toBeGreaterThan(20);
      for (const [n, g] of want.grads) expect(maxAbsDiff(got.grads.get(n)!, g), n).toBeLessThanOrEqual(1e-6);
      // forward once, recomputation in backward once
      expect(s.file.materializations.get(`${PI0_PATHS.languageModel}.layers.0.mlp.up_proj.weight`)! - before).toBe(2);
      expect(s.file.peakLiveBytes).toBeLessThanOrEqual(s.report.largestBlockBytes);
      expect(s.file.liveBytes).toBe(0);
    } finally {
      s.close();
    }
  });

  it('refuses a full-size base whose header has a wrong shape or dtype, from the header alone', () => {
    const bad = `${PI0_PATHS.languageModel}.layers.7.mlp.down_proj.weight`;
    const wrongShape = sparseFile('shape.safetensors', (n) => (n === bad ? { shape: [2048, 16383] } : {}));
    const f = StreamedSafetensors.open(wrongShape);
    try {
      const specs = pi0ParamSpecs(getPi0Config('pi0'));
      let err: unknown;
      try {
        checkStreamedHeader(f, specs);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(StreamedWeightsError);
      expect((err as StreamedWeightsError).tensors).toEqual([bad]);
      expect((err as Error).message).toContain(`'${bad}' is [2048,16383] in the file, the model needs [2048,16384]`);
      expect(f.bytesRead).toBe(f.headerBytes);
      expect(f.headerBytes).toBeLessThan(200_000);
    } finally {
      f.close();
    }
    expect(() => openStreamedPi0(wrongShape, 'pi0')).toThrow(StreamedWeightsError);
    const norm = `${PI0_PATHS.expertModel}.layers.3.input_layernorm.weight`;
    const wrongDtype = sparseFile('dtype.safetensors', (n) => (n === norm ? { dtype: 'I16' } : {}));
    expect(() => openStreamedPi0(wrongDtype, 'pi0')).toThrow(new RegExp(`'${norm.replace(/\./g, '\\.')}' is I16`));
  });

  it('refuses up front, with the memory bill, a batch that cannot fit the backend', () => {
    const ok = sparseFile('full.safetensors');
    let err: unknown;
    try {
      openStreamedPi0(ok, 'pi0', { batchSize: 256 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ModelMemoryError);
    const m = err as ModelMemoryError;
    expect(m.budgetBytes).toBe(4_294_901_760);
    expect(m.neededBytes).toBeGreaterThan(m.budgetBytes);
    expect(m.message).toMatch(/activations/);
    expect(m.message).toMatch(/GiB/);
    const f = StreamedSafetensors.open(ok);
    f.close();
  });
});

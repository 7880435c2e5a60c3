// DeepSpeed's own zero_to_fp32.py (vendored unmodified in bench/peer, run by Debian's /usr/bin/python3 and
// python3-torch 1.13 through bench/peer's shim) as the oracle: on the fixtures and on synthetic checkpoints
// (scripts/synthetic.ts: several world sizes and param groups, ZeRO-1/2/3, bf16 and fp16)
// its state dict equals zero-merge's output tensor for tensor, byte for byte. This is also what makes the
// synthetic checkpoints of the benchmark trustworthy: DeepSpeed's loader reads them. Skipped, with the reason in
// the suite name, where torch is not installed; the sha256 check of the vendored files always runs.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  loraModelParams,
  loraSynthOptions,
  TEST_LORA_MODEL,
  writeSyntheticCheckpoint,
  type SynthOptions,
} from '../scripts/synthetic.js';
import { testTmpDir } from '@vla-lora/checkpoint-io/test-support';
import { consolidate } from './consolidate.js';

const PYTHON = '/usr/bin/python3';
const PEER = fileURLToPath(new URL('../bench/peer/', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../../../fixtures/zero/', import.meta.url));
const probe = spawnSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
const torchVersion = probe.status === 0 ? probe.stdout.trim() : undefined;

describe('bench/peer: the vendored DeepSpeed files', () => {
  it('are byte for byte the files PROVENANCE names (sha256)', () => {
    const provenance = readFileSync(join(PEER, 'PROVENANCE'), 'utf8');
    const listed = [...provenance.matchAll(/^\s+(\S+)\s+=\s+\S+\s+sha256 ([0-9a-f]{64})$/gm)];
    expect(listed.map((m) => m[1])).toEqual(['zero_to_fp32.py', 'shim/deepspeed/checkpoint/constants.py']);
    for (const [, file, sum] of listed) {
      expect(
        createHash('sha256')
          .update(readFileSync(join(PEER, file!)))
          .digest('hex'),
        file,
      ).toBe(sum);
    }
  });
});

interface Case {
  checkpoint: string;
  output: string;
  ours: string[];
  exclude_frozen: boolean;
}
interface CaseResult {
  ok: boolean;
  tensors?: number;
  equal?: number;
  error?: string;
  differ?: string[];
  only_theirs?: string[];
  only_ours?: string[];
}

describe.skipIf(!torchVersion)(
  torchVersion
    ? `DeepSpeed zero_to_fp32 (torch ${torchVersion}) as oracle`
    : `DeepSpeed zero_to_fp32 as oracle — SKIPPED: ${PYTHON} cannot import torch (apt-get install python3-torch to run it)`,
  () => {
    let tmp: string;
    beforeAll(async () => {
      tmp = await testTmpDir('zero-merge-peer-');
    });
    afterAll(async () => {
      await rm(tmp, { recursive: true, force: true });
    });

    const params = loraModelParams(TEST_LORA_MODEL);
    // no adapter files beside the checkpoint: the oracle compares the consolidated tensors only
    const synth = (o: Partial<SynthOptions>): SynthOptions =>
      loraSynthOptions(TEST_LORA_MODEL, { adapterConfig: undefined, ...o });

    it('gives zero-merge output on the fixtures and on synthetic ZeRO-1/2/3 checkpoints', async () => {
      const cases: Array<Case & { label: string }> = [];
      const add = async (label: string, checkpoint: string, excludeFrozen: boolean): Promise<void> => {
        const i = cases.length;
        const ours = join(tmp, `ours-${i}.safetensors`);
        await consolidate(checkpoint, ours, { excludeFrozen });
        cases.push({
          label,
          checkpoint,
          output: join(tmp, `theirs-${i}`),
          ours: [ours],
          exclude_frozen: excludeFrozen,
        });
      };
      await add('fixtures zero3-w4-bf16', join(FIXTURES, 'zero3-w4-bf16', 'checkpoint-5000'), false);
      await add('fixtures zero2-w3-fp16 --exclude-frozen', join(FIXTURES, 'zero2-w3-fp16', 'checkpoint-5000'), true);
      const synthetic: Array<[string, Partial<SynthOptions>, boolean]> = [
        // Two flat groups (the head's bias is param group 1). Not a parameter straddling two flat groups: DeepSpeed
        // builds ZeRO-3 sub-groups from whole parameters, and zero_to_fp32's GatheredTensor (since #6658) slices
        // the second group from a negative offset there ("shape [3, 8] is invalid for input of size 15").
        ['ZeRO-3, 3 ranks, two flat groups', {}, false],
        ['ZeRO-3, 5 ranks, fp16', { worldSize: 5, dtype: 'fp16' }, false],
        ['ZeRO-3, 8 ranks, --exclude-frozen', { worldSize: 8 }, true],
        ['ZeRO-2, 4 ranks, bf16', { stage: 2, worldSize: 4 }, false],
        ['ZeRO-1, 2 ranks, fp16', { stage: 1, worldSize: 2, dtype: 'fp16' }, false],
      ];
      for (const [label, o, excludeFrozen] of synthetic) {
        const dir = join(tmp, `ck-${cases.length}`);
        await writeSyntheticCheckpoint(dir, synth(o));
        await add(label, dir, excludeFrozen);
      }
      const casesFile = join(tmp, 'cases.json');
      writeFileSync(casesFile, JSON.stringify(cases));
      const r = spawnSync(PYTHON, [join(PEER, 'check.py'), casesFile], { encoding: 'utf8', timeout: 120_000 });
      expect(r.status, r.stderr).toBe(0);
      const results = JSON.parse(r.stdout.trim().split('\n').pop()!) as CaseResult[];
      expect(results).toHaveLength(cases.length);
      results.forEach((res, i) => {
        expect({ case: cases[i]!.label, ...res }).toMatchObject({ case: cases[i]!.label, ok: true });
        expect(res.equal).toBe(res.tensors);
        expect(res.tensors).toBeGreaterThan(0);
      });
      // the tied lm_head and the buffer are in both
      expect(results[2]!.tensors).toBe(params.length + 2);
    });
  },
);

// The real PaliGemma vocabulary end to end: a run of pi0_libero_lora_realvocab_smoke (toy widths,
// 257,152-piece vocabulary, max_token_len 48) trained with a SentencePiece tokenizer that Debian's
// spm_train makes at test time, served by the real vla-serve CLI with --tokenizer to an
// openpi-client-style Python client that resizes 480×640 frames with Pillow (openpi-client's
// resize_with_pad) and packs with msgpack_numpy: actions equal an in-process call on frames resized
// by image-tools. The server also resizes raw 480×640 frames itself, answers bad frames with a
// typed error and keeps serving; a wrong or corrupt tokenizer is refused at start.
import { execFile, spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resizeWithPad } from '@vla-lora/image-tools';
import { float32NdArray, uint8NdArray } from '@vla-lora/policy-server';
import { getTrainConfig, readTokenizerRecord, ServedPi0, trainPi0 } from '@vla-lora/pi0';
import { createLogger, Philox } from '@vla-lora/trainer';
import { loadPolicy } from './load-policy.js';
import { FIXTURES, maxAbsDiff, setupBackend, tempDir } from '@vla-lora/pi0/test-support';
import { spawnServe } from '../test-support/spawn.js';
import { seededServeArgs, trainForServing } from '../test-support/train.js';

const execFileAsync = promisify(execFile);
const PY_CLIENT = fileURLToPath(new URL('../test-support/openpi_pillow_client.py', import.meta.url));
const MAKE_TOKENIZER = join(FIXTURES, 'paligemma-tokenizer', 'make_real_vocab.py');
const missing = (() => {
  const py = spawnSync('/usr/bin/python3', ['-c', 'import sentencepiece, msgpack, websockets, numpy, PIL'], {
    stdio: 'ignore',
  });
  if (py.status !== 0)
    return "Debian's /usr/bin/python3 with python3-sentencepiece, -msgpack, -websockets, -numpy, -pil is not installed";
  if (spawnSync('spm_train', ['--help'], { stdio: 'ignore' }).error) return "Debian's spm_train is not installed";
  return null;
})();
if (missing) console.warn(`SKIPPED real-vocabulary serve test: ${missing} (CI installs them in .ci/run)`);

const H = 480;
const W = 640;

describe.skipIf(missing !== null)('real PaliGemma vocabulary: train, serve, Python client with Pillow', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let tokenizer: string;
  const cfg = getTrainConfig('pi0_libero_lora_realvocab_smoke');
  let dataRoot: string;
  let adapter: string;
  beforeAll(async () => {
    await setupBackend();
    tmp = await tempDir('vla-serve-realvocab-');
    const made = spawnSync('/usr/bin/python3', [MAKE_TOKENIZER, join(tmp.path, 'tok'), '4'], { encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`make_real_vocab.py failed: ${made.stderr}`);
    tokenizer = join(tmp.path, 'tok', 'paligemma-257152.model');
    const run = await trainForServing(tmp.path, cfg, 'realvocab', tokenizer);
    expect(run.trained.loop.stoppedBy).toBe('completed');
    const rec = await readTokenizerRecord(run.runDir);
    expect(rec).toMatchObject({ kind: 'sentencepiece', vocabSize: 257_152, maxTokenLen: 48 });
    dataRoot = run.dataRoot;
    adapter = run.adapter;
  }, 600_000);
  afterAll(async () => {
    await tmp?.remove();
  });

  it('refuses to train a real-vocabulary config without a tokenizer, before allocating', async () => {
    await expect(
      trainPi0({
        config: cfg,
        runDir: join(tmp.path, 'runs', 'none'),
        dataRoot,
        resume: false,
        overwrite: true,
        logger: createLogger({ mode: 'silent' }),
        handleSignals: false,
      }),
    ).rejects.toThrow(/pass --tokenizer PATH/);
  });

  it('a real-size config with the tokenizer is refused for memory (with the bill), not for want of a tokenizer', async () => {
    const err = await trainPi0({
      config: getTrainConfig('pi0_libero_lora'),
      runDir: join(tmp.path, 'runs', 'real-size'),
      dataRoot,
      resume: false,
      overwrite: true,
      tokenizer,
      memoryLimitBytes: 8 * 2 ** 30,
      logger: createLogger({ mode: 'silent' }),
      handleSignals: false,
    }).catch((e: unknown) => e);
    expect((err as Error).name).toBe('InsufficientMemoryError');
    expect((err as Error).message).toMatch(/pi0_libero_lora needs about .*GiB per device .* the limit is 8\.00 GiB/);
    expect((err as Error).message).not.toMatch(/tokenizer/);
  });

  it('Python client (Pillow resize, msgpack_numpy) at 480×640 gets the in-process actions; bad frames do not stop the server', async () => {
    const rng = new Philox(5, 9);
    const bytes = (): Uint8Array => Uint8Array.from({ length: H * W * 3 }, () => Math.floor(rng.uniform() * 256));
    const image = bytes();
    const wrist = bytes();
    const imageFile = join(tmp.path, 'image.bin');
    const wristFile = join(tmp.path, 'wrist.bin');
    await writeFile(imageFile, image);
    await writeFile(wristFile, wrist);
    const state = [0.1, -0.2, 0.3, 0.05, -0.4, 0.2, 0.01, -0.01];
    const prompt = 'pick up the black bowl <loc0012> on the plate_and put it 2 times\n';
    const base = { image_file: imageFile, wrist_file: wristFile, height: H, width: W, state, prompt, noise_seed: 7 };
    const plan = [
      { ...base, resize: 32 }, // openpi-client: resize_with_pad on the client (Pillow)
      { ...base, resize: null }, // raw 480×640: the server resizes (image-tools)
      { ...base, kind: 'empty' },
      { ...base, kind: 'rgba' },
      { ...base, kind: 'nan' },
      { ...base, resize: 32 }, // still serving
    ];

    const p = spawnServe(seededServeArgs(cfg.name, adapter, dataRoot, ['--tokenizer', tokenizer]));
    const local = await loadPolicy({ config: cfg.name, seededBase: true, adapter, dataRoot, tokenizer });
    try {
      const port = await p.listening;
      expect(p.stdout()).toMatch(/tokenizer: .*paligemma-257152\.model \(sentencepiece, 257,152 pieces/);
      const child = execFileAsync('/usr/bin/python3', [PY_CLIENT, `ws://127.0.0.1:${port}`], { encoding: 'utf8' });
      child.child.stdin?.end(JSON.stringify(plan));
      const lines = (await child).stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { event: string; text?: string; actions?: number[]; shape?: number[] });
      expect(lines.map((l) => l.event)).toEqual(['reply', 'reply', 'error', 'error', 'error', 'reply']);
      expect(lines[2]?.text).toMatch(/"observation\/image": Frame is 480×0/);
      expect(lines[3]?.text).toMatch(/"observation\/image" .* got 4 channels/);
      expect(lines[4]?.text).toMatch(/"observation\/image": Float frame has NaN/);

      const served = new ServedPi0({
        policy: local.policy,
        trainConfig: local.trainConfig,
        normStats: local.normStats,
        tokenizer: local.tokenizer,
      });
      const small = (d: Uint8Array) => resizeWithPad({ data: d, height: H, width: W, channels: 3 }, 32, 32).data;
      const want = (
        await served.infer({
          'observation/image': uint8NdArray(small(image), [32, 32, 3]),
          'observation/wrist_image': uint8NdArray(small(wrist), [32, 32, 3]),
          'observation/state': float32NdArray(Float32Array.from(state), [8]),
          prompt,
          noise_seed: 7,
        })
      )['actions'] as { data: Uint8Array };
      const wantActions = new Float32Array(want.data.slice().buffer);
      for (const i of [0, 1, 5]) {
        expect(lines[i]?.shape).toEqual([10, 7]);
        expect(maxAbsDiff(lines[i]?.actions ?? [], wantActions)).toBe(0);
      }
    } finally {
      local.dispose();
      p.child.kill('SIGTERM');
      await p.exited;
    }
  }, 300_000);

  it('refuses a different or corrupt tokenizer at start (the run recorded its sha256)', async () => {
    const corrupt = join(tmp.path, 'corrupt.model');
    await writeFile(corrupt, 'not a sentencepiece model');
    const other = join(FIXTURES, 'paligemma-tokenizer', 'tiny-gemma-bpe.model');
    for (const [tok, re] of [
      [corrupt, /not a valid SentencePiece model/],
      [other, /has 2000 pieces but the model config expects a vocabulary of 257152/],
      [null, /pass the same file with --tokenizer/],
    ] as const) {
      await expect(
        loadPolicy({ config: cfg.name, seededBase: true, adapter, dataRoot, ...(tok ? { tokenizer: tok } : {}) }),
      ).rejects.toThrow(re);
    }
  });
});

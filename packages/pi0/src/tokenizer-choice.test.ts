import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getPi0Config } from '@vla-lora/gemma-config';
import { TokenizerChangedError, TokenizerVocabMismatchError } from '@vla-lora/paligemma-tokenizer';
import { createLogger } from '@vla-lora/trainer';
import { getTrainConfig } from './config/index.js';
import { InsufficientMemoryError, TokenizerRequiredError } from './errors.js';
import { SentencePiecePromptTokenizer, WordHashTokenizer } from './prompt-tokenizer.js';
import {
  choosePromptTokenizer,
  readTokenizerRecord,
  tokenizerForRun,
  writeTokenizerRecord,
} from './tokenizer-choice.js';
import { trainPi0 } from './train.js';

const FIXTURE = fileURLToPath(new URL('../../../fixtures/paligemma-tokenizer/tiny-gemma-bpe.model', import.meta.url));

describe('choosing and recording the tokenizer', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'pi0-tok-'));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('toy vocabularies default to the word-hash tokenizer; a real vocabulary needs --tokenizer', async () => {
    const tiny = await choosePromptTokenizer(getPi0Config('pi0_tiny_lora'), undefined);
    expect(tiny.tokenizer).toBeInstanceOf(WordHashTokenizer);
    expect(tiny.record).toMatchObject({ kind: 'word-hash', vocabSize: 1024, sha256: null });
    await expect(choosePromptTokenizer(getPi0Config('pi0_lora'), undefined)).rejects.toBeInstanceOf(
      TokenizerRequiredError,
    );
    // a SentencePiece model whose vocabulary is not the model's is refused
    await expect(choosePromptTokenizer(getPi0Config('pi0_lora'), FIXTURE)).rejects.toBeInstanceOf(
      TokenizerVocabMismatchError,
    );
    const sp = await choosePromptTokenizer(getPi0Config('pi0_tiny_lora', { vocabSize: 2000 }), FIXTURE);
    expect(sp.tokenizer).toBeInstanceOf(SentencePiecePromptTokenizer);
    expect(sp.record).toMatchObject({ kind: 'sentencepiece', vocabSize: 2000, maxTokenLen: 16 });
    expect(sp.tokenizer.encode(['pick up'])).toMatchObject({ masks: [expect.any(Array)] });
  });

  it('a run dir keeps the record and refuses another tokenizer', async () => {
    const cfg = getTrainConfig('pi0_libero_lora_smoke');
    const run = join(tmp, 'run');
    await import('node:fs/promises').then((fs) => fs.mkdir(run));
    expect(await readTokenizerRecord(run)).toBeNull();
    const wh = await choosePromptTokenizer(getPi0Config(cfg.model.pi0), undefined);
    await writeTokenizerRecord(run, wh.record);
    expect(await readTokenizerRecord(run)).toEqual(wh.record);
    await expect(tokenizerForRun(run, cfg, undefined)).resolves.toMatchObject({ record: wh.record });
    // the same run served with a SentencePiece file (vocab matching a patched config) is another tokenizer
    await writeTokenizerRecord(run, { ...wh.record, kind: 'sentencepiece', sha256: 'f'.repeat(64), vocabSize: 1024 });
    await expect(tokenizerForRun(run, cfg, undefined)).rejects.toThrow(/pass the same file with --tokenizer/);
    await writeTokenizerRecord(run, { ...wh.record, vocabSize: 999 });
    await expect(tokenizerForRun(run, cfg, undefined)).rejects.toBeInstanceOf(TokenizerChangedError);
  });

  it('a bill larger than the machine is refused before the run dir or the model exist', async () => {
    const runDir = join(tmp, 'too-big');
    const err = await trainPi0({
      config: getTrainConfig('pi0_libero_lora_smoke'),
      runDir,
      dataRoot: join(tmp, 'data'),
      resume: false,
      overwrite: false,
      memoryLimitBytes: 1024,
      logger: createLogger({ mode: 'silent' }),
      handleSignals: false,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InsufficientMemoryError);
    expect((err as Error).message).toMatch(
      /needs about .* per device by the memory bill below, and the limit is 1\.0 KiB/,
    );
    expect((err as Error).message).toMatch(/nothing was allocated/);
    await expect(access(runDir)).rejects.toThrow(/ENOENT/);
  });
});

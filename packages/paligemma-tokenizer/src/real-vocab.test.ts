import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRealVocabTokenizer, realVocabToolsMissing } from '../test-support/real-vocab.js';
import { PaligemmaTokenizer, TokenizerVocabMismatchError } from './index.js';

const missing = realVocabToolsMissing();
if (missing) console.warn(`SKIPPED real-vocabulary tokenizer tests: ${missing} (CI installs it in .ci/run)`);

describe.skipIf(missing !== null)('a PaliGemma-sized (257,152-piece) model made by spm_train', () => {
  let dir: string;
  let files: { model: string; reference: string };
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pg-real-vocab-'));
    files = makeRealVocabTokenizer(dir, 200);
  }, 180_000);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads with the real vocabulary size and tokenizes as python3-sentencepiece does', async () => {
    const ref = JSON.parse(await readFile(files.reference, 'utf8')) as {
      vocab_size: number;
      cases: { prompt: string; ids: number[]; mask: string }[];
    };
    const tok = await PaligemmaTokenizer.fromFile(files.model, { maxTokenLen: 48, expectedVocabSize: 257_152 });
    expect(ref.vocab_size).toBe(257_152);
    expect(tok.vocabSize).toBe(257_152);
    expect(tok.encode('<loc0000><seg127>')).toEqual([5, 1156]);
    const bad = ref.cases.filter((c) => {
      const { ids, mask } = tok.tokenize(c.prompt);
      return Array.from(ids).join() !== c.ids.join() || mask.map((m) => (m ? '1' : '0')).join('') !== c.mask;
    });
    expect(bad.map((c) => c.prompt)).toEqual([]);
    await expect(PaligemmaTokenizer.fromFile(files.model, { expectedVocabSize: 2000 })).rejects.toBeInstanceOf(
      TokenizerVocabMismatchError,
    );
  });
});

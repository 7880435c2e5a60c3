// Which tokenizer a pi0 run uses, and the record the run dir keeps of it (tokenizer-record.json):
// serve and eval refuse a tokenizer other than the one the run was trained with.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '@vla-lora/checkpoint-io';
import { getPi0Config, PALIGEMMA_VOCAB_SIZE, type Pi0Config } from '@vla-lora/gemma-config';
import { PaligemmaTokenizer, TokenizerChangedError } from '@vla-lora/paligemma-tokenizer';
import type { TrainConfig } from './config/index.js';
import { TokenizerRequiredError } from './errors.js';
import { type PromptTokenizer, SentencePiecePromptTokenizer, WordHashTokenizer } from './prompt-tokenizer.js';
import { RUN_LAYOUT } from '@vla-lora/trainer';

export const TOKENIZER_RECORD_FILE = RUN_LAYOUT.tokenizerRecord;

export interface TokenizerRecord {
  kind: 'word-hash' | 'sentencepiece' | 'tokenizer.json';
  vocabSize: number;
  maxTokenLen: number;
  /** sha256 of the tokenizer file (null for the built-in word-hash tokenizer). */
  sha256: string | null;
  /** Where it was loaded from when the run was trained (informational). */
  source: string | null;
}

export interface ChosenTokenizer {
  tokenizer: PromptTokenizer;
  record: TokenizerRecord;
  description: string;
}

/**
 * The tokenizer for `pi0`: openpi's PaligemmaTokenizer from `path` (its vocabulary must equal the
 * model's, a TokenizerVocabMismatchError otherwise), or the built-in word-hash tokenizer for toy
 * vocabularies. A real-vocabulary config without `path` is a TokenizerRequiredError.
 */
export async function choosePromptTokenizer(pi0: Pi0Config, path: string | undefined): Promise<ChosenTokenizer> {
  if (path !== undefined) {
    const t = await PaligemmaTokenizer.fromFile(path, {
      maxTokenLen: pi0.maxTokenLen,
      expectedVocabSize: pi0.vocabSize,
    });
    const fp = t.fingerprint;
    return {
      tokenizer: new SentencePiecePromptTokenizer(t),
      record: {
        kind: fp.format,
        vocabSize: fp.vocabSize,
        maxTokenLen: t.maxTokenLen,
        sha256: fp.sha256,
        source: t.path,
      },
      description: `tokenizer: ${t.path} (${fp.format}, ${fp.vocabSize.toLocaleString('en-US')} pieces, sha256 ${fp.sha256.slice(0, 16)}…, max_token_len ${t.maxTokenLen})`,
    };
  }
  if (pi0.vocabSize === PALIGEMMA_VOCAB_SIZE)
    throw new TokenizerRequiredError(
      `${pi0.name} uses the real PaliGemma vocabulary (${PALIGEMMA_VOCAB_SIZE.toLocaleString('en-US')} pieces): pass --tokenizer PATH with openpi's paligemma_tokenizer.model (big_vision's SentencePiece model), or a tokenizer.json directory.`,
    );
  return {
    tokenizer: new WordHashTokenizer(pi0.vocabSize, pi0.maxTokenLen),
    record: { kind: 'word-hash', vocabSize: pi0.vocabSize, maxTokenLen: pi0.maxTokenLen, sha256: null, source: null },
    description: `tokenizer: built-in word-hash (toy vocabulary of ${pi0.vocabSize}; pass --tokenizer for a SentencePiece model)`,
  };
}

export async function writeTokenizerRecord(runDir: string, record: TokenizerRecord): Promise<void> {
  await writeFileAtomic(join(runDir, TOKENIZER_RECORD_FILE), `${JSON.stringify(record, null, 2)}\n`);
}

/** The run's record, or null for runs written before records existed. */
export async function readTokenizerRecord(runDir: string): Promise<TokenizerRecord | null> {
  let text: string;
  try {
    text = await readFile(join(runDir, TOKENIZER_RECORD_FILE), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  const r = JSON.parse(text) as Partial<TokenizerRecord>;
  if (
    (r.kind !== 'word-hash' && r.kind !== 'sentencepiece' && r.kind !== 'tokenizer.json') ||
    typeof r.vocabSize !== 'number' ||
    typeof r.maxTokenLen !== 'number' ||
    (r.sha256 !== null && typeof r.sha256 !== 'string')
  )
    throw new TokenizerRequiredError(
      `${join(runDir, TOKENIZER_RECORD_FILE)} is not a tokenizer record (kind, vocabSize, maxTokenLen, sha256); restore it from the run or retrain.`,
    );
  return r as TokenizerRecord;
}

/**
 * The tokenizer a trained run must be served/evaluated with: the one `path` names (refused with
 * TokenizerChangedError if its sha256 or vocabulary differs from the run's record), or the
 * built-in one when the run recorded the word-hash tokenizer.
 */
export async function tokenizerForRun(
  runDir: string,
  config: TrainConfig,
  path: string | undefined,
): Promise<ChosenTokenizer> {
  const pi0 = getPi0Config(config.model.pi0);
  const recorded = await readTokenizerRecord(runDir);
  if (recorded?.kind !== 'word-hash' && recorded !== null && path === undefined)
    throw new TokenizerRequiredError(
      `the run in ${runDir} was trained with the SentencePiece tokenizer ${recorded.source ?? ''} (sha256 ${recorded.sha256}); pass the same file with --tokenizer.`,
    );
  const chosen = await choosePromptTokenizer(pi0, path);
  if (recorded !== null) {
    const same =
      recorded.kind === chosen.record.kind &&
      recorded.vocabSize === chosen.record.vocabSize &&
      recorded.sha256 === chosen.record.sha256;
    if (!same)
      throw new TokenizerChangedError(
        { sha256: recorded.sha256 ?? `built-in ${recorded.kind}`, vocabSize: recorded.vocabSize },
        { sha256: chosen.record.sha256 ?? `built-in ${chosen.record.kind}`, vocabSize: chosen.record.vocabSize },
      );
  }
  return chosen;
}

// Prompt -> token ids for pi0. Real-vocabulary configs use openpi's PaligemmaTokenizer
// (@vla-lora/paligemma-tokenizer, a SentencePiece .model given with --tokenizer); the tiny configs
// default to this deterministic word-hash tokenizer (same shape of output: BOS, words, "\n" as
// openpi's PaligemmaTokenizer lays them out, padded to max length with a mask).
import type { PaligemmaTokenizer } from '@vla-lora/paligemma-tokenizer';

import { fnv1a32 } from '@vla-lora/seeded-random';

export interface TokenizedPrompts {
  /** [B × maxLen] int32 ids. */
  ids: Int32Array;
  /** Per row, per token: real (true) or padding. */
  masks: boolean[][];
}

const BOS = 2;
const NEWLINE = 3;
const FIRST_WORD_ID = 4;

/** openpi cleans the prompt: strip, lowercase words, "_" -> " " (LIBERO task names). */
export function cleanPrompt(prompt: string): string[] {
  return prompt
    .trim()
    .replace(/_/g, ' ')
    .toLowerCase()
    .split(/\s+/)
    .filter((w) => w.length > 0);
}

/** What the data pipeline and the server need from a tokenizer. */
export interface PromptTokenizer {
  readonly vocabSize: number;
  readonly maxLen: number;
  encode(prompts: readonly string[]): TokenizedPrompts;
}

/** openpi's PaligemmaTokenizer (SentencePiece) as a PromptTokenizer. */
export class SentencePiecePromptTokenizer implements PromptTokenizer {
  constructor(readonly tokenizer: PaligemmaTokenizer) {}
  get vocabSize(): number {
    return this.tokenizer.vocabSize;
  }
  get maxLen(): number {
    return this.tokenizer.maxTokenLen;
  }
  encode(prompts: readonly string[]): TokenizedPrompts {
    return this.tokenizer.tokenizeBatch(prompts);
  }
}

export class WordHashTokenizer implements PromptTokenizer {
  constructor(
    readonly vocabSize: number,
    readonly maxLen: number,
  ) {
    if (!Number.isInteger(vocabSize) || vocabSize <= FIRST_WORD_ID + 1)
      throw new RangeError(`vocabSize must exceed ${FIRST_WORD_ID + 1}, got ${vocabSize}`);
    if (!Number.isInteger(maxLen) || maxLen < 2) throw new RangeError(`maxLen must be >= 2, got ${maxLen}`);
  }

  wordId(word: string): number {
    return FIRST_WORD_ID + (fnv1a32(word) % (this.vocabSize - FIRST_WORD_ID));
  }

  /** BOS, words, newline; truncated to maxLen (like openpi), padded with 0 and mask false. */
  encode(prompts: readonly string[]): TokenizedPrompts {
    const ids = new Int32Array(prompts.length * this.maxLen);
    const masks: boolean[][] = [];
    prompts.forEach((p, b) => {
      const toks = [BOS, ...cleanPrompt(p).map((w) => this.wordId(w)), NEWLINE].slice(0, this.maxLen);
      ids.set(toks, b * this.maxLen);
      masks.push(Array.from({ length: this.maxLen }, (_, j) => j < toks.length));
    });
    return { ids, masks };
  }
}

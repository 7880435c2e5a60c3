import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CorruptTokenizerError,
  InvalidMaxTokenLenError,
  NoBosPieceError,
  ProtoParseError,
  TokenizerChangedError,
  TokenizerNotFoundError,
  TokenizerVocabMismatchError,
} from './errors.js';
import { loadHfTokenizer } from './hf-json.js';
import { PieceType, parseSentencePieceModel } from './model-proto.js';
import { cleanPrompt } from './python-strip.js';
import { loadWasmSentencePiece, type SentencePieceEncoder } from './sentencepiece-wasm.js';

/** openpi's default max_token_len for pi0. */
export const PI0_MAX_TOKEN_LEN = 48;

export interface TokenizerOptions {
  /** Pad/truncate length (openpi's model config max_token_len; 48 for pi0). */
  readonly maxTokenLen?: number;
  /** The model's vocabulary size (embedding rows); a different tokenizer size is a TokenizerVocabMismatchError. */
  readonly expectedVocabSize?: number;
}

/** What a run dir stores to recognise the tokenizer later (see `assertSameTokenizer`). */
export interface TokenizerFingerprint {
  /** sha256 (hex) of the .model file, or of tokenizer.json for the Hugging Face format. */
  readonly sha256: string;
  readonly vocabSize: number;
  readonly format: 'sentencepiece' | 'tokenizer.json';
}

export interface TokenizedPrompt {
  /** Token ids, right-padded with 0 to maxTokenLen (openpi pads with False, i.e. 0). */
  readonly ids: Int32Array;
  /** True for real tokens, false for padding. */
  readonly mask: boolean[];
}

/**
 * openpi's `PaligemmaTokenizer` for pi0 (src/openpi/models/tokenizer.py, `state=None`):
 * `cleaned = prompt.strip().replace("_", " ").replace("\n", " ")`, then
 * `encode(cleaned, add_bos=True) + encode("\n")`, right-padded with 0 to `max_token_len` with a
 * boolean mask, or truncated to it.
 */
export class PaligemmaTokenizer {
  private constructor(
    private readonly encoder: SentencePieceEncoder,
    readonly bosId: number,
    readonly maxTokenLen: number,
    readonly fingerprint: TokenizerFingerprint,
    readonly path: string,
  ) {}

  /** The number of pieces (= embedding rows the ids index). */
  get vocabSize(): number {
    return this.fingerprint.vocabSize;
  }

  get sha256(): string {
    return this.fingerprint.sha256;
  }

  /**
   * Loads a SentencePiece `.model` (e.g. openpi's paligemma_tokenizer.model), a Hugging Face
   * `tokenizer.json` (with `tokenizer_config.json` beside it), or a directory holding either
   * (`tokenizer.model` is preferred over `tokenizer.json`).
   */
  static async fromFile(path: string, options: TokenizerOptions = {}): Promise<PaligemmaTokenizer> {
    const maxTokenLen = options.maxTokenLen ?? PI0_MAX_TOKEN_LEN;
    if (!Number.isSafeInteger(maxTokenLen) || maxTokenLen < 1) throw new InvalidMaxTokenLenError(maxTokenLen);
    let file = path;
    try {
      if ((await stat(path)).isDirectory()) file = await pickFileInDir(path);
    } catch (e) {
      throw new TokenizerNotFoundError(path, (e as Error).message);
    }
    let bytes: Uint8Array;
    try {
      bytes = await readFile(file);
    } catch (e) {
      throw new TokenizerNotFoundError(file, (e as Error).message);
    }
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    let tok: PaligemmaTokenizer;
    if (looksLikeJson(bytes)) {
      const hf = await loadHfTokenizer(file, bytes);
      tok = new PaligemmaTokenizer(
        hf.encoder,
        hf.bosId,
        maxTokenLen,
        { sha256, vocabSize: hf.vocabSize, format: 'tokenizer.json' },
        file,
      );
    } else {
      tok = await PaligemmaTokenizer.fromSentencePieceBytes(bytes, file, sha256, maxTokenLen);
    }
    if (options.expectedVocabSize !== undefined) tok.assertVocabSize(options.expectedVocabSize);
    return tok;
  }

  private static async fromSentencePieceBytes(
    bytes: Uint8Array,
    file: string,
    sha256: string,
    maxTokenLen: number,
  ): Promise<PaligemmaTokenizer> {
    let model: ReturnType<typeof parseSentencePieceModel>;
    try {
      model = parseSentencePieceModel(bytes);
    } catch (e) {
      if (e instanceof ProtoParseError) throw new CorruptTokenizerError(file, e.detail);
      throw e;
    }
    // SentencePiece's bos_id(): the id of trainer_spec.bos_piece if that piece is a CONTROL piece.
    const bosPiece = model.trainerSpec.bosPiece;
    const bosId = model.pieces.findIndex((p) => p.piece === bosPiece);
    if (bosId < 0 || model.pieces[bosId]?.type !== PieceType.CONTROL) throw new NoBosPieceError(file, bosPiece);
    const loaded = await loadWasmSentencePiece(bytes, model);
    if ('error' in loaded) throw new CorruptTokenizerError(file, loaded.error);
    return new PaligemmaTokenizer(
      loaded.encoder,
      bosId,
      maxTokenLen,
      { sha256, vocabSize: model.pieces.length, format: 'sentencepiece' },
      file,
    );
  }

  /** Throws TokenizerVocabMismatchError unless the tokenizer has exactly `modelVocabSize` pieces. */
  assertVocabSize(modelVocabSize: number): void {
    if (this.vocabSize !== modelVocabSize)
      throw new TokenizerVocabMismatchError(this.vocabSize, modelVocabSize, this.path);
  }

  /** Throws TokenizerChangedError unless this is the tokenizer a run recorded. */
  assertSameAs(recorded: Pick<TokenizerFingerprint, 'sha256' | 'vocabSize'>): void {
    if (recorded.sha256 !== this.sha256 || recorded.vocabSize !== this.vocabSize)
      throw new TokenizerChangedError(recorded, this.fingerprint);
  }

  /** Token ids of `text` without BOS/EOS (SentencePiece `encode(text)`). */
  encode(text: string): number[] {
    return this.encoder.encode(text);
  }

  /** openpi's `PaligemmaTokenizer.tokenize(prompt)` for pi0. */
  tokenize(prompt: string): TokenizedPrompt {
    const cleaned = cleanPrompt(prompt);
    const tokens = [this.bosId, ...this.encoder.encode(cleaned), ...this.encoder.encode('\n')];
    const n = this.maxTokenLen;
    const ids = new Int32Array(n);
    const len = Math.min(tokens.length, n);
    for (let i = 0; i < len; i++) ids[i] = tokens[i] as number;
    const mask = Array.from({ length: n }, (_, i) => i < len);
    return { ids, mask };
  }

  /** `tokenize` over a batch: ids [B × maxTokenLen] row-major, one mask per prompt. */
  tokenizeBatch(prompts: readonly string[]): { ids: Int32Array; masks: boolean[][] } {
    const ids = new Int32Array(prompts.length * this.maxTokenLen);
    const masks: boolean[][] = [];
    prompts.forEach((p, b) => {
      const t = this.tokenize(p);
      ids.set(t.ids, b * this.maxTokenLen);
      masks.push(t.mask);
    });
    return { ids, masks };
  }
}

/** Throws TokenizerChangedError if `actual` is not the tokenizer recorded as `expected`. */
export function assertSameTokenizer(
  expected: Pick<TokenizerFingerprint, 'sha256' | 'vocabSize'>,
  actual: Pick<TokenizerFingerprint, 'sha256' | 'vocabSize'>,
): void {
  if (expected.sha256 !== actual.sha256 || expected.vocabSize !== actual.vocabSize)
    throw new TokenizerChangedError(expected, actual);
}

/** A SentencePiece ModelProto starts with field 1 (0x0a); a tokenizer.json with '{' after optional whitespace / BOM. */
function looksLikeJson(bytes: Uint8Array): boolean {
  let i = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x09 || bytes[i] === 0x0a || bytes[i] === 0x0d)) i++;
  return bytes[i] === 0x7b;
}

async function pickFileInDir(dir: string): Promise<string> {
  for (const name of ['tokenizer.model', 'paligemma_tokenizer.model', 'tokenizer.json']) {
    const p = join(dir, name);
    try {
      if ((await stat(p)).isFile()) return p;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  throw new Error('no tokenizer.model, paligemma_tokenizer.model or tokenizer.json in this directory');
}

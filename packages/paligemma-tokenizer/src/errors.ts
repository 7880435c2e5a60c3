/** Base class of every error this package throws. */
export class PaligemmaTokenizerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The bytes are not a well-formed SentencePiece ModelProto (thrown by parseSentencePieceModel). */
export class ProtoParseError extends PaligemmaTokenizerError {
  constructor(readonly detail: string) {
    super(`Not a SentencePiece ModelProto: ${detail}. Check the file is a SentencePiece .model.`);
  }
}

/** The tokenizer path does not exist or cannot be read. */
export class TokenizerNotFoundError extends PaligemmaTokenizerError {
  constructor(path: string, detail: string) {
    super(
      `Tokenizer file "${path}" cannot be read (${detail}). Pass --tokenizer with openpi's paligemma_tokenizer.model, or a directory holding tokenizer.json + tokenizer_config.json.`,
    );
  }
}

/**
 * The bytes are not a SentencePiece ModelProto (truncated, corrupt, or another kind of file).
 * Some wasm wrappers load such a file silently and then encode every string to []; this package
 * parses the protobuf itself first and refuses.
 */
export class CorruptTokenizerError extends PaligemmaTokenizerError {
  constructor(path: string, detail: string) {
    super(
      `"${path}" is not a valid SentencePiece model: ${detail}. Re-download openpi's paligemma_tokenizer.model (sha256 is recorded in the run dir) or point --tokenizer at the right file.`,
    );
  }
}

/** The tokenizer's vocabulary size differs from the model's embedding rows. */
export class TokenizerVocabMismatchError extends PaligemmaTokenizerError {
  constructor(
    readonly tokenizerVocabSize: number,
    readonly modelVocabSize: number,
    path: string,
  ) {
    super(
      `Tokenizer "${path}" has ${tokenizerVocabSize} pieces but the model config expects a vocabulary of ${modelVocabSize}. ` +
        'Ids would index the wrong embedding rows: use the tokenizer the base model was trained with (PaliGemma: 257,152 pieces), or a config with a matching vocab_size.',
    );
  }
}

/** The tokenizer has no BOS control piece, which openpi's pi0 prompt format needs. */
export class NoBosPieceError extends PaligemmaTokenizerError {
  constructor(path: string, bosPiece: string) {
    super(
      `Tokenizer "${path}" has no BOS control piece ("${bosPiece}"); openpi's pi0 prompt starts with BOS. Use a SentencePiece model trained with a bos_id (PaliGemma's is 2, "<bos>").`,
    );
  }
}

/** A tokenizer.json / tokenizer_config.json pair that this package cannot use. */
export class UnsupportedTokenizerJsonError extends PaligemmaTokenizerError {
  constructor(path: string, detail: string) {
    super(
      `Hugging Face tokenizer "${path}" cannot be used: ${detail}. Use the SentencePiece .model file instead (openpi's paligemma_tokenizer.model).`,
    );
  }
}

/** A tokenizer other than the one a run was trained with. */
export class TokenizerChangedError extends PaligemmaTokenizerError {
  constructor(expected: { sha256: string; vocabSize: number }, actual: { sha256: string; vocabSize: number }) {
    super(
      `This run was trained with tokenizer sha256 ${expected.sha256} (${expected.vocabSize} pieces) but the tokenizer given has sha256 ${actual.sha256} (${actual.vocabSize} pieces). ` +
        'Prompts would map to different ids: pass the same --tokenizer file the run was trained with.',
    );
  }
}

/** maxTokenLen is not a positive integer. */
export class InvalidMaxTokenLenError extends PaligemmaTokenizerError {
  constructor(value: unknown) {
    super(`maxTokenLen must be a positive integer (openpi's pi0 uses 48); got ${String(value)}.`);
  }
}

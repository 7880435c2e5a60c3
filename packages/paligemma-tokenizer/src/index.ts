export {
  CorruptTokenizerError,
  InvalidMaxTokenLenError,
  NoBosPieceError,
  PaligemmaTokenizerError,
  ProtoParseError,
  TokenizerChangedError,
  TokenizerNotFoundError,
  TokenizerVocabMismatchError,
  UnsupportedTokenizerJsonError,
} from './errors.js';
export {
  type NormalizerSpec,
  PieceType,
  type PieceTypeValue,
  parseSentencePieceModel,
  type SentencePiece,
  type SentencePieceModel,
  type TrainerSpec,
} from './model-proto.js';
export { cleanPrompt, isPythonWhitespace, pythonStrip } from './python-strip.js';
export {
  assertSameTokenizer,
  PaligemmaTokenizer,
  PI0_MAX_TOKEN_LEN,
  type TokenizedPrompt,
  type TokenizerFingerprint,
  type TokenizerOptions,
} from './tokenizer.js';

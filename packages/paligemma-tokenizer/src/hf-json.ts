// Hugging Face tokenizer.json (+ tokenizer_config.json beside it), read with
// @huggingface/tokenizers (the tokenizers.js library Transformers.js uses).
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { CorruptTokenizerError, NoBosPieceError, UnsupportedTokenizerJsonError } from './errors.js';
import type { SentencePieceEncoder } from './sentencepiece-wasm.js';

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function tokenContent(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (isRecord(v) && typeof v.content === 'string') return v.content;
  return undefined;
}

export async function loadHfTokenizer(
  file: string,
  bytes: Uint8Array,
): Promise<{ encoder: SentencePieceEncoder; bosId: number; vocabSize: number }> {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw new CorruptTokenizerError(file, `not valid JSON (${(e as Error).message})`);
  }
  if (!isRecord(json) || !isRecord(json.model) || typeof json.model.type !== 'string')
    throw new CorruptTokenizerError(file, 'no "model" object with a "type": not a Hugging Face tokenizer.json');
  const configPath = join(dirname(file), 'tokenizer_config.json');
  let config: unknown;
  try {
    config = JSON.parse(await readFile(configPath, 'utf8'));
  } catch (e) {
    throw new UnsupportedTokenizerJsonError(
      file,
      `tokenizer_config.json beside it cannot be read (${(e as Error).message}); it names the BOS token`,
    );
  }
  if (!isRecord(config)) throw new UnsupportedTokenizerJsonError(file, 'tokenizer_config.json is not a JSON object');

  // Vocabulary size = highest id + 1 over the model vocab and the added tokens (how transformers counts len(tokenizer)).
  let maxId = -1;
  const vocab = json.model.vocab;
  if (isRecord(vocab)) {
    for (const v of Object.values(vocab)) if (typeof v === 'number' && v > maxId) maxId = v;
  } else if (Array.isArray(vocab)) {
    maxId = vocab.length - 1; // Unigram: [[piece, score], ...]
  } else throw new CorruptTokenizerError(file, 'model.vocab is neither an object nor an array');
  const added = Array.isArray(json.added_tokens) ? json.added_tokens : [];
  for (const t of added) if (isRecord(t) && typeof t.id === 'number' && t.id > maxId) maxId = t.id;

  let tokenizer: Tokenizer;
  try {
    tokenizer = new Tokenizer(json, config);
  } catch (e) {
    throw new UnsupportedTokenizerJsonError(file, `tokenizers.js cannot build it (${(e as Error).message})`);
  }
  const bosToken = tokenContent(config.bos_token) ?? '<bos>';
  const bosId = tokenizer.token_to_id(bosToken);
  if (bosId === undefined) throw new NoBosPieceError(file, bosToken);
  return {
    encoder: { encode: (text: string) => tokenizer.encode(text, { add_special_tokens: false }).ids },
    bosId,
    vocabSize: maxId + 1,
  };
}

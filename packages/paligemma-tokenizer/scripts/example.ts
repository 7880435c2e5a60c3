// npx tsx scripts/example.ts [path/to/paligemma_tokenizer.model]
import { fileURLToPath } from 'node:url';
import { PaligemmaTokenizer } from '../src/index.js';

const path =
  process.argv[2] ??
  fileURLToPath(new URL('../../../fixtures/paligemma-tokenizer/tiny-gemma-bpe.model', import.meta.url));
const tok = await PaligemmaTokenizer.fromFile(path, { maxTokenLen: 48 });
const { ids, mask } = tok.tokenize('  pick_up the black bowl\n');
console.log(tok.fingerprint); // { sha256, vocabSize, format } — what a run dir records
console.log(Array.from(ids.subarray(0, mask.filter(Boolean).length))); // BOS … "\n"

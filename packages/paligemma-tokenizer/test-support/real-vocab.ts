// Builds the 257,152-piece PaliGemma-sized SentencePiece model with Debian's spm_train at test time
// (fixtures/paligemma-tokenizer/make_real_vocab.py); ≈10 MB, so not a stored fixture. Test support only.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../../../fixtures/paligemma-tokenizer/make_real_vocab.py', import.meta.url));

/** Why the Debian tools are unusable here, or null when they are there. */
export function realVocabToolsMissing(): string | null {
  const py = spawnSync('/usr/bin/python3', ['-c', 'import sentencepiece'], { encoding: 'utf8' });
  if (py.status !== 0) return "Debian's /usr/bin/python3 with python3-sentencepiece is not installed";
  const spm = spawnSync('spm_train', ['--help'], { encoding: 'utf8' });
  if (spm.error) return "Debian's spm_train (package sentencepiece) is not installed";
  return null;
}

/** Writes `dir`/paligemma-257152.model and `dir`/reference.json (openpi tokenize on `prompts` prompts). */
export function makeRealVocabTokenizer(dir: string, prompts = 200): { model: string; reference: string } {
  const r = spawnSync('/usr/bin/python3', [SCRIPT, dir, String(prompts)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`make_real_vocab.py failed (${r.status}): ${r.stderr}`);
  return { model: join(dir, 'paligemma-257152.model'), reference: join(dir, 'reference.json') };
}

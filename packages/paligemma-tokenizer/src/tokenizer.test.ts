import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CorruptTokenizerError,
  InvalidMaxTokenLenError,
  NoBosPieceError,
  PaligemmaTokenizer,
  PieceType,
  parseSentencePieceModel,
  pythonStrip,
  TokenizerChangedError,
  TokenizerNotFoundError,
  TokenizerVocabMismatchError,
  UnsupportedTokenizerJsonError,
} from './index.js';

// Fixtures made by Debian's spm_train and python3-sentencepiece: fixtures/paligemma-tokenizer/make.py.
const FIX = fileURLToPath(new URL('../../../fixtures/paligemma-tokenizer/', import.meta.url));
const MODEL = join(FIX, 'tiny-gemma-bpe.model');

interface Case {
  prompt: string;
  ids: number[];
  mask: string;
  max_len?: number;
}
interface Reference {
  max_len: number;
  vocab_size: number;
  bos_id: number;
  eos_id: number;
  pad_id: number;
  unk_id: number;
  newline_id: number;
  python_whitespace: string;
  sha256: string;
  no_bos_bos_id: number;
  pieces_sample: [number, string, number, number, number, number][];
  cases: Case[];
  cases_other_len: Case[];
}

let ref: Reference;
let tok: PaligemmaTokenizer;
let tmp: string;

beforeAll(async () => {
  ref = JSON.parse(await readFile(join(FIX, 'reference.json'), 'utf8')) as Reference;
  tok = await PaligemmaTokenizer.fromFile(MODEL, { maxTokenLen: ref.max_len });
  tmp = await mkdtemp(join(tmpdir(), 'pg-tok-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const maskString = (m: boolean[]) => m.map((b) => (b ? '1' : '0')).join('');

describe('PaligemmaTokenizer (SentencePiece .model) against python3-sentencepiece', () => {
  it('ids and masks equal openpi tokenize() run by Python on every generated prompt', () => {
    expect(ref.cases.length).toBeGreaterThanOrEqual(1000);
    const mismatches: string[] = [];
    for (const c of ref.cases) {
      const { ids, mask } = tok.tokenize(c.prompt);
      if (Array.from(ids).join(',') !== c.ids.join(',') || maskString(mask) !== c.mask)
        mismatches.push(JSON.stringify(c.prompt));
    }
    expect(mismatches).toEqual([]);
    // The set covers what the issue asks for.
    const truncated = ref.cases.filter((c) => !c.mask.includes('0')).length;
    expect(truncated).toBeGreaterThan(50);
    expect(ref.cases.some((c) => /\p{Extended_Pictographic}/u.test(c.prompt))).toBe(true);
    expect(ref.cases.some((c) => c.prompt.includes('_'))).toBe(true);
    expect(ref.cases.some((c) => c.prompt.includes('\t'))).toBe(true);
    expect(ref.cases.some((c) => c.prompt.includes('\u3000'))).toBe(true);
  });

  it('tokenizeBatch lays the rows out one after another', () => {
    const cases = ref.cases.slice(0, 5);
    const { ids, masks } = tok.tokenizeBatch(cases.map((c) => c.prompt));
    expect(Array.from(ids)).toEqual(cases.flatMap((c) => c.ids));
    expect(masks.map(maskString)).toEqual(cases.map((c) => c.mask));
  });

  it('other max lengths (1, 2, 8, 200) equal Python too', async () => {
    const byLen = new Map<number, PaligemmaTokenizer>();
    for (const c of ref.cases_other_len) {
      const n = c.max_len as number;
      let t = byLen.get(n);
      if (!t) {
        t = await PaligemmaTokenizer.fromFile(MODEL, { maxTokenLen: n });
        byLen.set(n, t);
      }
      const { ids, mask } = t.tokenize(c.prompt);
      expect([Array.from(ids), maskString(mask)]).toEqual([c.ids, c.mask]);
    }
    expect(byLen.size).toBe(4);
  });

  it('pythonStrip removes exactly what Python str.isspace() is true for', () => {
    const py = new Set([...ref.python_whitespace].map((c) => c.codePointAt(0)));
    const ours: number[] = [];
    for (let cp = 0; cp < 0x110000; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const ch = String.fromCodePoint(cp);
      if (pythonStrip(`${ch}x${ch}`) === 'x') ours.push(cp);
    }
    expect(ours).toEqual([...py]);
    expect(pythonStrip('\ufeffx\ufeff')).toBe('\ufeffx\ufeff'); // JS trim() would remove these
    expect(pythonStrip('\x1cx\x85')).toBe('x'); // JS trim() would keep these
  });

  it('reads the ModelProto as sentencepiece does: special ids, piece types, sha256, vocab size', async () => {
    expect(tok.vocabSize).toBe(ref.vocab_size);
    expect(tok.bosId).toBe(ref.bos_id);
    expect(tok.sha256).toBe(ref.sha256);
    expect(tok.fingerprint).toEqual({ sha256: ref.sha256, vocabSize: ref.vocab_size, format: 'sentencepiece' });
    const model = parseSentencePieceModel(await readFile(MODEL));
    expect(model.pieces.length).toBe(ref.vocab_size);
    const ts = model.trainerSpec;
    expect([ts.padId, ts.eosId, ts.bosId, ts.unkId]).toEqual([ref.pad_id, ref.eos_id, ref.bos_id, ref.unk_id]);
    expect([ts.modelType, ts.byteFallback, ts.splitDigits]).toEqual([2, true, true]);
    expect(model.normalizerSpec).toMatchObject({
      name: 'identity',
      addDummyPrefix: false,
      removeExtraWhitespaces: false,
    });
    for (const [id, piece, score, control, unknown, byte] of ref.pieces_sample) {
      const p = model.pieces[id];
      expect(p?.piece).toBe(piece);
      expect(p?.score).toBe(score);
      expect([p?.type === PieceType.CONTROL, p?.type === PieceType.UNKNOWN, p?.type === PieceType.BYTE]).toEqual([
        control === 1,
        unknown === 1,
        byte === 1,
      ]);
    }
    expect(tok.encode('\n')).toEqual([ref.newline_id]);
  });

  it('a directory holding tokenizer.model is accepted', async () => {
    const dir = join(tmp, 'dir');
    await import('node:fs/promises').then((fs) => fs.mkdir(dir));
    await writeFile(join(dir, 'tokenizer.model'), await readFile(MODEL));
    const t = await PaligemmaTokenizer.fromFile(dir);
    expect(t.sha256).toBe(ref.sha256);
    expect(t.maxTokenLen).toBe(48);
  });
});

describe('bad tokenizer files are typed errors, never a tokenizer that encodes to []', () => {
  it('corrupt or non-SentencePiece bytes → CorruptTokenizerError', async () => {
    const good = await readFile(MODEL);
    const bad: [string, Uint8Array][] = [
      ['empty', new Uint8Array(0)],
      ['garbage', new TextEncoder().encode('this is not a tokenizer at all, just text\n')],
      ['truncated', good.subarray(0, Math.floor(good.length / 2))],
      ['tail-only', good.subarray(1000)],
      ['png', Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13])],
      ['bad-json', new TextEncoder().encode('{"model": ')],
      ['json-not-tokenizer', new TextEncoder().encode('{"hello": 1}')],
    ];
    for (const [name, bytes] of bad) {
      const p = join(tmp, `${name}.model`);
      await writeFile(p, bytes);
      await expect(PaligemmaTokenizer.fromFile(p), name).rejects.toBeInstanceOf(CorruptTokenizerError);
    }
  });

  it('a byte flipped inside a length prefix is caught by the bounds-checked parser', async () => {
    const good = new Uint8Array(await readFile(MODEL));
    const broken = good.slice();
    broken[1] = 0x7f; // first piece's length now runs over its neighbours into garbage
    const p = join(tmp, 'flipped.model');
    await writeFile(p, broken);
    await expect(PaligemmaTokenizer.fromFile(p)).rejects.toBeInstanceOf(CorruptTokenizerError);
  });

  it('vocabulary size that disagrees with the model config → TokenizerVocabMismatchError', async () => {
    await expect(PaligemmaTokenizer.fromFile(MODEL, { expectedVocabSize: 257_152 })).rejects.toBeInstanceOf(
      TokenizerVocabMismatchError,
    );
    await expect(PaligemmaTokenizer.fromFile(MODEL, { expectedVocabSize: ref.vocab_size })).resolves.toBeInstanceOf(
      PaligemmaTokenizer,
    );
    expect(() => tok.assertVocabSize(1999)).toThrow(/2000 pieces but the model config expects a vocabulary of 1999/);
  });

  it('a model trained without BOS (python: bos_id() == -1) → NoBosPieceError', async () => {
    expect(ref.no_bos_bos_id).toBe(-1);
    await expect(PaligemmaTokenizer.fromFile(join(FIX, 'no-bos.model'))).rejects.toBeInstanceOf(NoBosPieceError);
  });

  it('missing file, bad maxTokenLen, different tokenizer → typed errors', async () => {
    await expect(PaligemmaTokenizer.fromFile(join(tmp, 'nope.model'))).rejects.toBeInstanceOf(TokenizerNotFoundError);
    await expect(PaligemmaTokenizer.fromFile(MODEL, { maxTokenLen: 0 })).rejects.toBeInstanceOf(
      InvalidMaxTokenLenError,
    );
    expect(() => tok.assertSameAs({ sha256: ref.sha256, vocabSize: ref.vocab_size })).not.toThrow();
    expect(() => tok.assertSameAs({ sha256: '0'.repeat(64), vocabSize: ref.vocab_size })).toThrow(
      TokenizerChangedError,
    );
  });
});

describe('tokenizer.json path: typed errors', () => {
  // No real tool here can write a tokenizer.json for the fixture model (Python tokenizers and
  // transformers are not installed), so only the refusals are tested; see README.
  it('tokenizer.json without tokenizer_config.json beside it → UnsupportedTokenizerJsonError', async () => {
    const dir = join(tmp, 'hf');
    await import('node:fs/promises').then((fs) => fs.mkdir(dir));
    await writeFile(join(dir, 'tokenizer.json'), '{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}');
    await expect(PaligemmaTokenizer.fromFile(join(dir, 'tokenizer.json'))).rejects.toBeInstanceOf(
      UnsupportedTokenizerJsonError,
    );
    await expect(PaligemmaTokenizer.fromFile(dir)).rejects.toBeInstanceOf(UnsupportedTokenizerJsonError);
  });
});

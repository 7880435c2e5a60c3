// Bad input: every damaged checkpoint is a typed error that names the file at fault, and nothing is left behind.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, readdir, rm, truncate, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consolidate } from './consolidate.js';
import { extractAdapter } from './adapter.js';
import {
  DcpChunkError,
  DcpLayoutError,
  DcpMetadataError,
  DcpMissingFileError,
  DcpNotFoundError,
  DcpOutputExistsError,
  DcpUnsafePickleError,
  DcpUnsupportedTransformError,
} from './errors.js';
import { parseMetadata } from './metadata.js';
import { testTmpDir } from '@vla-lora/checkpoint-io/test-support';

const CKPT = fileURLToPath(new URL('../../../fixtures/dcp/dcp-w2-f32/checkpoint/', import.meta.url));
const MUTATE = fileURLToPath(new URL('../test-support/mutate-metadata.py', import.meta.url));
const PY = '/usr/bin/python3';
const hasPython = existsSync(PY);

let tmp: string;
let n = 0;
beforeAll(async () => {
  tmp = await testTmpDir('dcp-merge-bad-');
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function copyCkpt(): Promise<{ dir: string; out: string }> {
  const root = join(tmp, `case${n++}`);
  const dir = join(root, 'ckpt');
  await cp(CKPT, dir, { recursive: true });
  return { dir, out: join(root, 'out.safetensors') };
}

/** Runs the conversion, expects `cls`, checks the message names `file` and that only the checkpoint dir remains. */
async function expectFailure(
  dir: string,
  out: string,
  cls: new (...a: never[]) => Error,
  file: string,
): Promise<Error> {
  const root = join(out, '..');
  const err = await consolidate(dir, out).then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  expect(err).toBeInstanceOf(cls);
  expect((err as Error).message).toContain(file);
  expect(await readdir(root)).toEqual(['ckpt']);
  const err2 = await extractAdapter(dir, join(root, 'adapter'), { loraAlpha: 16 }).then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  expect(err2).toBeInstanceOf(cls);
  expect(await readdir(root)).toEqual(['ckpt']);
  return err as Error;
}

describe('damaged checkpoints', () => {
  it('no .metadata → DcpNotFoundError', async () => {
    const { dir, out } = await copyCkpt();
    await unlink(join(dir, '.metadata'));
    await expectFailure(dir, out, DcpNotFoundError, dir);
  });

  it('a missing .distcp → DcpMissingFileError naming it', async () => {
    const { dir, out } = await copyCkpt();
    await unlink(join(dir, '__1_0.distcp'));
    const err = (await expectFailure(dir, out, DcpMissingFileError, '__1_0.distcp')) as DcpMissingFileError;
    expect(err.file).toBe(join(dir, '__1_0.distcp'));
  });

  it('a truncated .distcp → DcpChunkError naming it', async () => {
    const { dir, out } = await copyCkpt();
    await truncate(join(dir, '__1_0.distcp'), 300_000);
    const err = (await expectFailure(dir, out, DcpChunkError, '__1_0.distcp')) as DcpChunkError;
    expect(err.message).toMatch(/truncated/);
  });

  it('a damaged chunk (bytes overwritten inside its zip directory) → DcpChunkError naming the file', async () => {
    const { dir, out } = await copyCkpt();
    const { open } = await import('node:fs/promises');
    const h = await open(join(dir, '__0_0.distcp'), 'r+');
    // the first chunk's central directory lies near its end (34601 bytes long)
    await h.write(Buffer.alloc(200, 0x41), 0, 200, 34601 - 200);
    await h.close();
    await expectFailure(dir, out, DcpChunkError, '__0_0.distcp');
  });

  it('a truncated .metadata → DcpMetadataError naming it', async () => {
    const { dir, out } = await copyCkpt();
    await truncate(join(dir, '.metadata'), 5000);
    await expectFailure(dir, out, DcpMetadataError, '.metadata');
  });

  it('an existing output is kept unless overwrite', async () => {
    const { dir, out } = await copyCkpt();
    await consolidate(dir, out);
    await expect(consolidate(dir, out)).rejects.toBeInstanceOf(DcpOutputExistsError);
    await expect(consolidate(dir, out, { overwrite: true })).resolves.toMatchObject({ tensors: 48 });
  });
});

describe.skipIf(!hasPython)(`damaged .metadata written by ${PY} (pickle stand-ins, no torch)`, () => {
  async function mutated(what: string): Promise<{ dir: string; out: string }> {
    const c = await copyCkpt();
    execFileSync(PY, [MUTATE, join(CKPT, '.metadata'), join(c.dir, '.metadata'), what]);
    return c;
  }

  it('overlapping chunks → DcpLayoutError naming .metadata and the tensor', async () => {
    const { dir, out } = await mutated('overlap');
    const err = (await expectFailure(dir, out, DcpLayoutError, '.metadata')) as DcpLayoutError;
    expect(err.message).toMatch(/overlap/);
    expect(err.tensor).toBe('model.model.embed_tokens.weight');
  });

  it('a gap between chunks → DcpLayoutError', async () => {
    const { dir, out } = await mutated('gap');
    const err = await expectFailure(dir, out, DcpLayoutError, '.metadata');
    expect(err.message).toMatch(/gap/);
  });

  it('a hostile global (os.system) → DcpUnsafePickleError, nothing executed', async () => {
    const { dir, out } = await mutated('hostile');
    const err = (await expectFailure(dir, out, DcpUnsafePickleError, '.metadata')) as DcpUnsafePickleError;
    expect(err.global).toMatch(/^(posix|os|nt)\.system$/);
  });

  it('a stream transform (transform_descriptors) → DcpUnsupportedTransformError', async () => {
    const { dir, out } = await mutated('transform');
    const err = await expectFailure(dir, out, DcpUnsupportedTransformError, '.metadata');
    expect(err.message).toMatch(/zstd/);
  });
});

describe('parseMetadata on hand-made pickles', () => {
  it('refuses a global that is only referenced, never called', () => {
    // protocol 2: GLOBAL 'builtins eval' STOP
    const bytes = Buffer.concat([Buffer.from([0x80, 2]), Buffer.from('cbuiltins\neval\n.', 'latin1')]);
    expect(() => parseMetadata(bytes, 'x/.metadata')).toThrow(DcpUnsafePickleError);
  });
  it('refuses a pickle that is not a Metadata', () => {
    const bytes = Buffer.from([0x80, 2, 0x7d, 0x2e]); // {}
    expect(() => parseMetadata(bytes, 'x/.metadata')).toThrow(/not a Metadata/);
  });
});

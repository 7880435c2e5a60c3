// A ZeRO shard whose pickle names os.system is refused with checkpoint-io's UnsafePickleError (naming the
// global), not reported as a truncated file; nothing is executed.
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UnsafePickleError } from '@vla-lora/checkpoint-io';
import { afterAll, describe, expect, it } from 'vitest';
import { openZeroCheckpoint } from './checkpoint.js';

const dir = mkdtempSync(join(tmpdir(), 'zero-unsafe-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const FIX = fileURLToPath(new URL('../../../fixtures/zero/zero2-w3-fp16/checkpoint-5000/', import.meta.url));

describe('hostile ZeRO shards', () => {
  it('a rank file replaced by a pickle calling posix.system → UnsafePickleError naming it', async () => {
    const ckpt = join(dir, 'checkpoint-5000');
    cpSync(FIX, ckpt, { recursive: true });
    const step = join(ckpt, 'global_step5000');
    const victim = readdirSync(step).find((n) => n.endsWith('optim_states.pt')) as string;
    const marker = join(dir, 'PWNED');
    // a bare protocol 2 pickle of {'zero_stage': posix.system('touch <marker>')}: the unsafe global is reported
    // even though the file is not a torch file at all (no magic number)
    const shell = `touch ${marker}`;
    const pickle = Buffer.concat([
      Buffer.from([0x80, 2, 0x7d]),
      Buffer.from('X\x0a\x00\x00\x00zero_stagecposix\nsystem\nX', 'latin1'),
      Buffer.from(new Uint8Array(new Uint32Array([shell.length]).buffer)),
      Buffer.from(`${shell}`, 'latin1'),
      Buffer.from([0x85, 0x52, 0x73, 0x2e]),
    ]);
    writeFileSync(join(step, victim), pickle);
    const err = await openZeroCheckpoint(ckpt).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsafePickleError);
    expect((err as UnsafePickleError).globals).toEqual(['posix.system']);
    expect(existsSync(marker)).toBe(false);
  });
});

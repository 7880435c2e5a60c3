import { afterEach, describe, expect, it } from 'vitest';
import { EXIT_CODES, runMain, UsageError } from './index.js';

class PkgError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}
class PkgUsageError extends PkgError {}
class HostileError extends PkgError {}

afterEach(() => {
  process.exitCode = undefined;
});

async function runWith(main: () => Promise<number | undefined | null>) {
  const lines: string[] = [];
  const code = await runMain(main, {
    name: 'tool',
    typedErrors: [PkgError],
    usageErrors: [PkgUsageError],
    exitCodes: [[HostileError, EXIT_CODES.unsafePickle]],
    err: (t) => lines.push(t),
    debug: false,
  });
  return { code, exitCode: process.exitCode, text: lines.join('') };
}

describe('runMain', () => {
  it('returns what main returns (nothing = 0) and sets process.exitCode; null leaves it alone', async () => {
    expect(await runWith(async () => 4)).toEqual({ code: 4, exitCode: 4, text: '' });
    expect(await runWith(async () => undefined)).toEqual({ code: 0, exitCode: 0, text: '' });
    process.exitCode = undefined;
    expect(await runWith(async () => null)).toEqual({ code: null, exitCode: undefined, text: '' });
  });

  it('a typed error: one line "name: ErrorName: message", no stack, exit 1', async () => {
    const r = await runWith(async () => {
      throw new PkgError('the file is empty;\n  run the merge first');
    });
    expect(r).toEqual({ code: 1, exitCode: 1, text: 'tool: PkgError: the file is empty; run the merge first\n' });
  });

  it('usage errors exit 2; the documented codes match the error or its cause chain', async () => {
    expect((await runWith(async () => Promise.reject(new PkgUsageError('--r must be positive')))).code).toBe(2);
    // cli-kit's own UsageError: exit 2 and one line without being listed in usageErrors / typedErrors
    expect(await runWith(async () => Promise.reject(new UsageError('--exp-name is required')))).toEqual({
      code: 2,
      exitCode: 2,
      text: 'tool: UsageError: --exp-name is required\n',
    });
    const wrapped = new PkgError('could not read rank 0', { cause: new HostileError('os.system') });
    const r = await runWith(async () => Promise.reject(wrapped));
    expect(r.code).toBe(3);
    expect(r.text).toBe('tool: PkgError: could not read rank 0\n');
  });

  it("commander's parse errors exit 2 (usage), --help 0, and print nothing more", async () => {
    const e = Object.assign(new Error('error: unknown option'), { code: 'commander.unknownOption', exitCode: 1 });
    expect(await runWith(async () => Promise.reject(e))).toEqual({ code: 2, exitCode: 2, text: '' });
    const help = Object.assign(new Error('(outputHelp)'), { code: 'commander.helpDisplayed', exitCode: 0 });
    expect((await runWith(async () => Promise.reject(help))).code).toBe(0);
  });

  it('an unexpected error prints its stack and exits 1; a system error prints one line', async () => {
    const r = await runWith(async () => {
      throw new TypeError('x is undefined');
    });
    expect(r.code).toBe(1);
    expect(r.text).toMatch(/^tool: TypeError: x is undefined\n\s+at /);
    const enoent = Object.assign(new Error("ENOENT: no such file or directory, open 'a.pt'"), {
      code: 'ENOENT',
      syscall: 'open',
    });
    expect((await runWith(async () => Promise.reject(enoent))).text).toBe(
      "tool: ENOENT: no such file or directory, open 'a.pt'\n",
    );
  });
});

describe('runMain without typedErrors (an app)', () => {
  it('every declared error class is typed (one line); built-in errors print their stack', async () => {
    const lines: string[] = [];
    const opts = { name: 'app', err: (t: string) => void lines.push(t), setExitCode: false, debug: false };
    expect(await runMain(async () => Promise.reject(new HostileError('no')), opts)).toBe(1);
    expect(lines.pop()).toBe('app: HostileError: no\n');
    await runMain(async () => Promise.reject(new RangeError('bad index')), opts);
    expect(lines.pop()).toMatch(/^app: RangeError: bad index\n\s+at /);
  });
});

describe('DEFAULT_EXIT_CODES', () => {
  it('an UnsafePickleError (by name, anywhere in the cause chain) exits 3 in every CLI', async () => {
    class UnsafePickleError extends PkgError {}
    const wrapped = new PkgError('rank 0 unreadable', { cause: new UnsafePickleError('os.system') });
    expect(await runMain(async () => Promise.reject(wrapped), { name: 'x', err: () => {}, setExitCode: false })).toBe(
      EXIT_CODES.unsafePickle,
    );
  });
});

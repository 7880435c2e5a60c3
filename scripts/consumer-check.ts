// CI's consumer job: every public package as a user gets it from npm.
//   1. checks the package.json metadata and LICENSE of every public workspace package;
//   2. `pnpm pack`s each one (publishConfig applied, workspace: ranges resolved) and lists each tarball
//      with its size; a tarball must hold LICENSE + README and no source maps or test helpers;
//   3. runs publint (strict) and `attw --profile esm-only` on every tarball;
//   4. `npm install`s the tarballs into an empty project outside the repository (third-party
//      dependencies from the npm registry);
//   5. type-checks a TypeScript consumer (module nodenext, strict) that imports every entry point of
//      every package, together with each README block marked runnable (```ts runnable / ```js runnable),
//      then runs the consumer and every such block as written, each in an empty directory;
//   6. runs each bin's --help, --version (must print the package.json version) and one real command.
// Any failure exits 1. Needs `pnpm build` first. Usage: `pnpm consumer-check` (tsx scripts/consumer-check.ts)
// [--keep] keeps the temporary project and prints its path. `--repo-bins` runs only step 6, on the bins of
// the repository itself (node packages/x/bin/x.mjs), as CI does after `pnpm build`.
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'node_modules', '.bin');
const keep = process.argv.includes('--keep');
const started = Date.now();
const failures: string[] = [];
const execFileP = promisify(execFile);

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  keywords?: string[];
  homepage?: string;
  license?: string;
  repository?: { type?: string; url?: string; directory?: string };
  engines?: { node?: string };
  bin?: Record<string, string>;
  exports?: Record<string, unknown>;
  publishConfig?: { exports?: Record<string, unknown> };
  files?: string[];
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}
interface Pkg {
  dir: string; // relative to ROOT, e.g. packages/checkpoint-io
  manifest: Manifest;
  tarball?: string;
}

const secs = (t0: number): string => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
const kB = (n: number): string => `${(n / 1024).toFixed(1)} kB`;
function fail(what: string, detail = ''): void {
  failures.push(what);
  process.stdout.write(`FAIL  ${what}${detail ? `\n${detail.replace(/^/gm, '      ')}` : ''}\n`);
}
function ok(what: string): void {
  process.stdout.write(`ok    ${what}\n`);
}

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}
/** Runs a command without a shell; never throws for a non-zero exit. */
function run(
  cmd: string,
  args: string[],
  opts: { cwd: string; timeoutMs?: number; env?: NodeJS.ProcessEnv },
): Promise<RunResult> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => {
      stderr += `\n[killed after ${(opts.timeoutMs ?? 0) / 1000} s]`;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}
const tail = (r: RunResult, n = 15): string => `${r.stdout}\n${r.stderr}`.trim().split('\n').slice(-n).join('\n');

async function mapLimit<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

// ---------------------------------------------------------------------------------------------------
// 1. the public packages and their metadata

async function publicPackages(includePrivate = false): Promise<Pkg[]> {
  const pkgs: Pkg[] = [];
  for (const group of ['packages', 'apps']) {
    for (const name of (await readdir(join(ROOT, group))).sort()) {
      const file = join(ROOT, group, name, 'package.json');
      if (!existsSync(file)) continue;
      const manifest = JSON.parse(await readFile(file, 'utf8')) as Manifest;
      if (includePrivate || !manifest.private) pkgs.push({ dir: `${group}/${name}`, manifest });
    }
  }
  return pkgs;
}

async function checkMetadata(p: Pkg, license: string): Promise<void> {
  const m = p.manifest;
  const problems: string[] = [];
  if (m.license !== 'Apache-2.0') problems.push(`license is ${JSON.stringify(m.license)}, not "Apache-2.0"`);
  if (!m.keywords?.length) problems.push('no "keywords"');
  if (!m.homepage) problems.push('no "homepage"');
  if (!m.repository?.url || m.repository.directory !== p.dir)
    problems.push(`"repository" needs url and "directory": "${p.dir}"`);
  if (!m.engines?.node) problems.push('no "engines.node"');
  const lic = join(ROOT, p.dir, 'LICENSE');
  if (!existsSync(lic) || (await readFile(lic, 'utf8')) !== license)
    problems.push(`LICENSE missing or not the root LICENSE: cp LICENSE ${p.dir}/LICENSE`);
  if (m.scripts?.build && !existsSync(join(ROOT, p.dir, 'dist'))) problems.push('no dist/: run `pnpm build` first');
  if (problems.length) fail(`metadata ${m.name}`, problems.join('\n'));
  else ok(`metadata ${m.name} (license, keywords, homepage, repository.directory, engines, LICENSE file)`);
}

// ---------------------------------------------------------------------------------------------------
// 2./3. pack, list, publint, attw

async function pack(p: Pkg, dest: string): Promise<void> {
  const r = await run(join(BIN, 'pnpm'), ['pack', '--pack-destination', dest], { cwd: join(ROOT, p.dir) });
  const file = r.stdout
    .trim()
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l.endsWith('.tgz'));
  if (r.code !== 0 || !file) return fail(`pack ${p.manifest.name}`, tail(r));
  p.tarball = file.startsWith('/') ? file : join(dest, basename(file));
}

async function inspectTarball(p: Pkg): Promise<void> {
  const tgz = p.tarball!;
  const size = (await stat(tgz)).size;
  const list = (await execFileP('tar', ['-tzvf', tgz], { maxBuffer: 1 << 24 })).stdout.trim().split('\n');
  const files = list.map((l) => l.split(/\s+/).slice(5).join(' '));
  const unpacked = list.reduce((s, l) => s + Number(l.split(/\s+/)[2] ?? 0), 0);
  process.stdout.write(
    `tarball ${basename(tgz).padEnd(40)} ${kB(size).padStart(9)} packed, ${kB(unpacked).padStart(9)} unpacked, ${files.length} files\n`,
  );
  const problems: string[] = [];
  for (const need of ['package/LICENSE', 'package/README.md', 'package/package.json'])
    if (!files.includes(need)) problems.push(`no ${need.slice(8)}`);
  const bad = files.filter(
    (f) => /\.map$|\.test\.|test-support|\/testing\/|\/src\/.*\.ts$/.test(f) && !/\.d\.ts$/.test(f),
  );
  if (bad.length) problems.push(`ships source maps, tests, test helpers or TS sources:\n${bad.join('\n')}`);
  const pj = (await execFileP('tar', ['-xzOf', tgz, 'package/package.json'])).stdout;
  if (pj.includes('workspace:')) problems.push('package.json still has workspace: ranges');
  if (problems.length) fail(`contents ${basename(tgz)}`, problems.join('\n'));
}

async function runPublint(p: Pkg): Promise<void> {
  const buf = await readFile(p.tarball!);
  const tarball = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
  const { messages, pkg } = await publint({ pack: { tarball }, strict: true, level: 'suggestion' });
  const text = messages.map((m) => `${m.type}: ${formatMessage(m, pkg) ?? m.code}`).join('\n');
  if (messages.some((m) => m.type !== 'suggestion')) fail(`publint --strict ${basename(p.tarball!)}`, text);
  else ok(`publint --strict ${basename(p.tarball!)}${text ? `\n${text.replace(/^/gm, '      ')}` : ''}`);
}

async function runAttw(p: Pkg): Promise<void> {
  if (!p.manifest.exports) return ok(`attw: ${basename(p.tarball!)} is bin-only (no "exports"), nothing to resolve`);
  const r = await run(join(BIN, 'attw'), [p.tarball!, '--profile', 'esm-only', '--format', 'table-flipped'], {
    cwd: ROOT,
    env: { NO_COLOR: '1', FORCE_COLOR: '0' },
  });
  if (r.code !== 0) fail(`attw --profile esm-only ${basename(p.tarball!)}`, tail(r, 40));
  else ok(`attw --profile esm-only ${basename(p.tarball!)}`);
}

// ---------------------------------------------------------------------------------------------------
// 4. the consumer project

async function makeConsumer(pkgs: Pkg[], dir: string): Promise<boolean> {
  const rootManifest = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as Manifest;
  const deps: Record<string, string> = {};
  for (const p of pkgs) deps[p.manifest.name] = `file:${p.tarball}`;
  // README examples that import tfjs-core tell the user to install it beside the package
  const tfjs = pkgs.find((p) => p.manifest.dependencies?.['@tensorflow/tfjs-core'])?.manifest.dependencies?.[
    '@tensorflow/tfjs-core'
  ];
  if (tfjs) deps['@tensorflow/tfjs-core'] = tfjs;
  const manifest = {
    name: 'vla-lora-consumer',
    private: true,
    type: 'module',
    dependencies: deps,
    devDependencies: {
      typescript: rootManifest.devDependencies!['typescript'],
      '@types/node': rootManifest.devDependencies!['@types/node'],
    },
    // a nested "@vla-lora/x": "^0.1.0" must be the tarball too, never the registry
    overrides: Object.fromEntries(pkgs.map((p) => [p.manifest.name, `file:${p.tarball}`])),
  };
  await writeFile(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const r = await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], {
    cwd: dir,
    timeoutMs: 600_000,
  });
  if (r.code !== 0) {
    fail('npm install of the tarballs', tail(r, 30));
    return false;
  }
  ok(`npm install of ${pkgs.length} tarballs into ${dir} (${(r.ms / 1000).toFixed(1)} s)`);
  return true;
}

interface Example {
  pkg: string;
  index: number;
  lang: 'ts' | 'js';
  code: string;
  file: string; // relative to the consumer dir, the source file
}

/** The ```ts runnable / ```js runnable blocks of the README.md that ships in the installed package. */
async function readmeExamples(consumer: string, pkgs: Pkg[]): Promise<Example[]> {
  const out: Example[] = [];
  for (const p of pkgs) {
    const readme = await readFile(join(consumer, 'node_modules', p.manifest.name, 'README.md'), 'utf8');
    const re = /^```(ts|js) runnable[^\n]*\n([\s\S]*?)^```\s*$/gm;
    let i = 0;
    for (let m = re.exec(readme); m; m = re.exec(readme)) {
      const lang = m[1] as 'ts' | 'js';
      const short = p.manifest.name.replace('@vla-lora/', '');
      out.push({ pkg: p.manifest.name, index: ++i, lang, code: m[2]!, file: `examples/${short}-${i}.m${lang}` });
    }
  }
  return out;
}

/** Packages whose README has no block that can run on its own, and why (anything else must have one). */
const NO_RUNNABLE_EXAMPLE: Record<string, string> = {
  '@vla-lora/cli-kit': 'its example is a bin file; every bin below runs through it',
  '@vla-lora/zero-merge':
    "needs a DeepSpeed ZeRO checkpoint (the user's own); the bin runs on the repository fixture below",
  '@vla-lora/dcp-merge':
    "needs a PyTorch DCP checkpoint (the user's own); the bin runs on the repository fixture below",
  '@vla-lora/paligemma-tokenizer': "needs the model's SentencePiece tokenizer file (4 MB, not shipped)",
  '@vla-lora/train': 'a CLI; its bin runs below',
  '@vla-lora/serve': 'a CLI; its bin runs below',
};

/** A module importing every entry point of every package, used as TypeScript (nodenext) and at run time. */
function consumerModule(pkgs: Pkg[]): string {
  const lines: string[] = [];
  const names: string[] = [];
  for (const p of pkgs) {
    // a bin-only package (no "exports") has no entry point to import
    // what the tarball publishes (publishConfig.exports), not the repo-only entries (e.g. ./test-support)
    for (const key of Object.keys(p.manifest.publishConfig?.exports ?? p.manifest.exports ?? {})) {
      if (key === './package.json') continue;
      const spec = key === '.' ? p.manifest.name : `${p.manifest.name}/${key.slice(2)}`;
      const id = `m${names.length}`;
      lines.push(`import * as ${id} from '${spec}';`);
      names.push(id);
      lines.push(`export type T${id} = keyof typeof ${id};`);
    }
  }
  lines.push(`const all: Record<string, unknown>[] = [${names.join(', ')}];`);
  lines.push(`const empty = all.filter((m) => Object.keys(m).length === 0).length;`);
  lines.push(`if (empty) throw new Error(\`\${empty} entry points export nothing\`);`);
  lines.push(`console.log(\`\${all.length} entry points loaded\`);`);
  return `${lines.join('\n')}\n`;
}

async function typecheckAndRun(consumer: string, pkgs: Pkg[]): Promise<void> {
  const examples = await readmeExamples(consumer, pkgs);
  await mkdir(join(consumer, 'examples'), { recursive: true });
  for (const ex of examples) await writeFile(join(consumer, ex.file), ex.code);
  await writeFile(join(consumer, 'consumer.mts'), consumerModule(pkgs));
  await writeFile(
    join(consumer, 'tsconfig.json'),
    JSON.stringify(
      {
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          lib: ['es2023'],
          types: ['node'],
          strict: true,
          noUncheckedIndexedAccess: true,
          skipLibCheck: true,
          rootDir: '.',
          outDir: 'out',
        },
        include: ['consumer.mts', 'examples/*.mts'],
      },
      null,
      2,
    ),
  );
  const tsc = await run(join(consumer, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json'], {
    cwd: consumer,
    timeoutMs: 300_000,
  });
  const tsExamples = examples.filter((e) => e.lang === 'ts').length;
  if (tsc.code !== 0)
    return fail(`tsc (nodenext, strict): consumer.mts + ${tsExamples} README examples`, tail(tsc, 40));
  ok(
    `tsc (nodenext, strict): consumer.mts importing every entry point + ${tsExamples} TS README examples (${(tsc.ms / 1000).toFixed(1)} s)`,
  );

  const c = await run(process.execPath, ['out/consumer.mjs'], { cwd: consumer });
  if (c.code !== 0) fail('node out/consumer.mjs (every entry point in plain Node)', tail(c));
  else ok(`node out/consumer.mjs: ${c.stdout.trim()}`);

  for (const p of pkgs) {
    const name = p.manifest.name;
    if (examples.some((e) => e.pkg === name)) continue;
    const why = NO_RUNNABLE_EXAMPLE[name];
    if (why) ok(`example ${name}: none runnable alone (${why})`);
    else
      fail(
        `example ${name}: no README block marked runnable`,
        'mark one ```ts runnable (it must run as written in an empty directory, creating its inputs) or add the ' +
          'package to NO_RUNNABLE_EXAMPLE in scripts/consumer-check.ts with the reason',
      );
  }
  for (const ex of examples) {
    const compiled = ex.lang === 'ts' ? join('out', ex.file.replace(/\.mts$/, '.mjs')) : ex.file;
    const cwd = join(consumer, 'run', basename(ex.file).replace(/\.m[tj]s$/, ''));
    await mkdir(cwd, { recursive: true });
    const r = await run(process.execPath, [join(consumer, compiled)], { cwd, timeoutMs: 180_000 });
    const what = `example ${ex.pkg} README block ${ex.index} (${ex.lang}, ${ex.code.split('\n').length - 1} lines)`;
    if (r.code !== 0) fail(what, tail(r, 25));
    else ok(`${what} ${(r.ms / 1000).toFixed(1)} s\n${tail(r, 4).replace(/^/gm, '        | ')}`);
  }
}

// ---------------------------------------------------------------------------------------------------
// 6. bins: --help, --version, one real command each

interface RealCommand {
  args: string[];
  /** what stdout+stderr must contain */
  expect: RegExp;
  /** expected exit code (default 0) */
  code?: number;
  /** run first, in the same directory (a bin of the same package) */
  setup?: { bin: string; args: string[] };
}
/** One real command per bin, run in an empty directory holding a copy of the fixtures it names. */
const REAL: Record<string, RealCommand> = {
  'lerobot-data': {
    setup: { bin: 'lerobot-data', args: ['generate', 'ds', '--episodes', '3', '--steps', '6', '--image-size', '8'] },
    args: ['inspect', 'ds', '--check-images'],
    expect: /"event":"dataset".*"imagesChecked":\d+/,
  },
  'vla-ckpt': { args: ['verify', 'fixtures/peft-tiny-gemma/adapter'], expect: /28 LoRA tensors/ },
  'zero-merge': {
    args: ['extract-adapter', 'fixtures/zero/zero3-w4-bf16/checkpoint-5000', 'adapter-out'],
    expect: /adapter/i,
  },
  'dcp-merge': { args: ['inspect', 'fixtures/dcp/dcp-w2-f32/checkpoint'], expect: /DCP metadata/ },
  'vla-train': { args: ['plan', 'pi0_libero_lora'], expect: /trainable/i },
  'vla-serve': {
    // the ZeRO-3 placeholder adapter is refused before anything is served, with the zero-merge hint
    args: [
      '--config',
      'pi0_libero_lora_tiny',
      '--seeded-base',
      '--adapter',
      'fixtures/zero/zero3-w4-bf16/checkpoint-5000',
      '--port',
      '0',
    ],
    expect: /zero-merge/,
    code: 1,
  },
};

/** How to start a bin: [command, ...leading args]. */
type BinCommand = (p: Pkg, name: string) => [string, ...string[]];

async function checkBins(work: string, pkgs: Pkg[], binCommand: BinCommand, where: string): Promise<void> {
  for (const p of pkgs) {
    for (const name of Object.keys(p.manifest.bin ?? {})) {
      const [cmd, ...pre] = binCommand(p, name);
      const bin = (n: string, args: string[], cwd: string, timeoutMs = 120_000): Promise<RunResult> => {
        const [c, ...a] = binCommand(p, n);
        return run(c, [...a, ...args], { cwd, timeoutMs });
      };
      const cwd = join(work, 'bin-runs', name);
      await mkdir(cwd, { recursive: true });
      const help = await run(cmd, [...pre, '--help'], { cwd });
      if (help.code !== 0 || !/usage/i.test(help.stdout)) fail(`${where} ${name} --help`, tail(help));
      else ok(`${where} ${name} --help (${(help.ms / 1000).toFixed(1)} s)`);
      const ver = await run(cmd, [...pre, '--version'], { cwd });
      if (ver.code !== 0 || ver.stdout.trim() !== p.manifest.version)
        fail(`${where} ${name} --version`, `expected ${p.manifest.version}\n${tail(ver)}`);
      else ok(`${where} ${name} --version → ${ver.stdout.trim()}`);
      const real = REAL[name];
      if (!real) {
        fail(`${where} ${name}: no real command`, `add one for "${name}" to REAL in scripts/consumer-check.ts`);
        continue;
      }
      for (const f of ['peft-tiny-gemma/adapter', 'zero/zero3-w4-bf16', 'dcp/dcp-w2-f32'])
        if (real.args.some((a) => a.startsWith(`fixtures/${f}`)))
          await cp(join(ROOT, 'fixtures', f), join(cwd, 'fixtures', f), { recursive: true });
      if (real.setup) {
        const s = await bin(real.setup.bin, real.setup.args, cwd);
        if (s.code !== 0) {
          fail(`${where} ${real.setup.bin} ${real.setup.args.join(' ')}`, tail(s));
          continue;
        }
        ok(`${where} ${real.setup.bin} ${real.setup.args.join(' ')} (${(s.ms / 1000).toFixed(1)} s)`);
      }
      const r = await bin(name, real.args, cwd, 180_000);
      const what = `${where} ${name} ${real.args.join(' ')}`;
      const text = `${r.stdout}\n${r.stderr}`;
      if (r.code !== (real.code ?? 0) || !real.expect.test(text))
        fail(what, `exit ${r.code} (expected ${real.code ?? 0}), output must match ${real.expect}\n${tail(r)}`);
      else ok(`${what} → exit ${r.code} (${(r.ms / 1000).toFixed(1)} s)\n${tail(r, 3).replace(/^/gm, '        | ')}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------------

/** `--repo-bins`: every bin of the repository itself (node <package>/bin/<name>.mjs), e.g. after `pnpm build`. */
async function repoBins(): Promise<void> {
  const pkgs = (await publicPackages(true)).filter((p) => p.manifest.bin);
  const work = await mkdtemp(join(tmpdir(), 'vla-lora-bins-'));
  try {
    const inRepo: BinCommand = (p, name) => [process.execPath, join(ROOT, p.dir, p.manifest.bin![name]!)];
    await checkBins(work, pkgs, inRepo, 'repo');
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const license = await readFile(join(ROOT, 'LICENSE'), 'utf8');
  if (!license.includes('Apache License') || !license.includes('Version 2.0')) fail('LICENSE at the root');
  const pkgs = await publicPackages();
  process.stdout.write(`consumer check: ${pkgs.length} public packages\n`);
  for (const p of pkgs) await checkMetadata(p, license);

  const work = await mkdtemp(join(tmpdir(), 'vla-lora-consumer-'));
  if (relative(ROOT, work).startsWith('..') === false) throw new Error(`${work} is inside the repository`);
  const tarballs = join(work, 'tarballs');
  await mkdir(tarballs);
  try {
    await mapLimit(pkgs, 4, (p) => pack(p, tarballs));
    const packed = pkgs.filter((p) => p.tarball);
    let total = 0;
    for (const p of packed) {
      await inspectTarball(p);
      total += (await stat(p.tarball!)).size;
    }
    process.stdout.write(`tarballs: ${packed.length}, ${kB(total)} packed in all\n`);
    process.stdout.write(`packed in ${secs(started)}\n`);
    for (const p of packed) await runPublint(p);
    await mapLimit(packed, 2, runAttw);
    process.stdout.write(`publint + attw done at ${secs(started)}\n`);

    const consumer = join(work, 'consumer');
    await mkdir(consumer);
    if (packed.length === pkgs.length && (await makeConsumer(packed, consumer))) {
      await typecheckAndRun(consumer, packed);
      process.stdout.write(`type-check + examples done at ${secs(started)}\n`);
      const installed: BinCommand = (_p, name) => [join(consumer, 'node_modules', '.bin', name)];
      await checkBins(consumer, packed, installed, 'installed');
    }
  } finally {
    if (keep) process.stdout.write(`kept ${work}\n`);
    else await rm(work, { recursive: true, force: true });
  }
  process.stdout.write(
    failures.length
      ? `consumer check FAILED (${failures.length}): ${failures.join('; ')} (${secs(started)})\n`
      : `consumer check passed (${secs(started)})\n`,
  );
  process.exitCode = failures.length ? 1 : 0;
}

if (process.argv.includes('--repo-bins')) await repoBins();
else await main();
if (process.argv.includes('--repo-bins'))
  process.stdout.write(
    failures.length ? `repo bins FAILED: ${failures.join('; ')}\n` : `repo bins passed (${secs(started)})\n`,
  );
process.exitCode = failures.length ? 1 : 0;

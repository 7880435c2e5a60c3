// `pnpm chaos [sigkill-resume] [disk-full] [server] [fuzz] [--quick]`: runs the chaos scripts
// (all by default) one after the other, each in its own process, and exits non-zero if any fails.
// --quick shrinks every run (5 SIGKILL trials, 3 disk-full trials, 1,000 requests, 5,000 inputs).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './common.js';

const ALL = ['sigkill-resume', 'disk-full', 'server', 'fuzz'] as const;
const QUICK: Record<(typeof ALL)[number], string[]> = {
  'sigkill-resume': ['--trials', '5'],
  'disk-full': ['--trials', '3'],
  server: ['--requests', '1000'],
  fuzz: ['--inputs', '5000'],
};
const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const picked = ALL.filter((n) => argv.includes(n));
const failed: string[] = [];
for (const name of picked.length ? picked : ALL) {
  process.stdout.write(`\n### chaos ${name}${quick ? ' (--quick)' : ''}\n`);
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'scripts', 'chaos', `${name}.ts`), ...(quick ? QUICK[name] : [])],
    { stdio: 'inherit', cwd: ROOT },
  );
  if (r.status !== 0) failed.push(name);
}
process.stdout.write(`\nchaos: ${failed.length ? `FAILED: ${failed.join(', ')}` : 'all passed'}\n`);
process.exitCode = failed.length ? 1 : 0;

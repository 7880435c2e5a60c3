// Builds the static page into dist/: app.js (esbuild bundle of src/main.ts and
// @vla-lora/checkpoint-io/browser, for the browser, no shims), index.html and style.css.
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = (p: string) => fileURLToPath(new URL(`../${p}`, import.meta.url));

export async function buildInspector(outDir = here('dist')): Promise<string> {
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  await build({
    entryPoints: [here('src/main.ts')],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    minify: true,
    keepNames: true, // error classes name themselves from new.target.name
    outfile: `${outDir}/app.js`,
    logLevel: 'warning',
  });
  await copyFile(here('public/index.html'), `${outDir}/index.html`);
  await copyFile(here('public/style.css'), `${outDir}/style.css`);
  return outDir;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = await buildInspector();
  console.log(`inspector built: ${dir}/index.html`);
}

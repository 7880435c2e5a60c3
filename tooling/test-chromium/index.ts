// Debian's Chromium, headless, driven by playwright-core (no browser download): for tests that look at
// rendered HTML (trainer's report.html, the inspector app). Tests skip visibly when /usr/bin/chromium is
// missing (.ci/run installs it). A private workspace package: test code only, never published.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const haveChromium = existsSync(CHROMIUM);

/**
 * Runs `fn` with a fresh headless Chromium context (its own user-data dir), closing it afterwards.
 * `viewport` defaults to 800×600.
 */
export async function withChromium<T>(
  fn: (ctx: BrowserContext) => Promise<T>,
  opts: { viewport?: { width: number; height: number } } = {},
): Promise<T> {
  const profile = await mkdtemp(join(tmpdir(), 'chromium-profile-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
    viewport: opts.viewport ?? { width: 800, height: 600 },
  });
  try {
    return await fn(ctx);
  } finally {
    await ctx.close();
    await rm(profile, { recursive: true, force: true });
  }
}

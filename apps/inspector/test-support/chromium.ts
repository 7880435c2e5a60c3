// Debian's Chromium, headless, driven by playwright-core (no browser download): for tests that look
// at rendered HTML. Tests skip visibly when /usr/bin/chromium is missing (.ci/run installs it).
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const haveChromium = existsSync(CHROMIUM);

/** Runs `fn` with a fresh headless Chromium context (its own user-data dir), closing it afterwards. */
export async function withChromium<T>(fn: (ctx: BrowserContext) => Promise<T>): Promise<T> {
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
    viewport: { width: 1100, height: 800 },
  });
  try {
    return await fn(ctx);
  } finally {
    await ctx.close();
    await rm(profile, { recursive: true, force: true });
  }
}

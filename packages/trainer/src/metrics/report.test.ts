import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MetricRecord } from '@vla-lora/checkpoint-io';
import { describe, expect, it } from 'vitest';
import { haveChromium, withChromium } from '@vla-lora/test-chromium';
import { renderReport, smoothSeries } from './report.js';

const SHOTS = fileURLToPath(new URL('../../.screenshots', import.meta.url));

describe('smoothSeries (TensorBoard EMA with debiasing)', () => {
  it('debiases the start, passes non-finite points through, leaves a constant series alone', () => {
    // w = 0.6: 0.4*1 / (1-0.6) = 1; (0.24 + 0.8) / (1 - 0.36) = 1.625; then (0.624 + 1.2) / (1 - 0.216)
    const s = smoothSeries(
      [
        [1, 1],
        [2, 2],
        [3, Number.NaN],
        [4, 3],
      ],
      0.6,
    );
    expect(s[0]![1]).toBeCloseTo(1, 12);
    expect(s[1]![1]).toBeCloseTo(1.625, 12);
    expect(s[2]![1]).toBeNaN();
    expect(s[3]![1]).toBeCloseTo((0.6 * 1.04 + 0.4 * 3) / (1 - 0.6 ** 3), 12);
    expect(
      smoothSeries(
        [
          [1, 5],
          [2, 5],
        ],
        0.9,
      ).map((p) => p[1]),
    ).toEqual([5, 5]);
    expect(
      smoothSeries(
        [
          [1, 4],
          [2, 2],
        ],
        0,
      ).map((p) => p[1]),
    ).toEqual([4, 2]);
  });
});

function syntheticHistory(n: number): MetricRecord[] {
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 2;
  return Array.from({ length: n }, (_, i) => ({
    step: i + 1,
    loss: 2.5 * Math.exp(-i / 60) + 0.3 + 0.25 * rnd(),
    lr: i < 10 ? (1e-4 * (i + 1)) / 10 : 1e-4 * (0.5 + 0.5 * Math.cos((Math.PI * (i - 10)) / (n - 10))),
    grad_norm: 1.5 * Math.exp(-i / 80) + 0.2 + 0.1 * rnd(),
    samples_per_s: 42 + 3 * rnd(),
  }));
}

describe('report.html', () => {
  const html = renderReport(syntheticHistory(200), {
    title: 'pi0 LoRA — synthetic run',
    facts: [['config', 'pi0_libero_lora']],
    evaluation: {
      description: '32 held-out chunks of the test split, 10 Euler steps',
      metrics: [
        { name: 'action MSE', base: 0.0841, fineTuned: 0.0213 },
        { name: 'action MAE', base: 0.231, fineTuned: 0.109 },
      ],
    },
  });

  it('has the smoothed loss over the raw one, the evaluation (base vs fine-tuned), throughput; no scripts', () => {
    expect(html).toContain('<h2>Held-out evaluation</h2>');
    expect(html).toMatch(/action MSE<\/th><td>0\.0841[\s\S]*0\.0213[\s\S]*-74\.7 %/);
    expect(html).toMatch(/training loss[\s\S]*<title>raw<\/title>[\s\S]*<title>smoothed \(0\.6\)<\/title>/);
    expect(html).toMatch(/aria-label="throughput"/);
    expect(html).toMatch(/median throughput<\/th><td>4\d\.?\d* samples\/s/);
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
  });

  it.skipIf(!haveChromium)(
    'renders in headless Chromium (screenshot in packages/trainer/.screenshots/report.png)',
    async () => {
      await mkdir(SHOTS, { recursive: true });
      const file = join(SHOTS, 'report.html');
      await writeFile(file, html);
      const size = await withChromium(async (ctx) => {
        const page = await ctx.newPage();
        await page.goto(`file://${file}`);
        await page.screenshot({ path: join(SHOTS, 'report.png'), fullPage: true });
        return {
          svgs: await page.locator('svg').count(),
          paths: await page.locator('svg path').count(),
          height: (await page.evaluate('document.body.scrollHeight')) as number,
        };
      });
      expect(size.svgs).toBe(4);
      expect(size.paths).toBe(6); // loss raw+smoothed, throughput raw+smoothed, lr, grad norm
      expect(size.height).toBeGreaterThan(1000);
    },
  );
  if (!haveChromium) console.warn('SKIPPED report rendering: /usr/bin/chromium is not installed (.ci/run installs it)');
});

import { describe, expect, it } from 'vitest';
import { createProgress, type ProgressLine } from './index.js';

function sink(isTTY: boolean) {
  const chunks: string[] = [];
  const stream = Object.assign(
    { write: (s: string) => chunks.push(s) > 0, isTTY, columns: 100, cursorTo() {}, clearLine() {}, moveCursor() {} },
    {},
  ) as unknown as NodeJS.WritableStream & { isTTY: boolean };
  return { stream, chunks };
}

describe('createProgress', () => {
  it('off a TTY writes the one JSON-line shape, at most one per interval, always the first and the last', () => {
    const { stream, chunks } = sink(false);
    let t = 1000;
    const p = createProgress({ task: 'convert', total: 300, unit: 'bytes', stream, now: () => t, intervalMs: 250 });
    p.update(0, { name: 'a' });
    t += 100;
    p.update(100, { name: 'b' }); // within the interval: dropped
    t += 200;
    p.update(200, { name: 'c', done: -1 }); // fields never replace the six keys
    t += 10;
    p.update(300, { name: 'd' }); // the last always goes
    p.stop();
    const lines = chunks
      .join('')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as ProgressLine);
    expect(lines).toEqual([
      { event: 'progress', task: 'convert', done: 0, total: 300, unit: 'bytes', elapsed_s: 0, name: 'a' },
      { event: 'progress', task: 'convert', done: 200, total: 300, unit: 'bytes', elapsed_s: 0.3, name: 'c' },
      { event: 'progress', task: 'convert', done: 300, total: 300, unit: 'bytes', elapsed_s: 0.31, name: 'd' },
    ]);
  });

  it('on a TTY draws a bar (bytes shown as MB) and writes no JSON', () => {
    const { stream, chunks } = sink(true);
    const p = createProgress({ task: 'convert', total: 4 * 1024 * 1024, unit: 'bytes', stream });
    p.update(2 * 1024 * 1024, { name: 'w' });
    p.update(4 * 1024 * 1024, { name: 'w2' });
    p.stop();
    p.stop();
    const text = chunks.join('');
    expect(text).toContain('convert [');
    expect(text).toContain('4.0/4.0 MB');
    expect(text).toContain('| w2');
    expect(text).not.toContain('"event"');
  });

  it("mode 'silent' writes nothing", () => {
    const { stream, chunks } = sink(false);
    const p = createProgress({ task: 'x', total: 1, stream, mode: 'silent' });
    p.update(1);
    p.stop();
    expect(chunks).toEqual([]);
  });
});

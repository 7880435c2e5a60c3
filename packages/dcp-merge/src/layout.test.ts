import { describe, expect, it } from 'vitest';
import { DcpLayoutError } from './errors.js';
import { checkTiling, rowMajorRuns, type Box } from './layout.js';

/** Assembles a tensor of `size` (values = row-major index) from per-chunk contiguous copies, via rowMajorRuns. */
function assemble(size: number[], boxes: Box[]): number[] {
  const n = size.length;
  const full = (idx: number[]): number => idx.reduce((a, v, d) => a * (size[d] as number) + v, 0);
  // each chunk's contiguous data, as a DCP rank would have saved it
  const data = boxes.map((b) => {
    const out: number[] = [];
    const total = b.sizes.reduce((a, x) => a * x, 1);
    for (let k = 0; k < total; k++) {
      const local: number[] = new Array(n).fill(0);
      let r = k;
      for (let d = n - 1; d >= 0; d--) {
        local[d] = r % (b.sizes[d] as number);
        r = Math.floor(r / (b.sizes[d] as number));
      }
      out.push(full(local.map((v, d) => v + (b.offsets[d] as number))));
    }
    return out;
  });
  const res: number[] = [];
  for (const run of rowMajorRuns(size, boxes))
    res.push(...(data[run.chunk] as number[]).slice(run.start, run.start + run.count));
  return res;
}

const iota = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

describe('rowMajorRuns', () => {
  it('dim-0 shards (FSDP): one run per chunk, in offset order', () => {
    const boxes = [
      { offsets: [3, 0], sizes: [2, 4] },
      { offsets: [0, 0], sizes: [3, 4] },
    ];
    checkTiling([5, 4], boxes, 'f', 't');
    expect([...rowMajorRuns([5, 4], boxes)]).toEqual([
      { chunk: 1, start: 0, count: 12 },
      { chunk: 0, start: 0, count: 8 },
    ]);
    expect(assemble([5, 4], boxes)).toEqual(iota(20));
  });
  it('dim-1 shards (tensor parallel) and 2-D grids interleave per row', () => {
    const cols = [
      { offsets: [0, 0], sizes: [3, 2] },
      { offsets: [0, 2], sizes: [3, 3] },
    ];
    checkTiling([3, 5], cols, 'f', 't');
    expect(assemble([3, 5], cols)).toEqual(iota(15));
    const grid = [
      { offsets: [0, 0, 0], sizes: [2, 2, 3] },
      { offsets: [0, 2, 0], sizes: [2, 1, 3] },
      { offsets: [2, 0, 0], sizes: [1, 3, 3] },
    ];
    checkTiling([3, 3, 3], grid, 'f', 't');
    expect(assemble([3, 3, 3], grid)).toEqual(iota(27));
  });
  it('scalars and unsharded tensors: one run', () => {
    expect([...rowMajorRuns([], [{ offsets: [], sizes: [] }])]).toEqual([{ chunk: 0, start: 0, count: 1 }]);
    expect(assemble([2, 2], [{ offsets: [0, 0], sizes: [2, 2] }])).toEqual(iota(4));
  });
});

describe('checkTiling', () => {
  it('refuses overlaps, gaps, out-of-bounds chunks and rank mismatches', () => {
    const t = (boxes: Box[]) => () => checkTiling([4, 4], boxes, 'ck/.metadata', 'w');
    expect(
      t([
        { offsets: [0, 0], sizes: [3, 4] },
        { offsets: [2, 0], sizes: [2, 4] },
      ]),
    ).toThrow(/overlap/);
    expect(
      t([
        { offsets: [0, 0], sizes: [2, 4] },
        { offsets: [3, 0], sizes: [1, 4] },
      ]),
    ).toThrow(/gap/);
    expect(t([{ offsets: [0, 0], sizes: [5, 4] }])).toThrow(/extends past dim 0/);
    expect(t([{ offsets: [0], sizes: [4] }])).toThrow(DcpLayoutError);
    expect(
      t([
        { offsets: [0, 0], sizes: [4, 4] },
        { offsets: [0, 0], sizes: [4, 4] },
      ]),
    ).toThrow(/overlap/);
  });
});

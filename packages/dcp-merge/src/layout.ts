// How a tensor's chunks tile it, and the order in which to read them so the full tensor comes out row-major.
// dcp_to_torch_save allocates torch.empty(size) and copies each chunk into its box, so a gap would be left
// uninitialised and an overlap silently overwritten; here both are errors.
import { DcpLayoutError } from './errors.js';

export interface Box {
  offsets: number[];
  sizes: number[];
}

const prod = (xs: readonly number[]): number => xs.reduce((a, b) => a * b, 1);

/** Throws DcpLayoutError unless `chunks` tile a tensor of `size` exactly (no gap, no overlap, all inside). */
export function checkTiling(size: readonly number[], chunks: readonly Box[], file: string, fqn: string): void {
  const err = (why: string): never => {
    throw new DcpLayoutError(
      `${file}: tensor ${fqn} ${JSON.stringify(size)}: ${why}; the checkpoint is inconsistent (ranks saved from different steps or a damaged .metadata) — do not use it`,
      file,
      fqn,
    );
  };
  const n = size.length;
  let volume = 0;
  for (const [i, c] of chunks.entries()) {
    if (c.offsets.length !== n || c.sizes.length !== n)
      err(`chunk ${i} has ${c.offsets.length}-d offsets / ${c.sizes.length}-d sizes`);
    for (let d = 0; d < n; d++)
      if ((c.offsets[d] as number) + (c.sizes[d] as number) > (size[d] as number))
        err(`chunk ${i} at ${JSON.stringify(c.offsets)} of ${JSON.stringify(c.sizes)} extends past dim ${d}`);
    volume += prod(c.sizes);
  }
  // Sweep along dim 0: only chunks whose dim-0 ranges intersect can overlap.
  const order = chunks.map((c, i) => ({ c, i })).filter(({ c }) => prod(c.sizes) > 0);
  if (n > 0) order.sort((a, b) => (a.c.offsets[0] as number) - (b.c.offsets[0] as number));
  for (let a = 0; a < order.length; a++) {
    const A = (order[a] as { c: Box; i: number }).c;
    for (let b = a + 1; b < order.length; b++) {
      const B = (order[b] as { c: Box; i: number }).c;
      if (n > 0 && (B.offsets[0] as number) >= (A.offsets[0] as number) + (A.sizes[0] as number)) break;
      let overlap = true;
      for (let d = 0; d < n && overlap; d++) {
        const lo = Math.max(A.offsets[d] as number, B.offsets[d] as number);
        const hi = Math.min(
          (A.offsets[d] as number) + (A.sizes[d] as number),
          (B.offsets[d] as number) + (B.sizes[d] as number),
        );
        if (hi <= lo) overlap = false;
      }
      if (overlap)
        err(
          `chunks at ${JSON.stringify(A.offsets)} (${JSON.stringify(A.sizes)}) and ${JSON.stringify(B.offsets)} (${JSON.stringify(B.sizes)}) overlap`,
        );
    }
  }
  const numel = prod(size);
  if (volume !== numel)
    err(`its chunks cover ${volume} of ${numel} elements (a gap: some elements are in no chunk's file)`);
}

/** A run of `count` consecutive elements of chunk `chunk`, starting at its element `start` (row-major). */
export interface Run {
  chunk: number;
  start: number;
  count: number;
}

/**
 * The runs that produce the full tensor in row-major order. Sharding on dim 0 (FSDP) gives one run per chunk;
 * sharding on a later dim k gives one run per chunk per index of the dims before k. Assumes checkTiling passed.
 */
export function* rowMajorRuns(size: readonly number[], chunks: readonly Box[]): Generator<Run> {
  const n = size.length;
  const live = chunks.map((c, i) => ({ c, i })).filter(({ c }) => prod(c.sizes) > 0);
  // k: the last dim some chunk covers only partly; dims after it are whole in every chunk.
  let k = -1;
  for (let d = 0; d < n; d++) if (live.some(({ c }) => c.sizes[d] !== size[d])) k = d;
  if (k < 0) {
    // One chunk is the whole tensor (checkTiling rules out duplicates).
    for (const { i, c } of live) yield { chunk: i, start: 0, count: prod(c.sizes) };
    return;
  }
  const inner = prod(size.slice(k + 1));
  const byK = [...live].sort((a, b) => (a.c.offsets[k] as number) - (b.c.offsets[k] as number));
  // Row-major strides of each chunk's own (contiguous) layout.
  const strides = chunks.map((c) => {
    const s = new Array<number>(n).fill(1);
    for (let d = n - 2; d >= 0; d--) s[d] = (s[d + 1] as number) * (c.sizes[d + 1] as number);
    return s;
  });
  const idx = new Array<number>(k).fill(0); // multi-index over dims 0..k-1
  const total = prod(size.slice(0, k));
  for (let it = 0; it < total; it++) {
    for (const { c, i } of byK) {
      let inside = true;
      let start = 0;
      for (let d = 0; d < k; d++) {
        const p = idx[d] as number;
        const o = c.offsets[d] as number;
        if (p < o || p >= o + (c.sizes[d] as number)) {
          inside = false;
          break;
        }
        start += (p - o) * (strides[i] as number[])[d]!;
      }
      if (inside) yield { chunk: i, start, count: (c.sizes[k] as number) * inner };
    }
    for (let d = k - 1; d >= 0; d--) {
      idx[d] = (idx[d] as number) + 1;
      if ((idx[d] as number) < (size[d] as number)) break;
      idx[d] = 0;
    }
  }
}

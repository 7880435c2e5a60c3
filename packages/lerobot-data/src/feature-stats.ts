// LeRobot-style per-feature statistics (min, max, mean, std, count) for stats.json / episodes_stats.jsonl.
// Vectors: per dimension. Images: per channel over all pixels, scaled to [0, 1], shaped [3, 1, 1].

export interface StatsAccumulator {
  add(values: ArrayLike<number>): void;
  result(): { min: unknown; max: unknown; mean: unknown; std: unknown; count: number[] };
}

/** Accumulates per-dimension stats of `dim`-vectors (float64 sums). */
export function vectorStats(dim: number): StatsAccumulator {
  const min = new Float64Array(dim).fill(Infinity);
  const max = new Float64Array(dim).fill(-Infinity);
  const sum = new Float64Array(dim);
  const sq = new Float64Array(dim);
  let n = 0;
  return {
    add(v) {
      for (let d = 0; d < dim; d++) {
        const x = v[d]!;
        if (x < min[d]!) min[d] = x;
        if (x > max[d]!) max[d] = x;
        sum[d] = sum[d]! + x;
        sq[d] = sq[d]! + x * x;
      }
      n++;
    },
    result() {
      const mean = Array.from(sum, (s) => s / n);
      const std = Array.from(sq, (s, d) => Math.sqrt(Math.max(0, s / n - mean[d]! ** 2)));
      return { min: Array.from(min), max: Array.from(max), mean, std, count: [n] };
    },
  };
}

/** Accumulates per-channel stats of HWC RGB uint8 images, LeRobot's [3,1,1] layout in [0, 1]. */
export function imageStats(): StatsAccumulator {
  const min = [255, 255, 255];
  const max = [0, 0, 0];
  const sum = [0, 0, 0];
  const sq = [0, 0, 0];
  let pixels = 0;
  let images = 0;
  return {
    add(v) {
      for (let c = 0; c < 3; c++) {
        let s = 0;
        let q = 0;
        let lo = min[c]!;
        let hi = max[c]!;
        for (let i = c; i < v.length; i += 3) {
          const x = v[i]!;
          s += x;
          q += x * x;
          if (x < lo) lo = x;
          if (x > hi) hi = x;
        }
        sum[c] = sum[c]! + s;
        sq[c] = sq[c]! + q;
        min[c] = lo;
        max[c] = hi;
      }
      pixels += v.length / 3;
      images++;
    },
    result() {
      const mean = sum.map((s) => s / pixels / 255);
      const std = sq.map((q, c) => Math.sqrt(Math.max(0, q / pixels / 65025 - mean[c]! ** 2)));
      const wrap = (a: number[]): number[][][] => a.map((x) => [[x]]);
      return {
        min: wrap(min.map((x) => x / 255)),
        max: wrap(max.map((x) => x / 255)),
        mean: wrap(mean),
        std: wrap(std),
        count: [images],
      };
    },
  };
}

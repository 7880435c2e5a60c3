// openpi's create_sinusoidal_pos_embedding, computed as openpi computes it on the CPU: float64
// (linspace, periods, phases, sin/cos), then cast to float32.
import { InputShapeError } from '../errors.js';

/** torch.linspace(start, end, steps) in float64: the first half from the start, the second from the end. */
export function linspace64(start: number, end: number, steps: number): Float64Array {
  const out = new Float64Array(steps);
  if (steps === 1) {
    out[0] = start;
    return out;
  }
  const step = (end - start) / (steps - 1);
  const half = Math.floor(steps / 2);
  for (let i = 0; i < steps; i++) out[i] = i < half ? start + step * i : end - step * (steps - i - 1);
  return out;
}

/**
 * Sine-cosine embedding of scalar times: for each row, [sin(2 pi t / p_k) for k] ++ [cos(...)],
 * periods p_k = minPeriod * (maxPeriod / minPeriod)^(k / (dim/2 - 1)). Returns [B * dim] float32,
 * row-major. pi0 uses minPeriod 4e-3, maxPeriod 4.0 and dim = the action expert's width.
 */
export function sincosTimeEmbedding(
  times: ArrayLike<number>,
  dim: number,
  minPeriod = 4e-3,
  maxPeriod = 4.0,
): Float32Array {
  if (dim % 2 !== 0) throw new InputShapeError(`dimension (${dim}) must be divisible by 2`);
  const half = dim / 2;
  const fraction = linspace64(0, 1, half);
  const scaling = new Float64Array(half);
  for (let k = 0; k < half; k++) {
    const period = minPeriod * Math.pow(maxPeriod / minPeriod, fraction[k]!);
    scaling[k] = (1 / period) * 2 * Math.PI;
  }
  const out = new Float32Array(times.length * dim);
  for (let b = 0; b < times.length; b++) {
    const t = times[b]!;
    for (let k = 0; k < half; k++) {
      const x = scaling[k]! * t;
      out[b * dim + k] = Math.sin(x);
      out[b * dim + half + k] = Math.cos(x);
    }
  }
  return out;
}

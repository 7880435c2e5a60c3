// Learning-rate schedules as openpi defines them (openpi/training/optimizer.py), i.e. optax's
// warmup_cosine_decay_schedule with init_value = peak_lr / (warmup_steps + 1):
//   step < warmup:  init + (peak - init) * step / warmup                      (linear warmup)
//   step >= warmup: t = min(step - warmup, decay_steps - warmup)
//                   end + (peak - end) * 0.5 * (1 + cos(pi * t / (decay_steps - warmup)))
// `step` is the optimiser step index starting at 0 (the lr used for the first update is init).
// Computed in float64 (optax evaluates in float32: differences are ~1e-7 relative).
import { OptimizerConfigError } from './errors.js';

export interface WarmupCosineOptions {
  warmupSteps: number;
  peakLr: number;
  decaySteps: number;
  decayLr: number;
}

/** openpi's CosineDecaySchedule defaults. */
export const OPENPI_COSINE_DEFAULTS: WarmupCosineOptions = {
  warmupSteps: 1_000,
  peakLr: 2.5e-5,
  decaySteps: 30_000,
  decayLr: 2.5e-6,
};

function checkStep(step: number): void {
  if (!(Number.isInteger(step) && step >= 0))
    throw new OptimizerConfigError(`schedule step must be an integer >= 0, got ${step}`);
}

/** openpi's CosineDecaySchedule at `step`. */
export function warmupCosine(step: number, o: WarmupCosineOptions): number {
  checkStep(step);
  const { warmupSteps: w, peakLr: peak, decaySteps, decayLr: end } = o;
  if (!(Number.isInteger(w) && w >= 0))
    throw new OptimizerConfigError(`warmup_steps must be an integer >= 0, got ${w}`);
  const span = decaySteps - w;
  if (!(span > 0))
    throw new OptimizerConfigError(
      `decay_steps (${decaySteps}) must exceed warmup_steps (${w}); optax's cosine_decay_schedule requires decay_steps - warmup_steps > 0`,
    );
  if (step < w) {
    const init = peak / (w + 1);
    return init + ((peak - init) * step) / w;
  }
  const t = Math.min(step - w, span);
  const alpha = peak === 0 ? 0 : end / peak;
  const cosine = 0.5 * (1 + Math.cos((Math.PI * t) / span));
  return peak * ((1 - alpha) * cosine + alpha);
}

/** openpi's CosineDecaySchedule as an object (defaults: warmup 1000, peak 2.5e-5, decay 30000, end 2.5e-6). */
export class CosineDecaySchedule {
  readonly options: WarmupCosineOptions;
  constructor(opts: Partial<WarmupCosineOptions> = {}) {
    this.options = { ...OPENPI_COSINE_DEFAULTS, ...opts };
    warmupCosine(0, this.options); // validate now
  }
  /** The learning rate for optimiser step `step` (0-based). */
  at(step: number): number {
    return warmupCosine(step, this.options);
  }
}

export interface RsqrtDecayOptions {
  warmupSteps: number;
  peakLr: number;
  timescale: number;
}

/** openpi's RsqrtDecaySchedule: linear warmup from peak/(warmup+1), then peak / sqrt((timescale + t) / timescale), t = step - warmup. */
export function warmupRsqrt(step: number, o: RsqrtDecayOptions): number {
  checkStep(step);
  const { warmupSteps: w, peakLr: peak, timescale } = o;
  if (step < w) {
    const init = peak / (w + 1);
    return init + ((peak - init) * step) / w;
  }
  return peak / Math.sqrt((timescale + (step - w)) / timescale);
}

// Typed errors of the optimiser pieces; every message says what to do.
import { TrainerError } from '../errors.js';

/** A gradient or state entry that does not fit the optimiser's parameters (unknown name, wrong shape). */
export class OptimizerMismatchError extends TrainerError {}

/** An optimiser state that cannot be loaded (missing entries, bad step counter). */
export class OptimizerStateError extends TrainerError {}

/** A hyper-parameter out of range (lr < 0, betas outside [0, 1), eps <= 0 ...). */
export class OptimizerConfigError extends TrainerError {}

/** clipGradNorm with `errorIfNonfinite` found a NaN/Inf total norm. */
export class NonFiniteGradNormError extends TrainerError {}

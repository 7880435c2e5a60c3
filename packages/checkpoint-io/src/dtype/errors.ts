import { CheckpointIoError } from '../errors.js';

/** A conversion the dtype module cannot do, or a tensor whose byte length does not fit its dtype/shape. */
export class DtypeConversionError extends CheckpointIoError {}

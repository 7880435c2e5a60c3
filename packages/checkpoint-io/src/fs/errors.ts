import { CheckpointIoError } from '../errors.js';

/** An atomic write or directory swap that could not complete; the destination was left as it was. */
export class AtomicWriteError extends CheckpointIoError {}

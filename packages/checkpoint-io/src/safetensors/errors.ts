import { CheckpointIoError } from '../errors.js';

/** Base of every safetensors error. `path` names the file (or index) concerned. */
export class SafetensorsError extends CheckpointIoError {
  constructor(
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${path}: ${message}`, options);
  }
}

/** The file ends before what its header promises (or is shorter than the 8-byte length prefix). */
export class SafetensorsTruncatedError extends SafetensorsError {}

/** The u64 header length exceeds the 100 MB limit the Rust library enforces. */
export class SafetensorsHeaderTooLargeError extends SafetensorsError {}

/** The header is not UTF-8, not JSON, not an object, or a field has the wrong type. */
export class SafetensorsHeaderError extends SafetensorsError {}

/** A tensor's dtype is not one of the safetensors dtypes. */
export class SafetensorsDtypeError extends SafetensorsError {}

/** shape × itemsize disagrees with the tensor's byte range (or overflows). */
export class SafetensorsShapeError extends SafetensorsError {}

/** Offsets out of bounds, overlapping, leaving gaps, or not covering the data section exactly. */
export class SafetensorsOffsetError extends SafetensorsError {}

/** The named tensor is not in the file. */
export class TensorNotFoundError extends SafetensorsError {
  constructor(
    path: string,
    readonly tensorName: string,
  ) {
    super(path, `no tensor named ${JSON.stringify(tensorName)}; list the names with \`vla-ckpt inspect ${path}\``);
  }
}

/** An entry given to a writer is invalid (duplicate name, bad shape, data length mismatch). */
export class SafetensorsWriteError extends SafetensorsError {}

/** model.safetensors.index.json is malformed or disagrees with its shards. */
export class ShardIndexError extends SafetensorsError {}

/** The reader was used after close(). */
export class ReaderClosedError extends SafetensorsError {}

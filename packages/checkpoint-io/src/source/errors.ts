import { CheckpointIoError } from '../errors.js';

/** Base of every byte-source error. `source` names the file, Blob or URL concerned. */
export class ByteSourceError extends CheckpointIoError {
  constructor(
    readonly source: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${source}: ${message}`, options);
  }
}

/** A read asked for bytes outside the source (a parser bug or a lying header upstream). */
export class SourceRangeError extends ByteSourceError {}

/** Fewer (or more) bytes arrived than were asked for: the file shrank, or the server cut the answer short. */
export class SourceShortReadError extends ByteSourceError {}

/** The source's size changed between two reads (the file was replaced while open). */
export class SourceChangedError extends ByteSourceError {}

/** The HTTP server answered a Range request with the whole file (status 200) instead of 206 Partial Content. */
export class RangeNotSupportedError extends ByteSourceError {}

/** The HTTP server's Content-Range header is missing, malformed, or names other bytes than were asked for. */
export class ContentRangeError extends ByteSourceError {}

/** The HTTP server answered with an error status (404, 403, 500 …) or the request failed. */
export class SourceHttpError extends ByteSourceError {
  constructor(
    source: string,
    readonly status: number | null,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(source, message, options);
  }
}

/** The source was read after close(). */
export class SourceClosedError extends ByteSourceError {}

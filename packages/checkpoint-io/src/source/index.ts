// Public API of checkpoint-io's byte sources (file.ts, the Node-only one, is exported by the package index).
export {
  ByteSourceError,
  SourceRangeError,
  SourceShortReadError,
  SourceChangedError,
  RangeNotSupportedError,
  ContentRangeError,
  SourceHttpError,
  SourceClosedError,
} from './errors.js';
export { checkReadRange, bytesSource } from './byte-source.js';
export type { ByteSource } from './byte-source.js';
export { blobSource } from './blob.js';
export { openUrlSource } from './url.js';
export type { UrlSource, UrlSourceOptions } from './url.js';

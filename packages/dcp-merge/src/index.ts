// Public API of @vla-lora/dcp-merge.
export {
  DcpMergeError,
  DcpNotFoundError,
  DcpMetadataError,
  DcpUnsafePickleError,
  DcpUnsupportedTransformError,
  DcpMissingFileError,
  DcpChunkError,
  DcpLayoutError,
  DcpOutputExistsError,
  DcpUsageError,
  DcpNoLoraError,
} from './errors.js';
export { readMetadata, parseMetadata, DCP_ALLOWED_GLOBALS } from './metadata.js';
export type {
  DcpMetadata,
  DcpEntry,
  DcpTensorEntry,
  DcpBytesEntry,
  DcpChunk,
  DcpStorageInfo,
} from './metadata.js';
export { openDcpCheckpoint } from './checkpoint.js';
export type { DcpCheckpoint, DcpTensor } from './checkpoint.js';
export { checkTiling, rowMajorRuns } from './layout.js';
export type { Box, Run } from './layout.js';
export { consolidate, selectTensors } from './consolidate.js';
export type { ConsolidateOptions, ConsolidateResult, SelectOptions } from './consolidate.js';
export { extractAdapter } from './adapter.js';
export type { ExtractAdapterOptions, ExtractAdapterResult } from './adapter.js';

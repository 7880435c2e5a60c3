// Public API of checkpoint-io's safetensors module.
export * from './errors.js';
export { MAX_HEADER_SIZE, parseHeader, parseHeaderLength, serializeHeader, safetensorsOrder } from './header.js';
export type { TensorInfo, TensorSlot, ParsedHeader, HeaderEntry } from './header.js';
export { SafetensorsFile } from './reader.js';
export type { SafetensorsReader } from './reader.js';
export { ShardedSafetensors, readShardIndex } from './sharded.js';
export { ShardedSet, openShards, parseShardIndex, MAX_INDEX_BYTES } from './sharded-set.js';
export type { ShardIndex, NamedShard } from './sharded-set.js';
export { SafetensorsSourceFile, openSafetensorsSource } from './source-reader.js';
export {
  openSafetensorsBlob,
  openSafetensorsFiles,
  openSafetensorsUrl,
  openShardedSource,
  readSourceText,
} from './open-source.js';
export type { NamedBlob } from './open-source.js';
export { openSafetensors, resolveSafetensorsPath } from './open.js';
export { writeSafetensors } from './writer.js';
export type { SafetensorsEntry, ChunkedData, WriteSafetensorsOptions } from './writer.js';
export { writeSafetensorsSharded, planShards } from './sharded-writer.js';
export type { WriteShardedOptions, ShardedWriteResult } from './sharded-writer.js';

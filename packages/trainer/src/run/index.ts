export { prepareRunDir } from './run-dir.js';
export { acquireRunLock } from './lock.js';
export type { RunLock } from './lock.js';
export type { PrepareRunDirOptions, PreparedRunDir } from './run-dir.js';

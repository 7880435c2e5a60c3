export { prepareRunDir, runRequestProblem } from './run-dir.js';
export { RUN_ENTRY_NAMES, RUN_LAYOUT, runPath } from './layout.js';
export type { RunEntry } from './layout.js';
export { acquireRunLock } from './lock.js';
export type { RunLock } from './lock.js';
export type { PrepareRunDirOptions, PreparedRunDir, RunRequest } from './run-dir.js';

// Public API of checkpoint-io's pt module: read (and write) PyTorch torch.save files safely.
export * from './errors.js';
export { PickleDict, PickleTuple, PickleSet, PickleGlobal, PickleObject } from './pickle/values.js';
export type { PickleValue, PickleValueExtensions } from './pickle/values.js';
export { TorchSize } from './torch/values.js';
export { TorchTensor } from './torch/tensor.js';
export { TorchStorage } from './torch/storage.js';
export type { TorchDtype } from './torch/dtypes.js';
export {
  TORCH_DTYPE_ITEMSIZE,
  torchToSafetensorsDtype,
  safetensorsToTorchDtype,
  isTorchDtype,
} from './torch/dtypes.js';
export { unpickle } from './pickle/unpickler.js';
export type { UnpickleOptions, UnpickleHooks, UnpickleResult, CallKind } from './pickle/unpickler.js';
export { isKnownGlobal } from './torch/globals.js';
export { isAllowedGlobal } from './torch/allowlist.js';
export type { PickleGlobalUse, GlobalsPolicy } from './torch/allowlist.js';
export { PtFile, flattenTensors } from './pt-file.js';
export type { PtFileInfo } from './pt-file.js';
export { readPt } from './read.js';
export { readPtSource, sourceHandle } from './read-source.js';
export { SourceZipArchive } from './zip/source-archive.js';
export type { ZipReader, ZipEntryLike, SourceZipEntry } from './zip/source-archive.js';
export type { ReadPtOptions } from './read-zip.js';
export { writePt } from './write.js';
export type { WritePtOptions } from './write.js';
export { PtTensorData, PyFloat, ptTuple, ptDict } from './torch/pickler.js';
export type { PtWritable } from './torch/pickler.js';

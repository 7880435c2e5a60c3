// Public API of checkpoint-io's pt module: read (and write) PyTorch torch.save files safely.
export {
  PtError,
  PtFormatError,
  PtTruncatedError,
  PtZipError,
  PickleError,
  PickleUnsupportedOpcodeError,
  PickleLimitError,
  PtTorchObjectError,
  PtUnsupportedDtypeError,
  PtClosedError,
  PtWriteError,
} from './errors.js';
export { PickleDict, PickleTuple, PickleSet, PickleGlobal, PickleObject, TorchSize } from './values.js';
export type { PickleValue } from './values.js';
export { TorchTensor, TorchStorage } from './tensor.js';
export type { TorchDtype } from './dtypes.js';
export { TORCH_DTYPE_ITEMSIZE, torchToSafetensorsDtype, safetensorsToTorchDtype, isTorchDtype } from './dtypes.js';
export { unpickle, PickleTruncatedError } from './unpickler.js';
export type { UnpickleOptions, UnpickleHooks, UnpickleResult, CallKind } from './unpickler.js';
export { isKnownGlobal } from './torch-globals.js';
export { PtFile, flattenTensors } from './pt-file.js';
export type { PtFileInfo } from './pt-file.js';
export { readPt } from './read.js';
export type { ReadPtOptions } from './read-zip.js';
export { writePt } from './write.js';
export type { WritePtOptions } from './write.js';
export { PtTensorData, PyFloat, ptTuple, ptDict } from './pickler.js';
export type { PtWritable } from './pickler.js';

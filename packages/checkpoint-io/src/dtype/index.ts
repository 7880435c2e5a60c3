// Public API of checkpoint-io's dtype module.
export { DTYPES, DTYPE_ITEMSIZE, isDtype, itemsize, numel, dtypeRank } from './dtypes.js';
export type { Dtype, RawTensor } from './dtypes.js';
export { DtypeConversionError } from './errors.js';
export { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from './half.js';
export { f8e4m3ToF32, f8e5m2ToF32 } from './fp8.js';
export { toFloat32, fromFloat32, castFloat, checkRawTensor } from './convert.js';
export type { FloatDtype } from './convert.js';

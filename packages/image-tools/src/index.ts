export {
  DegenerateResizeError,
  EmptyFrameError,
  FrameShapeError,
  FrameValueRangeError,
  ImageToolsError,
  NonFiniteFrameError,
  UnsupportedChannelsError,
} from './errors.js';
export { resizeBilinearPillow } from './resample.js';
export {
  type Frame,
  type FrameData,
  frameFromShape,
  resizedSize,
  resizeWithPad,
  toUint8Hwc,
  type Uint8Frame,
} from './resize-with-pad.js';

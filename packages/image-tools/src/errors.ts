/** Base class of every error this package throws. */
export class ImageToolsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A frame with zero height or width, or a zero target size. */
export class EmptyFrameError extends ImageToolsError {
  constructor(what: string, height: number, width: number) {
    super(
      `${what} is ${height}×${width}: a camera frame needs height and width ≥ 1. Check the camera stream / array shape.`,
    );
  }
}

/** A channel count other than 1 (grayscale) or 3 (RGB). */
export class UnsupportedChannelsError extends ImageToolsError {
  constructor(channels: number) {
    super(
      `Frames must have 3 channels (RGB, as openpi's pi0 expects) or 1 (grayscale); got ${channels}. ` +
        (channels === 4 ? 'Drop the alpha channel (RGBA → RGB) before sending.' : 'Convert the frame to RGB first.'),
    );
  }
}

/** The data length does not equal height × width × channels, or a shape is not 2-D/3-D. */
export class FrameShapeError extends ImageToolsError {}

/** NaN or ±Infinity in a float frame. */
export class NonFiniteFrameError extends ImageToolsError {
  constructor(index: number, value: number) {
    super(`Float frame has ${value} at flat index ${index}; float frames must hold finite values in [0, 1].`);
  }
}

/** A float value that (255·x) cannot turn into a uint8: openpi's astype(uint8) would wrap it. */
export class FrameValueRangeError extends ImageToolsError {
  constructor(index: number, value: number) {
    super(
      `Float frame has ${value} at flat index ${index}; float frames are scaled as (255·x) to uint8 (openpi), so values must be in [0, 1]. ` +
        'A frame already in 0..255 should be sent as uint8.',
    );
  }
}

/** The aspect-preserving size rounds to zero pixels (Pillow: "height and width must be > 0"). */
export class DegenerateResizeError extends ImageToolsError {
  constructor(height: number, width: number, targetHeight: number, targetWidth: number, rh: number, rw: number) {
    super(
      `Resizing ${height}×${width} into ${targetHeight}×${targetWidth} keeping the aspect ratio gives ${rh}×${rw} pixels; ` +
        'Pillow refuses a zero size and so do we. The frame is far too thin: crop it first.',
    );
  }
}

// msgpack decoders (msgpackr included) turn a float 8.0 into the number 8, so after decoding an
// ndarray shape [8.0] looks like [8]. numpy's msgpack_numpy always sends the shape as a tuple of
// ints; a float there is a client bug (e.g. a shape computed with `/`), so it is refused. This walks
// the raw frame, checking every length against the frame, and refuses any map with an
// `__ndarray__` key whose `shape` holds a msgpack float (or anything but integers).
import { BadRequestError } from '../errors.js';

const MAX_DEPTH = 80;

/** Throws BadRequestError if an ndarray map in `frame` has a `shape` element that is not a msgpack integer. */
export function checkIntegerShapes(frame: Uint8Array): void {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const need = (pos: number, n: number): void => {
    if (n < 0 || pos + n > frame.byteLength) throw new BadRequestError('malformed msgpack request: truncated frame');
  };
  const u8 = (pos: number): number => {
    need(pos, 1);
    return frame[pos]!;
  };
  const u16 = (pos: number): number => {
    need(pos, 2);
    return view.getUint16(pos);
  };
  const u32 = (pos: number): number => {
    need(pos, 4);
    return view.getUint32(pos);
  };

  /** Header of the value at `pos`: kind, element count or payload length, and where its body starts. */
  type Head = { kind: 'scalar' | 'bytes' | 'array' | 'map'; n: number; body: number; int: boolean; float: boolean };
  const head = (pos: number): Head => {
    const t = u8(pos);
    const scalar = (n: number, int = false, float = false): Head => ({ kind: 'scalar', n, body: pos + 1, int, float });
    if (t <= 0x7f || t >= 0xe0) return scalar(0, true);
    if (t <= 0x8f) return { kind: 'map', n: t & 0x0f, body: pos + 1, int: false, float: false };
    if (t <= 0x9f) return { kind: 'array', n: t & 0x0f, body: pos + 1, int: false, float: false };
    if (t <= 0xbf) return { kind: 'bytes', n: t & 0x1f, body: pos + 1, int: false, float: false };
    const bytes = (lenBytes: number, extra = 0): Head => {
      const n = lenBytes === 1 ? u8(pos + 1) : lenBytes === 2 ? u16(pos + 1) : u32(pos + 1);
      return { kind: 'bytes', n: n + extra, body: pos + 1 + lenBytes, int: false, float: false };
    };
    switch (t) {
      case 0xc0:
      case 0xc2:
      case 0xc3:
        return scalar(0);
      case 0xc4:
      case 0xd9:
        return bytes(1);
      case 0xc5:
      case 0xda:
        return bytes(2);
      case 0xc6:
      case 0xdb:
        return bytes(4);
      case 0xc7:
        return bytes(1, 1);
      case 0xc8:
        return bytes(2, 1);
      case 0xc9:
        return bytes(4, 1);
      case 0xca:
        return scalar(4, false, true);
      case 0xcb:
        return scalar(8, false, true);
      case 0xcc:
      case 0xd0:
        return scalar(1, true);
      case 0xcd:
      case 0xd1:
        return scalar(2, true);
      case 0xce:
      case 0xd2:
        return scalar(4, true);
      case 0xcf:
      case 0xd3:
        return scalar(8, true);
      case 0xd4:
      case 0xd5:
      case 0xd6:
      case 0xd7:
      case 0xd8:
        return scalar(1 + (1 << (t - 0xd4)));
      case 0xdc:
        return { kind: 'array', n: u16(pos + 1), body: pos + 3, int: false, float: false };
      case 0xdd:
        return { kind: 'array', n: u32(pos + 1), body: pos + 5, int: false, float: false };
      case 0xde:
        return { kind: 'map', n: u16(pos + 1), body: pos + 3, int: false, float: false };
      case 0xdf:
        return { kind: 'map', n: u32(pos + 1), body: pos + 5, int: false, float: false };
      default:
        throw new BadRequestError(`malformed msgpack request: reserved type byte 0x${t.toString(16)}`);
    }
  };

  /** Returns the position just after the value at `pos`. */
  const skip = (pos: number, depth: number): number => {
    if (depth > MAX_DEPTH) throw new BadRequestError(`request nests deeper than ${MAX_DEPTH} levels`);
    const h = head(pos);
    if (h.kind === 'scalar' || h.kind === 'bytes') {
      need(h.body, h.n);
      return h.body + h.n;
    }
    let p = h.body;
    if (h.kind === 'array') {
      for (let i = 0; i < h.n; i++) p = skip(p, depth + 1);
      return p;
    }
    let isNdArray = false;
    let badShape: string | null = null;
    for (let i = 0; i < h.n; i++) {
      const k = head(p);
      let key: string | null = null;
      if (k.kind === 'bytes' && k.n <= 16) {
        need(k.body, k.n);
        key = Buffer.from(frame.buffer, frame.byteOffset + k.body, k.n).toString('latin1');
      }
      p = skip(p, depth + 1);
      if (key === '__ndarray__') isNdArray = true;
      if (key === 'shape') {
        const v = head(p);
        if (v.kind === 'array') {
          let q = v.body;
          for (let j = 0; j < v.n && badShape === null; j++) {
            const e = head(q);
            if (!e.int) {
              const what = e.float
                ? `the float ${e.n === 4 ? view.getFloat32(e.body) : view.getFloat64(e.body)}`
                : `a ${e.kind}`;
              badShape = `element ${j} is ${what}`;
            }
            q = skip(q, depth + 2);
          }
        }
      }
      p = skip(p, depth + 1);
    }
    if (isNdArray && badShape !== null) {
      throw new BadRequestError(
        `ndarray field "shape" must be a list of msgpack integers, as numpy's msgpack_numpy sends it; ${badShape} (build the shape from ints, not floats)`,
      );
    }
    return p;
  };

  const end = skip(0, 0);
  if (end !== frame.byteLength)
    throw new BadRequestError('malformed msgpack request: trailing bytes after the message');
}

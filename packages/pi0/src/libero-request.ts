// openpi's LIBERO request (what examples/libero/main.py sends) -> checked typed arrays:
//   "observation/image"       H×W×3 or 3×H×W, uint8 or float in [0, 1] (agentview, already rotated
//                             by the client), any size: resized to the model's size with
//                             image-tools' resizeWithPad (openpi-client's resize_with_pad, Pillow-exact)
//   "observation/wrist_image" the same
//   "observation/state"       float [stateDim] (LIBERO: eef pos 3 + axis-angle 3 + gripper 2 = 8)
//   "prompt"                  str
//   "noise_seed"              optional int in [0, 2^32): this request's sampling noise (see README)
// Anything else in the map is ignored, as openpi's repack transform ignores it. Every problem is a
// BadRequestError naming the key; the connection stays open.
import { frameFromShape, ImageToolsError, resizeWithPad } from '@vla-lora/image-tools';
import { BadRequestError, NdArray, NpGeneric, ndArrayToFloat64, type WireMap } from '@vla-lora/policy-server';

export const LIBERO_REQUEST_KEYS = {
  image: 'observation/image',
  wristImage: 'observation/wrist_image',
  state: 'observation/state',
  prompt: 'prompt',
  noiseSeed: 'noise_seed',
} as const;

export interface LiberoRequest {
  image: Uint8Array;
  wristImage: Uint8Array;
  /** Raw robot state, float32 [stateDim]. */
  state: Float32Array;
  prompt: string;
  noiseSeed: number | null;
}

export interface RequestShape {
  imageSize: number;
  stateDim: number;
}

function image(obs: WireMap, key: string, size: number): Uint8Array {
  const v = obs[key];
  const want = 'an RGB image array: uint8 (numpy |u1) or float in [0, 1] (<f4/<f8), H×W×3 or 3×H×W, any size';
  if (v === undefined) throw new BadRequestError(`missing "${key}": ${want}`);
  if (!(v instanceof NdArray)) throw new BadRequestError(`"${key}" must be ${want}, got ${describe(v)}`);
  const kind = /^[<>|=]([uf])([1248])$/.exec(v.dtype);
  const dt = kind ? `${kind[1]}${kind[2]}` : '';
  if (dt !== 'u1' && dt !== 'f4' && dt !== 'f8')
    throw new BadRequestError(`"${key}" must be ${want}, got dtype ${v.dtype} (convert with image.astype(np.uint8))`);
  if (v.shape.length !== 3) throw new BadRequestError(`"${key}" must be ${want}, got shape [${v.shape.join(', ')}]`);
  let data: Uint8Array | Float32Array | Float64Array;
  if (dt === 'u1') data = v.data;
  else if (dt === 'f4') data = Float32Array.from(ndArrayToFloat64(v));
  else data = ndArrayToFloat64(v);
  try {
    const frame = frameFromShape(data, v.shape);
    if (frame.channels !== 3)
      throw new BadRequestError(
        `"${key}" must be ${want}, got ${frame.channels} channels (shape [${v.shape.join(', ')}])${frame.channels === 4 ? '; drop the alpha channel' : ''}`,
      );
    return resizeWithPad(frame, size, size).data;
  } catch (e) {
    if (e instanceof ImageToolsError) throw new BadRequestError(`"${key}": ${e.message}`);
    throw e;
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v instanceof NdArray) return `ndarray ${v.dtype} [${v.shape.join(', ')}]`;
  if (v instanceof NpGeneric) return `numpy scalar ${v.dtype}`;
  if (v instanceof Uint8Array) return `${v.byteLength} raw bytes`;
  if (Array.isArray(v)) return `a list of ${v.length}`;
  return typeof v;
}

/** Checks and converts one decoded request. */
export function parseLiberoRequest(obs: WireMap, shape: RequestShape): LiberoRequest {
  const img = image(obs, LIBERO_REQUEST_KEYS.image, shape.imageSize);
  const wrist = image(obs, LIBERO_REQUEST_KEYS.wristImage, shape.imageSize);

  const sk = LIBERO_REQUEST_KEYS.state;
  const s = obs[sk];
  const wantState = `a float array of shape [${shape.stateDim}]`;
  if (s === undefined) throw new BadRequestError(`missing "${sk}": ${wantState}`);
  if (!(s instanceof NdArray)) throw new BadRequestError(`"${sk}" must be ${wantState}, got ${describe(s)}`);
  if (!/^[<>=|]f[248]$/.test(s.dtype))
    throw new BadRequestError(`"${sk}" must be ${wantState} (float16/32/64), got dtype ${s.dtype}`);
  if (s.shape.length !== 1 || s.shape[0] !== shape.stateDim)
    throw new BadRequestError(`"${sk}" must be ${wantState}, got shape [${s.shape.join(', ')}]`);
  const state = Float32Array.from(ndArrayToFloat64(s));
  const bad = state.findIndex((x) => !Number.isFinite(x));
  if (bad >= 0) throw new BadRequestError(`"${sk}"[${bad}] is ${state[bad]}; the state must be finite`);

  const pk = LIBERO_REQUEST_KEYS.prompt;
  let prompt = obs[pk];
  if (prompt instanceof Uint8Array)
    prompt = Buffer.from(prompt.buffer, prompt.byteOffset, prompt.byteLength).toString('utf8');
  if (prompt === undefined) throw new BadRequestError(`missing "${pk}": the task instruction as a string`);
  if (typeof prompt !== 'string') throw new BadRequestError(`"${pk}" must be a string, got ${describe(prompt)}`);

  const nk = LIBERO_REQUEST_KEYS.noiseSeed;
  let noiseSeed: number | null = null;
  const n = obs[nk];
  if (n !== undefined && n !== null) {
    const raw = n instanceof NpGeneric ? n.value : n;
    const num = typeof raw === 'bigint' ? Number(raw) : raw;
    if (typeof num !== 'number' || !Number.isInteger(num) || num < 0 || num > 0xffffffff) {
      throw new BadRequestError(
        `"${nk}" must be an integer in [0, 2^32), got ${describe(n)}${typeof num === 'number' ? ` ${num}` : ''}`,
      );
    }
    noiseSeed = num;
  }
  return { image: img, wristImage: wrist, state, prompt, noiseSeed };
}

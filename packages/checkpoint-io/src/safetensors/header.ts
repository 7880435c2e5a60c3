// The safetensors header: parsing with full validation (pure, no I/O) and serialisation laid out
// exactly as the Rust `safetensors` library (hence Python's safetensors) writes it.
import { DTYPE_ITEMSIZE, dtypeRank, isDtype, type Dtype } from '../dtype/dtypes.js';
import {
  SafetensorsDtypeError,
  SafetensorsHeaderError,
  SafetensorsHeaderTooLargeError,
  SafetensorsOffsetError,
  SafetensorsShapeError,
  SafetensorsTruncatedError,
  SafetensorsWriteError,
} from './errors.js';

/** The Rust library refuses headers above 100 MB; so do we. */
export const MAX_HEADER_SIZE = 100_000_000;

/** What a listing shows for each tensor (no data read). */
export interface TensorInfo {
  name: string;
  dtype: Dtype;
  shape: number[];
  byteLength: number;
}

/** A tensor's place in one file's data section. */
export interface TensorSlot extends TensorInfo {
  /** [begin, end) relative to the start of the data section (after 8 + headerLength bytes). */
  dataOffsets: [number, number];
}

export interface ParsedHeader {
  metadata: Record<string, string> | null;
  /** In data order (ascending offsets). */
  tensors: TensorSlot[];
}

/** Reads the u64 LE header length and checks it against the limit and the file size (no allocation). */
export function parseHeaderLength(prefix: Uint8Array, fileSize: number, path: string): number {
  if (fileSize < 8 || prefix.byteLength < 8) {
    throw new SafetensorsTruncatedError(
      path,
      `${fileSize} bytes is too short for the 8-byte header length; the file is truncated or not safetensors`,
    );
  }
  const n = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_SIZE)) {
    throw new SafetensorsHeaderTooLargeError(
      path,
      `header length ${n} exceeds the 100 MB limit; the file is corrupt or not safetensors`,
    );
  }
  const len = Number(n);
  if (8 + len > fileSize) {
    throw new SafetensorsTruncatedError(
      path,
      `header length ${len} runs past the end of the ${fileSize}-byte file; the file is truncated or its length prefix lies`,
    );
  }
  return len;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function isNonNegInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/**
 * Validates a header against a data section of `dataLength` bytes: UTF-8, JSON object,
 * `__metadata__` string map, known dtypes, shape × itemsize = byte range, offsets in bounds,
 * contiguous from 0, non-overlapping and covering the whole data section.
 */
export function parseHeader(headerBytes: Uint8Array, dataLength: number, path: string): ParsedHeader {
  let text: string;
  try {
    text = utf8.decode(headerBytes);
  } catch (err) {
    throw new SafetensorsHeaderError(path, 'header is not valid UTF-8', { cause: err });
  }
  if (!text.startsWith('{'))
    throw new SafetensorsHeaderError(path, 'header does not start with "{"; not a safetensors file');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new SafetensorsHeaderError(path, `header is not valid JSON (${(err as Error).message})`, { cause: err });
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new SafetensorsHeaderError(path, 'header is not a JSON object');
  }
  let metadata: Record<string, string> | null = null;
  const tensors: TensorSlot[] = [];
  for (const [name, value] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        throw new SafetensorsHeaderError(path, '__metadata__ must be an object of string values');
      }
      metadata = {};
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v !== 'string')
          throw new SafetensorsHeaderError(path, `__metadata__.${k} is ${typeof v}, must be a string`);
        Object.defineProperty(metadata, k, { value: v, enumerable: true, writable: true, configurable: true }); // "__proto__" stays a key
      }
      continue;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new SafetensorsHeaderError(path, `entry ${JSON.stringify(name)} is not an object`);
    }
    const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
    if (!isDtype(dtype)) {
      throw new SafetensorsDtypeError(
        path,
        `tensor ${JSON.stringify(name)} has unknown dtype ${JSON.stringify(dtype)}`,
      );
    }
    if (!Array.isArray(shape) || !shape.every(isNonNegInt)) {
      throw new SafetensorsHeaderError(
        path,
        `tensor ${JSON.stringify(name)}: shape must be an array of non-negative integers`,
      );
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !isNonNegInt(offsets[0]) || !isNonNegInt(offsets[1])) {
      throw new SafetensorsHeaderError(
        path,
        `tensor ${JSON.stringify(name)}: data_offsets must be two non-negative integers`,
      );
    }
    const [begin, end] = offsets as [number, number];
    if (end < begin)
      throw new SafetensorsOffsetError(
        path,
        `tensor ${JSON.stringify(name)}: data_offsets [${begin}, ${end}] end before they begin`,
      );
    let count = 1;
    for (const d of shape as number[]) {
      count *= d;
      if (!Number.isSafeInteger(count))
        throw new SafetensorsShapeError(
          path,
          `tensor ${JSON.stringify(name)}: shape ${JSON.stringify(shape)} overflows`,
        );
    }
    const byteLength = count * DTYPE_ITEMSIZE[dtype];
    if (!Number.isSafeInteger(byteLength))
      throw new SafetensorsShapeError(path, `tensor ${JSON.stringify(name)}: byte size overflows`);
    if (byteLength !== end - begin) {
      throw new SafetensorsShapeError(
        path,
        `tensor ${JSON.stringify(name)}: ${dtype} ${JSON.stringify(shape)} needs ${byteLength} bytes but data_offsets span ${end - begin}`,
      );
    }
    tensors.push({ name, dtype, shape: [...(shape as number[])], byteLength, dataOffsets: [begin, end] });
  }
  tensors.sort((a, b) => a.dataOffsets[0] - b.dataOffsets[0] || a.dataOffsets[1] - b.dataOffsets[1]);
  let cursor = 0;
  for (const t of tensors) {
    const [begin, end] = t.dataOffsets;
    if (end > dataLength) {
      throw new SafetensorsOffsetError(
        path,
        `tensor ${JSON.stringify(t.name)}: data_offsets [${begin}, ${end}] run past the ${dataLength}-byte data section (truncated file?)`,
      );
    }
    if (begin < cursor)
      throw new SafetensorsOffsetError(
        path,
        `tensor ${JSON.stringify(t.name)}: data_offsets [${begin}, ${end}] overlap the previous tensor (ends at ${cursor})`,
      );
    if (begin > cursor)
      throw new SafetensorsOffsetError(
        path,
        `tensor ${JSON.stringify(t.name)}: gap of ${begin - cursor} bytes before it; tensors must be contiguous`,
      );
    cursor = end;
  }
  if (cursor !== dataLength) {
    throw new SafetensorsOffsetError(
      path,
      `tensors cover ${cursor} bytes but the data section has ${dataLength}; trailing bytes or a wrong header`,
    );
  }
  return { metadata, tensors };
}

/** What a writer needs to know of each tensor before any data is written. */
export interface HeaderEntry {
  name: string;
  dtype: Dtype;
  shape: readonly number[];
}

const encoder = new TextEncoder();

/** Byte order of the UTF-8 encodings (no Buffer: this module also runs in browsers). */
function compareUtf8(a: string, b: string): number {
  const x = encoder.encode(a);
  const y = encoder.encode(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

/**
 * Orders entries the way the Rust library does before writing: by dtype, widest alignment first
 * (descending enum order), then by name (byte order).
 */
export function safetensorsOrder<T extends HeaderEntry>(entries: readonly T[]): T[] {
  return [...entries].sort((a, b) => dtypeRank(b.dtype) - dtypeRank(a.dtype) || compareUtf8(a.name, b.name));
}

/** Checks one entry's name, dtype and shape, returning its byte length. */
export function entryByteLength(e: HeaderEntry, path: string): number {
  if (typeof e.name !== 'string') throw new SafetensorsWriteError(path, 'tensor name must be a string');
  if (e.name === '__metadata__')
    throw new SafetensorsWriteError(path, '"__metadata__" is reserved and cannot name a tensor');
  if (!isDtype(e.dtype))
    throw new SafetensorsWriteError(
      path,
      `tensor ${JSON.stringify(e.name)} has unknown dtype ${JSON.stringify(e.dtype)}`,
    );
  if (!Array.isArray(e.shape) || !e.shape.every(isNonNegInt)) {
    throw new SafetensorsWriteError(
      path,
      `tensor ${JSON.stringify(e.name)}: shape must be non-negative integers, got ${JSON.stringify(e.shape)}`,
    );
  }
  let n = DTYPE_ITEMSIZE[e.dtype];
  for (const d of e.shape) n *= d;
  if (!Number.isSafeInteger(n))
    throw new SafetensorsWriteError(path, `tensor ${JSON.stringify(e.name)}: byte size overflows`);
  return n;
}

/**
 * Serialises the header for entries already in write order: compact JSON with `__metadata__`
 * first (keys sorted), tensors in the given order with consecutive offsets, padded with spaces
 * to a multiple of 8 bytes. Returns the 8-byte length prefix + header, and the data size.
 */
export function serializeHeader(
  ordered: readonly HeaderEntry[],
  metadata: Record<string, string> | null | undefined,
  path: string,
): { prefixAndHeader: Uint8Array; dataLength: number; offsets: Array<[number, number]> } {
  const parts: string[] = [];
  if (metadata) {
    // The Rust library writes metadata in HashMap order (random per process), so no order is
    // canonical; keeping the caller's order makes re-writing a file with its own metadata exact.
    const keys = Object.keys(metadata);
    const body = keys
      .map((k) => {
        const v = metadata[k];
        if (typeof v !== 'string')
          throw new SafetensorsWriteError(path, `metadata value of ${JSON.stringify(k)} must be a string`);
        return `${JSON.stringify(k)}:${JSON.stringify(v)}`;
      })
      .join(',');
    parts.push(`"__metadata__":{${body}}`);
  }
  const seen = new Set<string>();
  const offsets: Array<[number, number]> = [];
  let offset = 0;
  for (const e of ordered) {
    const n = entryByteLength(e, path);
    if (seen.has(e.name)) throw new SafetensorsWriteError(path, `tensor name ${JSON.stringify(e.name)} appears twice`);
    seen.add(e.name);
    offsets.push([offset, offset + n]);
    parts.push(
      `${JSON.stringify(e.name)}:{"dtype":"${e.dtype}","shape":[${e.shape.join(',')}],"data_offsets":[${offset},${offset + n}]}`,
    );
    offset += n;
  }
  const json = encoder.encode(`{${parts.join(',')}}`);
  const padded = Math.ceil(json.byteLength / 8) * 8;
  if (padded > MAX_HEADER_SIZE)
    throw new SafetensorsWriteError(path, `header would be ${padded} bytes, above the 100 MB limit readers enforce`);
  const out = new Uint8Array(8 + padded);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.byteLength);
  return { prefixAndHeader: out, dataLength: offset, offsets };
}

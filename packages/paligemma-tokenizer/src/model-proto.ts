// A bounds-checked reader for the parts of SentencePiece's ModelProto (sentencepiece_model.proto)
// that decide how a prompt becomes ids: the pieces with their types, the trainer spec (model
// type, special ids and pieces, byte fallback) and the normalizer spec. Unknown fields are
// skipped by wire type, as protobuf does. Every length and offset is checked.
import { ProtoParseError } from './errors.js';

/** SentencePiece piece types (ModelProto.SentencePiece.Type). */
export const PieceType = {
  NORMAL: 1,
  UNKNOWN: 2,
  CONTROL: 3,
  USER_DEFINED: 4,
  UNUSED: 5,
  BYTE: 6,
} as const;
export type PieceTypeValue = (typeof PieceType)[keyof typeof PieceType];

export interface SentencePiece {
  readonly piece: string;
  readonly score: number;
  readonly type: PieceTypeValue;
}

export interface TrainerSpec {
  /** 1 UNIGRAM, 2 BPE, 3 WORD, 4 CHAR. */
  readonly modelType: number;
  readonly vocabSize: number;
  readonly byteFallback: boolean;
  readonly splitDigits: boolean;
  readonly unkId: number;
  readonly bosId: number;
  readonly eosId: number;
  readonly padId: number;
  readonly unkPiece: string;
  readonly bosPiece: string;
  readonly eosPiece: string;
  readonly padPiece: string;
}

export interface NormalizerSpec {
  readonly name: string;
  readonly addDummyPrefix: boolean;
  readonly removeExtraWhitespaces: boolean;
  readonly escapeWhitespaces: boolean;
}

export interface SentencePieceModel {
  readonly pieces: readonly SentencePiece[];
  readonly trainerSpec: TrainerSpec;
  readonly normalizerSpec: NormalizerSpec;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }); // a piece may be U+FEFF itself

class Reader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }
  done(): boolean {
    return this.pos >= this.end;
  }
  /** A raw varint (up to 64 bits). */
  varint64(): bigint {
    let result = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtoParseError(`truncated varint at byte ${this.pos}`);
      const b = this.buf[this.pos++] as number;
      result |= BigInt(b & 0x7f) << BigInt(7 * i);
      if ((b & 0x80) === 0) return result;
    }
    throw new ProtoParseError(`varint longer than 10 bytes at byte ${this.pos}`);
  }
  /** A varint used as a length, tag or bool: must fit in a safe integer. */
  varint(): number {
    const v = this.varint64();
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ProtoParseError(`varint too large at byte ${this.pos}`);
    return Number(v);
  }
  /** int32 / enum fields: negative values are sign-extended 64-bit varints; protobuf keeps the low 32 bits. */
  int32(): number {
    return Number(BigInt.asIntN(32, this.varint64()));
  }
  bytes(): { start: number; end: number } {
    const len = this.varint();
    const start = this.pos;
    const end = start + len;
    if (end > this.end) throw new ProtoParseError(`length ${len} at byte ${start} runs past the end of its message`);
    this.pos = end;
    return { start, end };
  }
  string(): string {
    const { start, end } = this.bytes();
    try {
      return utf8.decode(this.buf.subarray(start, end));
    } catch {
      throw new ProtoParseError(`invalid UTF-8 string at byte ${start}`);
    }
  }
  float(): number {
    if (this.pos + 4 > this.end) throw new ProtoParseError(`truncated float at byte ${this.pos}`);
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4).getFloat32(0, true);
    this.pos += 4;
    return v;
  }
  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.varint();
        return;
      case 1:
        if (this.pos + 8 > this.end) throw new ProtoParseError(`truncated fixed64 at byte ${this.pos}`);
        this.pos += 8;
        return;
      case 2:
        this.bytes();
        return;
      case 5:
        if (this.pos + 4 > this.end) throw new ProtoParseError(`truncated fixed32 at byte ${this.pos}`);
        this.pos += 4;
        return;
      default:
        throw new ProtoParseError(`unsupported wire type ${wireType} at byte ${this.pos}`);
    }
  }
  tag(): { field: number; wire: number } {
    const t = this.varint();
    const field = Math.floor(t / 8);
    if (field === 0) throw new ProtoParseError(`field number 0 at byte ${this.pos}`);
    return { field, wire: t & 7 };
  }
}

function expectWire(field: string, wire: number, expected: number): void {
  if (wire !== expected) throw new ProtoParseError(`field ${field} has wire type ${wire}, expected ${expected}`);
}

function parsePiece(buf: Uint8Array, start: number, end: number, index: number): SentencePiece {
  const r = new Reader(buf, start, end);
  let piece: string | undefined;
  let score = 0;
  let type = 1;
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field === 1) {
      expectWire('SentencePiece.piece', wire, 2);
      piece = r.string();
    } else if (field === 2) {
      expectWire('SentencePiece.score', wire, 5);
      score = r.float();
    } else if (field === 3) {
      expectWire('SentencePiece.type', wire, 0);
      type = r.int32();
    } else r.skip(wire);
  }
  if (piece === undefined || piece.length === 0) throw new ProtoParseError(`piece ${index} has no text`);
  if (type < 1 || type > 6) throw new ProtoParseError(`piece ${index} ("${piece}") has unknown type ${type}`);
  return { piece, score, type: type as PieceTypeValue };
}

function parseTrainerSpec(buf: Uint8Array, start: number, end: number): TrainerSpec {
  // Defaults are sentencepiece_model.proto's.
  const s = {
    modelType: 1,
    vocabSize: 8000,
    byteFallback: false,
    splitDigits: false,
    unkId: 0,
    bosId: 1,
    eosId: 2,
    padId: -1,
    unkPiece: '<unk>',
    bosPiece: '<s>',
    eosPiece: '</s>',
    padPiece: '<pad>',
  };
  const r = new Reader(buf, start, end);
  while (!r.done()) {
    const { field, wire } = r.tag();
    const int = (): number => {
      expectWire(`TrainerSpec.${field}`, wire, 0);
      return r.int32();
    };
    const str = (): string => {
      expectWire(`TrainerSpec.${field}`, wire, 2);
      return r.string();
    };
    switch (field) {
      case 3:
        s.modelType = int();
        break;
      case 4:
        s.vocabSize = int();
        break;
      case 35:
        s.byteFallback = int() !== 0;
        break;
      case 25:
        s.splitDigits = int() !== 0;
        break;
      case 40:
        s.unkId = int();
        break;
      case 41:
        s.bosId = int();
        break;
      case 42:
        s.eosId = int();
        break;
      case 43:
        s.padId = int();
        break;
      case 45:
        s.unkPiece = str();
        break;
      case 46:
        s.bosPiece = str();
        break;
      case 47:
        s.eosPiece = str();
        break;
      case 48:
        s.padPiece = str();
        break;
      default:
        r.skip(wire);
    }
  }
  return s;
}

function parseNormalizerSpec(buf: Uint8Array, start: number, end: number): NormalizerSpec {
  const s = { name: '', addDummyPrefix: true, removeExtraWhitespaces: true, escapeWhitespaces: true };
  const r = new Reader(buf, start, end);
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field === 1) {
      expectWire('NormalizerSpec.name', wire, 2);
      s.name = r.string();
    } else if (field === 3 || field === 4 || field === 5) {
      expectWire(`NormalizerSpec.${field}`, wire, 0);
      const v = r.varint() !== 0;
      if (field === 3) s.addDummyPrefix = v;
      else if (field === 4) s.removeExtraWhitespaces = v;
      else s.escapeWhitespaces = v;
    } else r.skip(wire);
  }
  return s;
}

/**
 * Parses a serialized SentencePiece ModelProto. Throws ProtoParseError on any structural
 * problem: truncation, bad lengths, wrong wire types, no pieces, no trainer/normalizer spec,
 * missing or duplicated UNKNOWN piece, duplicate pieces.
 */
export function parseSentencePieceModel(buf: Uint8Array): SentencePieceModel {
  const r = new Reader(buf, 0, buf.length);
  const pieces: SentencePiece[] = [];
  let trainerSpec: TrainerSpec | undefined;
  let normalizerSpec: NormalizerSpec | undefined;
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field === 1) {
      expectWire('ModelProto.pieces', wire, 2);
      const { start, end } = r.bytes();
      pieces.push(parsePiece(buf, start, end, pieces.length));
    } else if (field === 2) {
      expectWire('ModelProto.trainer_spec', wire, 2);
      const { start, end } = r.bytes();
      trainerSpec = parseTrainerSpec(buf, start, end);
    } else if (field === 3) {
      expectWire('ModelProto.normalizer_spec', wire, 2);
      const { start, end } = r.bytes();
      normalizerSpec = parseNormalizerSpec(buf, start, end);
    } else if (field > 5 && field < 200) {
      // ModelProto has fields 1-5 and an extension range from 200.
      throw new ProtoParseError(`unexpected top-level field ${field} (not a SentencePiece ModelProto)`);
    } else r.skip(wire);
  }
  if (pieces.length === 0) throw new ProtoParseError('no pieces');
  if (trainerSpec === undefined) throw new ProtoParseError('no trainer_spec');
  if (normalizerSpec === undefined) throw new ProtoParseError('no normalizer_spec');
  const seen = new Set<string>();
  let unknown = 0;
  for (const p of pieces) {
    if (p.type === PieceType.UNKNOWN) unknown++;
    if (seen.has(p.piece)) throw new ProtoParseError(`piece "${p.piece}" appears twice`);
    seen.add(p.piece);
  }
  if (unknown !== 1) throw new ProtoParseError(`expected exactly one UNKNOWN piece, found ${unknown}`);
  if (trainerSpec.modelType < 1 || trainerSpec.modelType > 4)
    throw new ProtoParseError(`unknown model_type ${trainerSpec.modelType}`);
  if (trainerSpec.byteFallback) {
    for (let b = 0; b < 256; b++) {
      const name = `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`;
      if (!seen.has(name)) throw new ProtoParseError(`byte_fallback is on but byte piece ${name} is missing`);
    }
  }
  return { pieces, trainerSpec, normalizerSpec };
}

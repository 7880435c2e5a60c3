// The one module that talks to the wasm build of Google's C++ SentencePiece
// (@sctg/sentencepiece-js: emscripten, the wasm is inlined in the package, nothing is downloaded).
// The wrapper ignores the load status and would encode every string to [] after a failed load,
// so this module checks the status and cross-checks piece ids against our own parse.
import { SentencePieceProcessor } from '@sctg/sentencepiece-js';
import type { SentencePieceModel } from './model-proto.js';

/** What we use of the embind handles (the wrapper types them as any). */
interface EmbindDeletable {
  delete(): void;
}
interface EmbindStringView extends EmbindDeletable {
  getView(): EmbindDeletable;
}
interface EmbindProcessor {
  status(): EmbindDeletable & { ToString(): string };
  PieceToId(view: EmbindDeletable): number;
}
interface EmbindModule {
  StringView: new (s: string) => EmbindStringView;
}

export interface SentencePieceEncoder {
  encode(text: string): number[];
}

/** Loads the model bytes into the wasm SentencePiece; returns null with a reason if it does not load what we parsed. */
export async function loadWasmSentencePiece(
  bytes: Uint8Array,
  parsed: SentencePieceModel,
): Promise<{ encoder: SentencePieceEncoder } | { error: string }> {
  const spp = new SentencePieceProcessor();
  await spp.loadFromB64StringModel(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'));
  const processor = spp.processor as EmbindProcessor;
  const mod = spp.sentencepiece as EmbindModule;
  const status = processor.status();
  const statusText = status.ToString();
  status.delete();
  if (statusText !== 'OK') return { error: `SentencePiece refused it: ${statusText}` };
  const pieceToId = (piece: string): number => {
    const sv = new mod.StringView(piece);
    const view = sv.getView();
    try {
      return processor.PieceToId(view);
    } finally {
      view.delete();
      sv.delete();
    }
  };
  const n = parsed.pieces.length;
  for (const id of new Set([0, 1, 2, 3, Math.floor(n / 2), n - 1].filter((i) => i < n))) {
    const piece = (parsed.pieces[id] as { piece: string }).piece;
    const got = pieceToId(piece);
    if (got !== id) return { error: `SentencePiece maps piece "${piece}" to id ${got}, the file says ${id}` };
  }
  return { encoder: { encode: (text: string) => spp.encodeIds(text) } };
}

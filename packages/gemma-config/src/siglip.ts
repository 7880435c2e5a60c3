import { InvalidConfigError } from './errors.js';

/** A SigLIP vision tower as transformers' SiglipVisionConfig describes it (no pooling head: PaliGemma sets vision_use_head=False). */
export interface SiglipConfig {
  hiddenSize: number;
  numLayers: number;
  intermediateSize: number;
  numHeads: number;
  patchSize: number;
  imageSize: number;
  numChannels: number;
  layerNormEps: number;
}

/** SigLIP So400m/14 at 224 px, as PaliGemma (and openpi's pi0) configure it: 256 tokens per image. */
export const SIGLIP_SO400M_14: Readonly<SiglipConfig> = Object.freeze({
  hiddenSize: 1152,
  numLayers: 27,
  intermediateSize: 4304,
  numHeads: 16,
  patchSize: 14,
  imageSize: 224,
  numChannels: 3,
  layerNormEps: 1e-6,
});

/** The tiny CPU tower: same structure, 32 px images in 8 px patches (16 tokens). */
export const SIGLIP_TINY: Readonly<SiglipConfig> = Object.freeze({
  hiddenSize: 64,
  numLayers: 2,
  intermediateSize: 128,
  numHeads: 4,
  patchSize: 8,
  imageSize: 32,
  numChannels: 3,
  layerNormEps: 1e-6,
});

/** Image tokens per image: (imageSize / patchSize)^2. */
export function siglipNumTokens(cfg: SiglipConfig): number {
  if (cfg.imageSize % cfg.patchSize !== 0) {
    throw new InvalidConfigError(
      `SigLIP imageSize ${cfg.imageSize} is not a multiple of patchSize ${cfg.patchSize}; pick sizes that tile the image.`,
    );
  }
  const side = cfg.imageSize / cfg.patchSize;
  return side * side;
}

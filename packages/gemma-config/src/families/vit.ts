// timm Vision Transformers as Prismatic (OpenVLA) builds them with timm.create_model(..., num_classes=0,
// img_size=224): DINOv2 ViT-L/14 with 4 registers (vit_large_patch14_reg4_dinov2.lvd142m) and SigLIP So400m/14
// (vit_so400m_patch14_siglip_224, with its attention-pooling head, whose parameters exist although Prismatic reads
// the second-to-last block's patch features).
import type { ParamDtype } from '../param-spec.js';
import { mod, type ModuleSpec } from './modules.js';

export interface TimmVitConfig {
  /** timm model id, for reports. */
  timmId: string;
  width: number;
  depth: number;
  mlpHidden: number;
  patch: number;
  imageSize: number;
  classToken: boolean;
  registers: number;
  /** DINOv2: position embeddings for patches only (no_embed_class). */
  noEmbedClass: boolean;
  layerScale: boolean;
  /** SigLIP: AttentionPoolLatent head (latent, q, kv, proj, norm, mlp). */
  attentionPool: boolean;
}

export const DINOV2_VIT_L14_REG4_224: Readonly<TimmVitConfig> = Object.freeze({
  timmId: 'vit_large_patch14_reg4_dinov2.lvd142m',
  width: 1024,
  depth: 24,
  mlpHidden: 4096,
  patch: 14,
  imageSize: 224,
  classToken: true,
  registers: 4,
  noEmbedClass: true,
  layerScale: true,
  attentionPool: false,
});

export const SIGLIP_SO400M_14_224_TIMM: Readonly<TimmVitConfig> = Object.freeze({
  timmId: 'vit_so400m_patch14_siglip_224',
  width: 1152,
  depth: 27,
  mlpHidden: 4304,
  patch: 14,
  imageSize: 224,
  classToken: false,
  registers: 0,
  noEmbedClass: false,
  layerScale: false,
  attentionPool: true,
});

/** Patch tokens per image. */
export function vitPatchTokens(c: TimmVitConfig): number {
  const side = Math.floor(c.imageSize / c.patch);
  return side * side;
}

export function timmVitModules(c: TimmVitConfig, prefix: string, dtype: ParamDtype): ModuleSpec[] {
  const w = c.width;
  const patches = vitPatchTokens(c);
  const prefixTokens = (c.classToken ? 1 : 0) + (c.noEmbedClass ? 0 : c.registers);
  const out: ModuleSpec[] = [];
  if (c.classToken) out.push(mod.param(`${prefix}.cls_token`, [1, 1, w], dtype));
  if (c.registers > 0) out.push(mod.param(`${prefix}.reg_token`, [1, c.registers, w], dtype));
  out.push(mod.param(`${prefix}.pos_embed`, [1, patches + (c.noEmbedClass ? 0 : prefixTokens), w], dtype));
  out.push({
    path: `${prefix}.patch_embed.proj`,
    kind: 'Conv2d',
    inFeatures: 3,
    outFeatures: w,
    kernel: [c.patch, c.patch],
    bias: true,
    dtype,
  });
  for (let i = 0; i < c.depth; i++) {
    const p = `${prefix}.blocks.${i}`;
    out.push(
      mod.layerNorm(`${p}.norm1`, w, dtype),
      mod.linear(`${p}.attn.qkv`, w, 3 * w, true, dtype),
      mod.linear(`${p}.attn.proj`, w, w, true, dtype),
    );
    if (c.layerScale) out.push(mod.param(`${p}.ls1.gamma`, [w], dtype));
    out.push(
      mod.layerNorm(`${p}.norm2`, w, dtype),
      mod.linear(`${p}.mlp.fc1`, w, c.mlpHidden, true, dtype),
      mod.linear(`${p}.mlp.fc2`, c.mlpHidden, w, true, dtype),
    );
    if (c.layerScale) out.push(mod.param(`${p}.ls2.gamma`, [w], dtype));
  }
  out.push(mod.layerNorm(`${prefix}.norm`, w, dtype));
  if (c.attentionPool) {
    const a = `${prefix}.attn_pool`;
    out.push(
      mod.param(`${a}.latent`, [1, 1, w], dtype),
      mod.linear(`${a}.q`, w, w, true, dtype),
      mod.linear(`${a}.kv`, w, 2 * w, true, dtype),
      mod.linear(`${a}.proj`, w, w, true, dtype),
      mod.layerNorm(`${a}.norm`, w, dtype),
      mod.linear(`${a}.mlp.fc1`, w, c.mlpHidden, true, dtype),
      mod.linear(`${a}.mlp.fc2`, c.mlpHidden, w, true, dtype),
    );
  }
  return out;
}

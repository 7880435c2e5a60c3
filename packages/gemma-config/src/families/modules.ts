// A model as the list of its modules (what `named_modules()` yields for the leaves that own parameters), so that
// PEFT's target matching can run on module paths and LoRA can be applied exactly as PEFT applies it.
import { InvalidConfigError } from '../errors.js';
import type { ParamDtype, ParamSpec } from '../param-spec.js';

export type ModuleKind = 'Linear' | 'Conv2d' | 'Conv3d' | 'Embedding' | 'LayerNorm' | 'RMSNorm' | 'Parameter';

export interface ModuleSpec {
  /** Dotted module path (`model.layers.0.self_attn.q_proj`); for `Parameter`, the parameter's own path. */
  path: string;
  kind: ModuleKind;
  dtype: ParamDtype;
  /** Linear: in/out features. Conv: in/out channels. Embedding: num embeddings / dim. Norm: size in `out`. */
  inFeatures?: number;
  outFeatures?: number;
  /** Conv kernel ([kh, kw] or [kt, kh, kw]). */
  kernel?: number[];
  bias?: boolean;
  /** `Parameter`: its shape. */
  shape?: number[];
  /** Other state-dict names of this module's weight (tied embeddings). */
  weightAliases?: string[];
}

/** LoRA as PEFT applies it to one module. */
export interface ModuleLora {
  rank: number;
  adapterName?: string;
  dtype?: ParamDtype;
}

const req = (m: ModuleSpec, v: number | undefined, what: string): number => {
  if (v === undefined || !Number.isSafeInteger(v) || v <= 0)
    throw new InvalidConfigError(`module ${m.path} (${m.kind}) needs a positive ${what}.`);
  return v;
};

/** The parameters of one module, wrapped by PEFT LoRA when `lora` is given (Linear and Conv only). */
export function moduleParams(m: ModuleSpec, lora?: ModuleLora): ParamSpec[] {
  const d = m.dtype;
  switch (m.kind) {
    case 'Parameter':
      return [{ path: m.path, shape: [...(m.shape ?? [])], dtype: d }];
    case 'LayerNorm':
    case 'RMSNorm': {
      const n = req(m, m.outFeatures, 'size');
      const out: ParamSpec[] = [{ path: `${m.path}.weight`, shape: [n], dtype: d }];
      if (m.kind === 'LayerNorm' && m.bias !== false) out.push({ path: `${m.path}.bias`, shape: [n], dtype: d });
      return out;
    }
    case 'Embedding': {
      if (lora) throw new InvalidConfigError(`LoRA on embedding ${m.path} is not modelled here.`);
      const spec: ParamSpec = {
        path: `${m.path}.weight`,
        shape: [req(m, m.inFeatures, 'num_embeddings'), req(m, m.outFeatures, 'embedding_dim')],
        dtype: d,
      };
      if (m.weightAliases?.length) spec.aliases = [...m.weightAliases];
      return [spec];
    }
    case 'Linear':
    case 'Conv2d':
    case 'Conv3d': {
      const inF = req(m, m.inFeatures, 'in features');
      const outF = req(m, m.outFeatures, 'out features');
      const k = m.kind === 'Linear' ? [] : (m.kernel ?? []);
      if (m.kind !== 'Linear' && k.length !== (m.kind === 'Conv2d' ? 2 : 3))
        throw new InvalidConfigError(`module ${m.path} (${m.kind}) needs a ${m.kind === 'Conv2d' ? 2 : 3}-d kernel.`);
      const base = lora ? `${m.path}.base_layer` : m.path;
      const w: ParamSpec = { path: `${base}.weight`, shape: [outF, inF, ...k], dtype: d };
      if (m.weightAliases?.length) w.aliases = [...m.weightAliases];
      const out: ParamSpec[] = [w];
      if (m.bias) out.push({ path: `${base}.bias`, shape: [outF], dtype: d });
      if (lora) {
        const a = lora.adapterName ?? 'default';
        const ld = lora.dtype ?? 'float32';
        const r = lora.rank;
        // PEFT: Linear → lora_A Linear(in, r), lora_B Linear(r, out); Conv → lora_A Conv(in, r, kernel, stride),
        // lora_B Conv(r, out, 1×…×1).
        out.push({ path: `${m.path}.lora_A.${a}.weight`, shape: [r, inF, ...k], dtype: ld });
        out.push({ path: `${m.path}.lora_B.${a}.weight`, shape: [outF, r, ...k.map(() => 1)], dtype: ld });
      }
      return out;
    }
  }
}

/** Linear layers and convolutions, which PEFT's LoRA can wrap. */
export function isLoraWrappable(m: ModuleSpec): boolean {
  return m.kind === 'Linear' || m.kind === 'Conv2d' || m.kind === 'Conv3d';
}

/** Module helpers for family builders. */
export const mod = {
  linear: (path: string, inF: number, outF: number, bias: boolean, dtype: ParamDtype): ModuleSpec => ({
    path,
    kind: 'Linear',
    inFeatures: inF,
    outFeatures: outF,
    bias,
    dtype,
  }),
  layerNorm: (path: string, n: number, dtype: ParamDtype): ModuleSpec => ({
    path,
    kind: 'LayerNorm',
    outFeatures: n,
    bias: true,
    dtype,
  }),
  rmsNorm: (path: string, n: number, dtype: ParamDtype): ModuleSpec => ({
    path,
    kind: 'RMSNorm',
    outFeatures: n,
    dtype,
  }),
  param: (path: string, shape: number[], dtype: ParamDtype): ModuleSpec => ({ path, kind: 'Parameter', shape, dtype }),
};

import type { ParamDtype, ParamSpec } from './param-spec.js';

/** LoRA on one linear layer, named as PEFT names it. */
export interface LinearLora {
  rank: number;
  /** PEFT adapter name inside the module path; PEFT's default is `default`. */
  adapterName?: string;
  /** dtype of lora_A / lora_B (PEFT's autocast_adapter_dtype keeps adapters in float32). */
  dtype?: ParamDtype;
}

export interface LinearSpecOptions {
  bias: boolean;
  dtype: ParamDtype;
  lora?: LinearLora | undefined;
}

/**
 * Specs of one nn.Linear(inF, outF) at `modulePath`: `.weight` [out, in] (+ `.bias` [out]); wrapped
 * by PEFT LoRA it becomes `.base_layer.weight`, `.lora_A.<adapter>.weight` [r, in],
 * `.lora_B.<adapter>.weight` [out, r].
 */
export function linearSpecs(modulePath: string, inF: number, outF: number, opts: LinearSpecOptions): ParamSpec[] {
  if (!opts.lora) {
    const out: ParamSpec[] = [{ path: `${modulePath}.weight`, shape: [outF, inF], dtype: opts.dtype }];
    if (opts.bias) out.push({ path: `${modulePath}.bias`, shape: [outF], dtype: opts.dtype });
    return out;
  }
  const name = opts.lora.adapterName ?? 'default';
  const ldt = opts.lora.dtype ?? 'float32';
  const r = opts.lora.rank;
  const out: ParamSpec[] = [{ path: `${modulePath}.base_layer.weight`, shape: [outF, inF], dtype: opts.dtype }];
  if (opts.bias) out.push({ path: `${modulePath}.base_layer.bias`, shape: [outF], dtype: opts.dtype });
  out.push({ path: `${modulePath}.lora_A.${name}.weight`, shape: [r, inF], dtype: ldt });
  out.push({ path: `${modulePath}.lora_B.${name}.weight`, shape: [outF, r], dtype: ldt });
  return out;
}

// Which trainable parameters are LoRA tensors (saved in the PEFT adapter) and their PEFT keys.
// Segments are matched, never substrings (field notes: "paligemma" in name also matched gemma_expert).

const LORA_SEGMENTS = new Set(['lora_A', 'lora_B', 'lora_embedding_A', 'lora_embedding_B', 'lora_magnitude_vector']);

/** True when a path segment is a LoRA tensor container (`...q_proj.lora_A.default.weight`). */
export function isLoraParam(name: string): boolean {
  return name.split('.').some((s) => LORA_SEGMENTS.has(s));
}

/**
 * PEFT's in-memory key (WITH adapter name) for a LoRA parameter of our module tree:
 * `layers.0.q_proj.lora_A.weight` or `layers.0.q_proj.lora_A.default.weight`
 * -> `base_model.model.layers.0.q_proj.lora_A.default.weight`.
 */
export function peftKeyForParam(name: string, adapterName = 'default'): string {
  const segs = name.split('.');
  const i = segs.findIndex((s) => LORA_SEGMENTS.has(s));
  if (i < 0) throw new RangeError(`${name} is not a LoRA parameter`);
  const rest = segs.slice(i + 1);
  const named = rest[0] === adapterName && rest.length > 1 ? rest : [adapterName, ...rest];
  return ['base_model', 'model', ...segs.slice(0, i + 1), ...named].join('.');
}

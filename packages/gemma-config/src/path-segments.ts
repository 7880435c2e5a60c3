/** Dotted path → segments. `a.b.0.c` → ['a','b','0','c']. */
export function pathSegments(path: string): string[] {
  return path.split('.');
}

/** True when the path is a LoRA tensor in PEFT naming (a `lora_A` / `lora_B` segment, or `lora_embedding_A/B`). */
export function isLoraPath(path: string): boolean {
  return pathSegments(path).some(
    (s) => s === 'lora_A' || s === 'lora_B' || s === 'lora_embedding_A' || s === 'lora_embedding_B',
  );
}

/** True when `path` lies under module `prefix` on segment boundaries (`a.b` contains `a.b.c`, not `a.bc`). */
export function isUnder(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(`${prefix}.`);
}

// PEFT adapters written against another pi0 layout (LeRobot's PI0Policy wraps PI0Pytorch as
// `.model`, so its keys read base_model.model.model.…; the older lerobot/pi0 names) are renamed
// onto ours with models' canonicalPi0AdapterKeys before the fit check, so an adapter trained on one
// layout applies to a base in another. Two keys landing on one name are a WeightsLayoutError.
import type { PeftAdapter } from '@vla-lora/checkpoint-io';
import { canonicalPi0AdapterKeys } from '@vla-lora/models';

/** Renames the adapter's tensor keys in place; returns how many changed. */
export function remapPi0AdapterLayout(adapter: PeftAdapter): number {
  const canon = canonicalPi0AdapterKeys([...adapter.tensors.keys()]);
  let changed = 0;
  for (const [ours, theirs] of canon) if (ours !== theirs) changed++;
  if (changed === 0) return 0;
  const next: PeftAdapter['tensors'] = new Map();
  for (const [ours, theirs] of canon) {
    const t = adapter.tensors.get(theirs);
    if (t !== undefined) next.set(ours, t);
  }
  adapter.tensors = next;
  return changed;
}

// The run's final artefacts: <run>/adapter (PEFT) + <run>/trainable.safetensors (heads), verified.
import type * as tf from '@tensorflow/tfjs-core';
import {
  savePeftAdapter,
  verifyAdapter,
  withAtomicDir,
  writeSafetensors,
  type PeftAdapter,
} from '@vla-lora/checkpoint-io';
import { isLoraParam, peftKeyForParam, runPath } from '@vla-lora/trainer';

export type AdapterReport = Awaited<ReturnType<typeof verifyAdapter>>;

export interface ExportedWeights {
  adapterDir: string;
  trainablePath: string | null;
  report: AdapterReport;
}

export async function exportTrainedWeights(
  runDir: string,
  params: Map<string, tf.Variable>,
  adapterConfig: PeftAdapter['config'],
): Promise<ExportedWeights> {
  const tensors: PeftAdapter['tensors'] = new Map();
  const heads: Array<{ name: string; dtype: 'F32'; shape: number[]; data: Uint8Array }> = [];
  for (const [name, v] of params) {
    const d = new Float32Array((await v.data()) as Float32Array);
    const bytes = new Uint8Array(d.buffer);
    if (isLoraParam(name)) tensors.set(peftKeyForParam(name), { dtype: 'F32', shape: [...v.shape], bytes });
    else heads.push({ name, dtype: 'F32', shape: [...v.shape], data: bytes });
  }
  const adapterDir = runPath(runDir, 'adapter');
  let trainablePath: string | null = null;
  if (heads.length > 0) {
    trainablePath = runPath(runDir, 'trainable');
    await writeSafetensors(
      trainablePath,
      heads.sort((a, b) => (a.name < b.name ? -1 : 1)),
      { metadata: { format: 'pt', note: 'trainable non-LoRA weights (pi0 projection heads) of this run' } },
    );
  }
  // Last, and atomically: <run>/adapter appears complete or not at all (a kill mid-export used to
  // leave it existing but empty), and its presence marks the export as done.
  await withAtomicDir(adapterDir, (tmp) => savePeftAdapter(tmp, { config: adapterConfig, tensors }));
  // Never print success for something not checked: read the adapter back and verify it.
  const report = await verifyAdapter(adapterDir);
  return { adapterDir, trainablePath, report };
}

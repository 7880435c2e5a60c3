import { preflightGraph } from '@vla-lora/freeze-policy';
import { FAMILY_RECIPE_NAMES, isLoraPath, planFamily } from '@vla-lora/gemma-config';
import { applyOverrides, getTrainConfig, planRun } from '@vla-lora/pi0';

/** Families trained by the user's PyTorch trainer (OpenVLA, Qwen2.5-VL): accounting, memory bill, graph preflight. */
function planFamilyCommand(o: { config: string; json: boolean }, out: (s: string) => void): void {
  const p = planFamily(o.config);
  const t = p.recipe.training;
  const pre = preflightGraph({
    flow: p.recipe.flow,
    params: p.recipe.specs.map((s) => ({ path: s.path, trainable: isLoraPath(s.path) })),
    gradientCheckpointing: t.gradientCheckpointing ? t.checkpointKind : false,
    inputRequiresGrad: t.inputRequiresGrad,
    onDisconnected: 'report',
  });
  if (o.json) {
    out(
      JSON.stringify(
        {
          config: o.config,
          baseModel: p.recipe.baseModel,
          peftLine: p.peftLine,
          trainable: p.counts.trainable,
          total: p.counts.total,
          baseParams: p.baseParams,
          trainablePercent: p.counts.trainablePercent,
          loraTensors: p.counts.loraTensors,
          loraModules: p.recipe.loraModules.length,
          peftConfig: p.recipe.peftConfig,
          memory: { perDeviceBytes: p.bill.perDeviceBytes, rows: p.bill.rows },
          published: { counts: p.recipe.publishedCounts ?? null, memory: p.recipe.publishedMemory ?? null },
          preflight: { disconnected: pre.disconnected, trainableByStage: pre.trainableByStage },
        },
        null,
        2,
      ),
    );
  } else out([...p.lines, ...pre.lines].join('\n'));
}

export function planCommand(o: { config: string; set: string[]; json: boolean }, out: (s: string) => void): void {
  if ((FAMILY_RECIPE_NAMES as readonly string[]).includes(o.config)) {
    planFamilyCommand(o, out);
    return;
  }
  const cfg = applyOverrides(getTrainConfig(o.config), o.set);
  const p = planRun(cfg);
  if (o.json) {
    out(
      JSON.stringify(
        {
          config: p.config,
          pi0: p.pi0,
          trainable: p.report.trainable,
          total: p.report.total,
          trainablePercent: p.report.trainablePercent,
          loraTensors: p.report.loraTensors,
          loraParams: p.report.loraParams,
          memory: { perDeviceBytes: p.bill.perDeviceBytes, rows: p.bill.rows },
          tokensPerExample: p.tokensPerExample,
        },
        null,
        2,
      ),
    );
  } else {
    out(p.text);
  }
}

import { applyOverrides, getTrainConfig, planRun } from '@vla-lora/trainer';

export function planCommand(o: { config: string; set: string[]; json: boolean }, out: (s: string) => void): void {
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

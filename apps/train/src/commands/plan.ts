import { planReport } from '@vla-lora/pi0';

/** Accounting + memory bill of a pi0 config or a family recipe (and the graph preflight of the latter). */
export function planCommand(o: { config: string; set: string[]; json: boolean }, out: (s: string) => void): void {
  const r = planReport(o.config, o.set);
  out(o.json ? JSON.stringify(r.json, null, 2) : r.text);
}

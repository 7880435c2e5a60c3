export { planRun } from './plan.js';
export type { RunPlan } from './plan.js';
export { freezePolicyFor } from './freeze.js';

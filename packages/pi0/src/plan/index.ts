export { planRun } from './plan.js';
export type { RunPlan } from './plan.js';
export { freezePolicyFor } from './freeze.js';
export { isFamilyRecipe, planReport } from './report.js';
export type { FamilyPlanJson, Pi0PlanJson, PlanReport } from './report.js';
export { writeLaunchSpec } from './launch.js';

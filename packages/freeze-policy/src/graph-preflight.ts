// Graph preflight: the gradient-flow failures that need no forward pass to be seen, checked on a declared data flow
// (stages, what feeds what, which stages are gradient-checkpointed) and the trainable parameter set, before a
// PyTorch run or any tensor exists. It names the RoboVLMs failure modes: a frozen backbone whose output the
// trainable part needs but whose checkpointed LoRA gets no gradient, a LoRA path the loss bypasses, nothing
// trainable on the loss path.
import {
  CheckpointedStageWithoutInputGradError,
  DisconnectedParametersError,
  FreezePolicyError,
  NothingReachesLossError,
  NoTrainableParametersError,
} from './errors.js';

/** One stage of a model's forward pass. */
export interface FlowStage {
  name: string;
  /** Parameter path prefixes (segment boundaries) owned by the stage. */
  prefixes: string[];
  /** Stages (or the literal "input") whose outputs it consumes. */
  inputs: string[];
  /** Wrapped in torch.utils.checkpoint. */
  checkpointed?: boolean;
}

export interface ModelFlow {
  stages: FlowStage[];
  /** Stages whose outputs the loss is computed from. */
  lossFrom: string[];
}

export interface GraphPreflightOptions {
  flow: ModelFlow;
  /** Every parameter path with its trainable flag. */
  params: Iterable<{ path: string; trainable: boolean }>;
  /** Checkpointing flavour: 'reentrant' (torch's and HF's historical default), 'non-reentrant' or none. */
  gradientCheckpointing?: 'reentrant' | 'non-reentrant' | false;
  /** model.enable_input_require_grads() (or inputs that require grad). */
  inputRequiresGrad?: boolean;
  /** `throw` (default): DisconnectedParametersError when some trainable tensors sit in stages the loss does not
   * use; `report`: list them in the report (PyTorch itself would not complain: DDP with find_unused_parameters). */
  onDisconnected?: 'throw' | 'report';
}

export interface GraphPreflightReport {
  /** Stages on a path to the loss. */
  onLossPath: string[];
  /** Trainable parameter count per stage. */
  trainableByStage: Record<string, number>;
  /** Trainable parameters owned by no stage (a flow that does not describe the model). */
  unassigned: string[];
  /** Trainable tensors in stages whose output never reaches the loss (they would keep their initial values). */
  disconnected: string[];
  lines: string[];
}

const under = (path: string, prefix: string): boolean => path === prefix || path.startsWith(`${prefix}.`);

/**
 * Throws NoTrainableParametersError, NothingReachesLossError (trainable parameters only in stages the loss does not
 * use), DisconnectedParametersError (some trainable parameters are in bypassed stages) or
 * CheckpointedStageWithoutInputGradError; returns a report otherwise.
 */
export function preflightGraph(opts: GraphPreflightOptions): GraphPreflightReport {
  const { flow } = opts;
  const byName = new Map(flow.stages.map((s) => [s.name, s]));
  for (const s of flow.stages)
    for (const i of s.inputs)
      if (i !== 'input' && !byName.has(i))
        throw new FreezePolicyError(`Preflight: stage ${s.name} reads from unknown stage ${i}; fix the model flow.`);
  for (const l of flow.lossFrom)
    if (!byName.has(l)) throw new FreezePolicyError(`Preflight: the loss reads from unknown stage ${l}.`);

  const params = [...opts.params];
  const stageOf = (p: string): FlowStage | undefined => {
    let best: FlowStage | undefined;
    let len = -1;
    for (const s of flow.stages)
      for (const pre of s.prefixes)
        if (under(p, pre) && pre.length > len) {
          best = s;
          len = pre.length;
        }
    return best;
  };
  const trainable = params.filter((p) => p.trainable);
  if (trainable.length === 0) throw new NoTrainableParametersError(params.length);
  const trainableByStage: Record<string, number> = {};
  const unassigned: string[] = [];
  const perStage = new Map<string, string[]>();
  for (const p of trainable) {
    const s = stageOf(p.path);
    if (!s) {
      unassigned.push(p.path);
      continue;
    }
    trainableByStage[s.name] = (trainableByStage[s.name] ?? 0) + 1;
    perStage.set(s.name, [...(perStage.get(s.name) ?? []), p.path]);
  }

  // Stages on a path to the loss: walk back from lossFrom.
  const onPath = new Set<string>();
  const work = [...flow.lossFrom];
  while (work.length > 0) {
    const n = work.pop() as string;
    if (onPath.has(n)) continue;
    onPath.add(n);
    for (const i of byName.get(n)?.inputs ?? []) if (i !== 'input') work.push(i);
  }
  const bypassed = trainable.filter((p) => {
    const s = stageOf(p.path);
    return s !== undefined && !onPath.has(s.name);
  });
  const reaching = trainable.filter((p) => {
    const s = stageOf(p.path);
    return s !== undefined && onPath.has(s.name);
  });
  if (reaching.length === 0) throw new NothingReachesLossError(trainable.map((p) => p.path));
  if (bypassed.length > 0 && (opts.onDisconnected ?? 'throw') === 'throw')
    throw new DisconnectedParametersError(bypassed.map((p) => p.path));

  // Does a stage's output require grad? In topological order from the inputs.
  const requiresGrad = new Map<string, boolean>();
  const broken: string[] = [];
  const visit = (name: string, stack: Set<string>): boolean => {
    const known = requiresGrad.get(name);
    if (known !== undefined) return known;
    if (stack.has(name)) throw new FreezePolicyError(`Preflight: the model flow has a cycle through ${name}.`);
    stack.add(name);
    const s = byName.get(name) as FlowStage;
    const inGrad = s.inputs.some((i) => (i === 'input' ? (opts.inputRequiresGrad ?? false) : visit(i, stack)));
    const own = (trainableByStage[s.name] ?? 0) > 0;
    let out = inGrad || own;
    if (s.checkpointed && opts.gradientCheckpointing === 'reentrant' && !inGrad) {
      if (own) broken.push(s.name);
      out = false;
    }
    stack.delete(name);
    requiresGrad.set(name, out);
    return out;
  };
  for (const s of flow.stages) visit(s.name, new Set());
  if (broken.length > 0) {
    const effective = reaching.filter((p) => !broken.includes(stageOf(p.path)?.name ?? ''));
    throw new CheckpointedStageWithoutInputGradError(
      broken,
      effective.length === 0 || !flow.lossFrom.some((l) => requiresGrad.get(l)),
    );
  }

  const lines = [
    bypassed.length === 0
      ? `preflight (graph): ${trainable.length.toLocaleString('en-US')} trainable tensors, all on the loss path`
      : `preflight (graph): ${reaching.length.toLocaleString('en-US')} of ${trainable.length.toLocaleString('en-US')} trainable tensors reach the loss; WARNING: ${bypassed.length} never will (their stage's output is unused) and keep their initial values: ${bypassed
          .slice(0, 4)
          .map((p) => p.path)
          .join(', ')}${bypassed.length > 4 ? ', …' : ''}`,
  ];
  for (const s of flow.stages)
    lines.push(
      `  ${s.name}: ${(trainableByStage[s.name] ?? 0).toLocaleString('en-US')} trainable${s.checkpointed && opts.gradientCheckpointing ? ` (checkpointed, ${opts.gradientCheckpointing}; inputs ${s.inputs.some((i) => (i === 'input' ? opts.inputRequiresGrad : requiresGrad.get(i))) ? 'require grad' : 'frozen'})` : ''}`,
    );
  if (unassigned.length > 0)
    lines.push(`  warning: ${unassigned.length} trainable tensors belong to no stage (e.g. ${unassigned[0]})`);
  return { onLossPath: [...onPath], trainableByStage, unassigned, disconnected: bypassed.map((p) => p.path), lines };
}

/** Base class of every error this package throws. */
export class FreezePolicyError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A rule's pattern cannot be parsed. */
export class InvalidPatternError extends FreezePolicyError {
  constructor(pattern: string, why: string) {
    super(
      `Invalid parameter-path pattern "${pattern}": ${why}. Patterns are dotted segments; a segment is a name, a glob within the segment (lora_*), "*" (one segment) or "**" (any number); "^" anchors at the root, "$" at the end.`,
    );
  }
}

/** Rules that matched no parameter: almost always a typo or the wrong model. */
export class RuleMatchedNothingError extends FreezePolicyError {
  constructor(readonly patterns: string[]) {
    super(
      `Freeze rule(s) matched no parameter: ${patterns.map((p) => `"${p}"`).join(', ')}. Check the spelling against the model's parameter names (a rule matches whole path segments, never substrings), or build the policy with strict: false.`,
    );
  }
}

/** The policy leaves nothing trainable: a run would train nothing. */
export class NothingTrainableError extends FreezePolicyError {
  constructor(total: number) {
    super(
      `Every one of the ${total.toLocaleString('en-US')} parameters is frozen: training would change nothing. Add a train rule (e.g. the LoRA tensors "lora_A", "lora_B") or check that LoRA was injected before the policy was applied.`,
    );
  }
}

/** A report was asked for a model without parameters. */
export class NoParametersError extends FreezePolicyError {
  constructor() {
    super(
      "The parameter list is empty: there is nothing to count. Pass the model's named parameters (or its ParamSpec list).",
    );
  }
}

/** Preflight: no trainable variable was given (everything frozen). */
export class NoTrainableParametersError extends FreezePolicyError {
  constructor(total: number) {
    super(
      `Preflight: none of the ${total} parameters is trainable, so no gradient can flow. Apply a freeze policy that trains something (LoRA tensors, heads) before step 0.`,
    );
  }
}

/** Preflight: trainable parameters exist but none of them reaches the loss. */
export class NothingReachesLossError extends FreezePolicyError {
  constructor(
    readonly parameters: string[],
    options?: { cause?: unknown },
  ) {
    super(
      `Preflight: the loss does not depend on any of the ${parameters.length} trainable parameters (${preview(parameters)}). ` +
        'The forward pass bypasses them (LoRA layers not in the call path, heads not wired in, or the loss computed from constants); fix the model wiring before training.',
      options,
    );
  }
}

/** Preflight: some trainable parameters get no gradient at all. */
export class DisconnectedParametersError extends FreezePolicyError {
  constructor(readonly parameters: string[]) {
    super(
      `Preflight: ${parameters.length} trainable parameter(s) are disconnected from the loss and would never change: ${preview(parameters)}. ` +
        'Wire them into the forward pass (a head not used, a bypassed LoRA layer) or freeze them explicitly.',
    );
  }
}

/** Preflight: a gradient is NaN or infinite on the first batch. */
export class NonFiniteGradientError extends FreezePolicyError {
  constructor(readonly parameters: string[]) {
    super(
      `Preflight: non-finite (NaN/Inf) gradients on the first batch for ${preview(parameters)}. Check the inputs, the loss and the initialisation before training.`,
    );
  }
}

function preview(names: string[], n = 8): string {
  return names.length <= n ? names.join(', ') : `${names.slice(0, n).join(', ')} … and ${names.length - n} more`;
}

/** Preflight: tfjs has no gradient registered for an op (tfjs-core registers none by itself). */
export class GradientsNotRegisteredError extends FreezePolicyError {
  constructor(detail: string, options?: { cause?: unknown }) {
    super(
      `Preflight: tfjs cannot differentiate the loss (${detail}). tfjs-core registers no gradients by itself: call registerAllGradients() or initBackend() from @vla-lora/tfjs-backend before the preflight.`,
      options,
    );
  }
}

/**
 * Graph preflight: a reentrant gradient-checkpointed stage whose inputs do not require grad. torch's reentrant
 * checkpoint then returns outputs without a grad_fn, so the LoRA inside trains nothing — and when nothing after it
 * is trainable, `loss.backward()` fails with "element 0 of tensors does not require grad and does not have a
 * grad_fn" (the RoboVLMs / HF LoRA + gradient-checkpointing failure).
 */
export class CheckpointedStageWithoutInputGradError extends FreezePolicyError {
  constructor(
    readonly stages: string[],
    readonly fatal: boolean,
  ) {
    super(
      `Preflight: gradient-checkpointed stage(s) ${stages.join(', ')} hold trainable parameters but receive inputs that do not require grad (everything before them is frozen); torch's reentrant checkpoint then drops their gradients${
        fatal
          ? ', and since nothing else on the loss path is trainable, loss.backward() will fail with "element 0 of tensors does not require grad and does not have a grad_fn"'
          : ': those LoRA weights would silently never change'
      }. Call model.enable_input_require_grads() (transformers) before training, or use non-reentrant checkpointing (gradient_checkpointing_kwargs={"use_reentrant": False}).`,
    );
  }
}

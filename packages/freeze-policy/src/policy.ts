import { NothingTrainableError, RuleMatchedNothingError } from './errors.js';
import { compilePattern, type SegmentPattern } from './pattern.js';

export type RuleAction = 'train' | 'freeze';

/** One declarative rule: parameters whose path matches `pattern` are trained or frozen. */
export interface FreezeRule {
  action: RuleAction;
  pattern: string;
  /** Why the rule exists; shown in reports. */
  reason?: string;
  /** Exempt from the strict "rule matched nothing" check (e.g. `base_layer` on a model without LoRA). */
  optional?: boolean;
}

/** A parameter as the policy sees it: its PyTorch dotted path and (for counts) its shape. ParamSpec fits. */
export interface NamedShape {
  path: string;
  shape: readonly number[];
}

export interface Decision {
  path: string;
  trainable: boolean;
  /** Index of the deciding rule, or -1 for the default / the base_layer guard. */
  ruleIndex: number;
  reason: string;
}

export interface PlanEntry extends Decision {
  numel: number;
}

export interface FreezePlan {
  entries: PlanEntry[];
  total: number;
  trainable: number;
  /** Patterns of rules that matched no parameter at all. */
  unmatchedRules: string[];
}

export interface FreezePolicyOptions {
  /** What an unmatched parameter gets (default `freeze`). */
  default?: RuleAction;
  /** Throw RuleMatchedNothingError from `plan()` when a rule matches no parameter (default true). */
  strict?: boolean;
  /** Throw NothingTrainableError from `plan()` when nothing ends up trainable (default true). */
  requireTrainable?: boolean;
}

/** Shorthand rule constructors. */
export const train = (pattern: string, reason?: string): FreezeRule => ({
  action: 'train',
  pattern,
  ...(reason ? { reason } : {}),
});
export const freeze = (pattern: string, reason?: string): FreezeRule => ({
  action: 'freeze',
  pattern,
  ...(reason ? { reason } : {}),
});

const BASE_LAYER = 'base_layer';

/**
 * Declarative trainable/frozen rules over parameter paths.
 *
 * Precedence: rules are read in order and the LAST matching rule wins (as in .gitignore), so a
 * general rule goes first and its exceptions after it. A parameter no rule matches gets
 * `default` (frozen unless said otherwise).
 *
 * LoRA base weights: a path with a `base_layer` segment (PEFT's frozen base weight of a wrapped
 * layer) is only ever decided by rules that name `base_layer` as a literal segment; every other
 * rule skips it, so it stays frozen unless a rule asks for it explicitly.
 */
export class FreezePolicy {
  readonly rules: readonly FreezeRule[];
  readonly options: Required<FreezePolicyOptions>;
  private readonly compiled: SegmentPattern[];

  constructor(rules: readonly FreezeRule[], options: FreezePolicyOptions = {}) {
    this.rules = rules.map((r) => ({ ...r }));
    this.compiled = rules.map((r) => compilePattern(r.pattern));
    this.options = {
      default: options.default ?? 'freeze',
      strict: options.strict ?? true,
      requireTrainable: options.requireTrainable ?? true,
    };
  }

  /** A new policy with more rules appended (they take precedence over the existing ones). */
  extend(rules: readonly FreezeRule[], options: FreezePolicyOptions = {}): FreezePolicy {
    return new FreezePolicy([...this.rules, ...rules], { ...this.options, ...options });
  }

  /** The decision for one path, with the rule that made it. */
  decide(path: string): Decision {
    const isBase = path.split('.').includes(BASE_LAYER);
    for (let i = this.compiled.length - 1; i >= 0; i--) {
      const c = this.compiled[i] as SegmentPattern;
      const rule = this.rules[i] as FreezeRule;
      if (isBase && !c.literals.has(BASE_LAYER)) continue;
      if (c.matches(path)) {
        return {
          path,
          trainable: rule.action === 'train',
          ruleIndex: i,
          reason: `${rule.action} "${rule.pattern}"${rule.reason ? ` (${rule.reason})` : ''}`,
        };
      }
    }
    if (isBase)
      return {
        path,
        trainable: false,
        ruleIndex: -1,
        reason: 'LoRA base weight: frozen unless a rule names base_layer',
      };
    return {
      path,
      trainable: this.options.default === 'train',
      ruleIndex: -1,
      reason: `default: ${this.options.default}`,
    };
  }

  /** Trainable? — usable directly as gemma-config's `countParams` predicate. */
  isTrainable = (p: string | { path: string }): boolean => this.decide(typeof p === 'string' ? p : p.path).trainable;

  /**
   * Decide every parameter. Throws RuleMatchedNothingError (strict) when a rule matched no path,
   * and NothingTrainableError (requireTrainable) when nothing is trainable.
   */
  plan(params: Iterable<NamedShape>): FreezePlan {
    const entries: PlanEntry[] = [];
    const matchedAny = new Array<boolean>(this.rules.length).fill(false);
    let total = 0;
    let trainable = 0;
    for (const p of params) {
      const d = this.decide(p.path);
      const numel = p.shape.reduce((a, b) => a * b, 1);
      entries.push({ ...d, numel });
      total += numel;
      if (d.trainable) trainable += numel;
      this.compiled.forEach((c, i) => {
        if (!matchedAny[i] && c.matches(p.path)) matchedAny[i] = true;
      });
    }
    const unmatchedRules = this.rules.filter((_, i) => !matchedAny[i]).map((r) => r.pattern);
    const required = this.rules.filter((r, i) => !matchedAny[i] && !r.optional).map((r) => r.pattern);
    if (this.options.strict && required.length > 0) throw new RuleMatchedNothingError(required);
    if (this.options.requireTrainable && trainable === 0) throw new NothingTrainableError(total);
    return { entries, total, trainable, unmatchedRules };
  }
}

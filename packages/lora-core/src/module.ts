// The module tree every model is built from: a minimal, PyTorch-shaped nn.Module contract.
// Parameters are named by their dotted path from the root (`model.layers.0.self_attn.q_proj.weight`),
// exactly as PyTorch's `named_parameters()` / `state_dict()` name them, so files, freeze rules and
// reports all speak PyTorch's names.
import * as tf from '@tensorflow/tfjs-core';
import { ModulePathError, WeightNotResidentError } from './errors.js';

/**
 * A frozen parameter that lives outside the tfjs backend (e.g. bf16 bytes in a safetensors file)
 * and enters it only while its block runs (`withStreamedWeights`).
 */
export interface WeightSource {
  /** PyTorch shape of the parameter. */
  readonly shape: readonly number[];
  /** A new float32 tensor of `shape` holding the values (the caller disposes it). */
  materialize(): tf.Tensor;
  /** Told when the tensor made by `materialize` has been disposed (accounting). */
  released?(): void;
}

/** A node of the module tree. */
export interface Module {
  /** Direct children in registration order, each with its attribute name (`'q_proj'`, `'0'`). */
  namedChildren(): Array<[string, Module]>;
  /** Replaces (or adds) the direct child `name`. Used by `injectLora` to wrap targets in place. */
  setChild(name: string, child: Module): void;
  /** Parameters owned by this module itself (not by its children), with their local names. */
  ownParameters(): Array<[string, tf.Variable]>;
  /** Training mode (dropout on). Modules without a mode may leave it undefined. */
  training?: boolean;
  /**
   * Frozen parameters kept outside the backend (see `WeightSource`), with their local names. They
   * are not in `ownParameters` (no resident Variable exists); `namedStreamedParameters` lists them.
   */
  ownStreamedParameters?(): Array<[string, WeightSource]>;
  /** Brings the streamed parameters into the backend (frozen Variables) until `releaseStreamed`. */
  materializeStreamed?(): void;
  releaseStreamed?(): void;
}

/**
 * Every module of the tree with its dotted path, depth first in registration order, the root first
 * with the empty name `''` (PyTorch's `named_modules()`). A module reachable by two paths is listed
 * once, under its first path, unless `removeDuplicate: false`.
 */
export function namedModules(root: Module, opts: { removeDuplicate?: boolean } = {}): Array<[string, Module]> {
  const removeDuplicate = opts.removeDuplicate ?? true;
  const out: Array<[string, Module]> = [];
  const seen = new Set<Module>();
  const walk = (m: Module, path: string): void => {
    if (removeDuplicate && seen.has(m)) return;
    seen.add(m);
    out.push([path, m]);
    for (const [name, child] of m.namedChildren()) walk(child, path === '' ? name : `${path}.${name}`);
  };
  walk(root, '');
  return out;
}

export interface NamedParametersOptions {
  /** Drop a variable already listed under an earlier name (tied weights), as PyTorch does. Default true. */
  removeDuplicate?: boolean;
  /** Only `trainable` variables. Default false. */
  trainableOnly?: boolean;
}

/** Every parameter with its PyTorch dotted name (`named_parameters()`), root-first, registration order. */
export function namedParameters(root: Module, opts: NamedParametersOptions = {}): Array<[string, tf.Variable]> {
  const removeDuplicate = opts.removeDuplicate ?? true;
  const out: Array<[string, tf.Variable]> = [];
  const seen = new Set<tf.Variable>();
  for (const [path, m] of namedModules(root, { removeDuplicate })) {
    for (const [name, v] of m.ownParameters()) {
      if (removeDuplicate && seen.has(v)) continue;
      seen.add(v);
      if (opts.trainableOnly && !v.trainable) continue;
      out.push([path === '' ? name : `${path}.${name}`, v]);
    }
  }
  return out;
}

/** Every streamed parameter with its PyTorch dotted name and source (shape without any data). */
export function namedStreamedParameters(root: Module): Array<[string, WeightSource]> {
  const out: Array<[string, WeightSource]> = [];
  for (const [path, m] of namedModules(root)) {
    for (const [name, src] of m.ownStreamedParameters?.() ?? [])
      out.push([path === '' ? name : `${path}.${name}`, src]);
  }
  return out;
}

/**
 * Runs `fn` with the streamed parameters of `modules` (and their subtrees) materialised as frozen
 * Variables, disposing them afterwards, also when `fn` throws. Without streamed parameters this is
 * just `fn()`. A module already materialised (an enclosing scope) is left to that scope.
 */
export function withStreamedWeights<T>(modules: readonly Module[], fn: () => T): T {
  const opened: Module[] = [];
  try {
    for (const root of modules)
      for (const [, m] of namedModules(root))
        if ((m.ownStreamedParameters?.().length ?? 0) > 0 && m instanceof ModuleBase && !m.streamedLive) {
          m.materializeStreamed();
          opened.push(m);
        }
    return fn();
  } finally {
    for (const m of opened) m.releaseStreamed?.();
  }
}

/** The parameters as a name → variable map (the shape the optimiser and savers take). */
export function parameterMap(root: Module, opts: NamedParametersOptions = {}): Map<string, tf.Variable> {
  return new Map(namedParameters(root, opts));
}

/** The module at a dotted path (`''` is the root). Throws `ModulePathError` naming the missing segment. */
export function getModule(root: Module, path: string): Module {
  if (path === '') return root;
  let cur = root;
  const segs = path.split('.');
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i]!;
    const next = cur.namedChildren().find(([n]) => n === seg)?.[1];
    if (next === undefined) {
      const at = segs.slice(0, i).join('.') || '<root>';
      const have = cur.namedChildren().map(([n]) => n);
      throw new ModulePathError(
        `no child '${seg}' under '${at}' (path '${path}'); its children are [${have.join(', ')}]`,
      );
    }
    cur = next;
  }
  return cur;
}

/** Replaces the module at a dotted path with `child` (the parent's `setChild`). */
export function replaceModule(root: Module, path: string, child: Module): void {
  if (path === '') throw new ModulePathError('cannot replace the root module; wrap it yourself');
  const dot = path.lastIndexOf('.');
  const parent = dot < 0 ? root : getModule(root, path.slice(0, dot));
  const name = dot < 0 ? path : path.slice(dot + 1);
  if (!parent.namedChildren().some(([n]) => n === name)) {
    throw new ModulePathError(`cannot replace '${path}': the parent has no child '${name}'`);
  }
  parent.setChild(name, child);
}

/** Sets `training` on every module that has a mode (PyTorch's `model.train(mode)` / `model.eval()`). */
export function setTraining(root: Module, training: boolean): void {
  for (const [, m] of namedModules(root)) if ('training' in m) m.training = training;
}

/** Disposes every variable of the tree (each once). */
export function disposeModule(root: Module): void {
  for (const [, v] of namedParameters(root, { removeDuplicate: true })) v.dispose();
}

/**
 * A convenient base for modules: children and parameters kept in insertion-ordered maps.
 * Subclasses call `registerChild` / `registerParameter` in their constructor.
 */
export abstract class ModuleBase implements Module {
  training = false;
  private readonly children = new Map<string, Module>();
  private readonly params = new Map<string, tf.Variable>();
  private readonly streamed = new Map<string, WeightSource>();
  private readonly live = new Map<string, tf.Variable>();

  namedChildren(): Array<[string, Module]> {
    return [...this.children];
  }
  setChild(name: string, child: Module): void {
    this.children.set(name, child);
  }
  ownParameters(): Array<[string, tf.Variable]> {
    return [...this.params];
  }
  protected registerChild<M extends Module>(name: string, child: M): M {
    if (name.includes('.') || name === '')
      throw new ModulePathError(`child name '${name}' must be non-empty and contain no '.'`);
    this.children.set(name, child);
    return child;
  }
  ownStreamedParameters(): Array<[string, WeightSource]> {
    return [...this.streamed];
  }
  /** Whether the streamed parameters are materialised right now. */
  get streamedLive(): boolean {
    return this.live.size > 0;
  }
  materializeStreamed(): void {
    for (const [name, src] of this.streamed) {
      if (this.live.has(name)) continue;
      const t = src.materialize();
      if (t.shape.length !== src.shape.length || t.shape.some((d, i) => d !== src.shape[i]))
        throw new ModulePathError(`streamed parameter '${name}' materialised as [${t.shape}], expected [${src.shape}]`);
      this.live.set(name, tf.variable(t, false));
      t.dispose();
    }
  }
  releaseStreamed(): void {
    for (const [name, v] of this.live) {
      v.dispose();
      this.streamed.get(name)?.released?.();
    }
    this.live.clear();
  }
  /** A parameter kept outside the backend, materialised only inside `withStreamedWeights`. */
  protected registerStreamed(name: string, src: WeightSource): void {
    if (name.includes('.') || name === '')
      throw new ModulePathError(`parameter name '${name}' must be non-empty and contain no '.'`);
    this.streamed.set(name, src);
  }
  /**
   * The parameter `name`: the resident Variable, or the materialised streamed one; undefined when
   * there is none; throws `WeightNotResidentError` for a streamed one outside its block's scope.
   */
  protected parameter(name: string): tf.Variable | undefined {
    const v = this.params.get(name) ?? this.live.get(name);
    if (v !== undefined) return v;
    if (this.streamed.has(name))
      throw new WeightNotResidentError(
        `parameter '${name}' is streamed from a file and not materialised here; run the layer inside withStreamedWeights([layer], ...)`,
      );
    return undefined;
  }
  protected registerParameter(name: string, v: tf.Variable): tf.Variable {
    if (name.includes('.') || name === '')
      throw new ModulePathError(`parameter name '${name}' must be non-empty and contain no '.'`);
    this.params.set(name, v);
    return v;
  }
  /** The current child registered under `name` (after a possible `setChild` wrap). */
  protected child<M extends Module = Module>(name: string): M {
    const c = this.children.get(name);
    if (c === undefined) throw new ModulePathError(`no child '${name}'`);
    return c as M;
  }
}

/** A plain named container (PyTorch's ModuleDict); children keep insertion order. */
export class ModuleDict extends ModuleBase {
  constructor(entries: Iterable<[string, Module]> = []) {
    super();
    for (const [n, m] of entries) this.registerChild(n, m);
  }
  get(name: string): Module | undefined {
    return this.namedChildren().find(([n]) => n === name)?.[1];
  }
  set(name: string, m: Module): void {
    this.registerChild(name, m);
  }
}

/** A list of modules named `'0'`, `'1'`, ... (PyTorch's ModuleList). */
export class ModuleList<M extends Module = Module> extends ModuleBase {
  constructor(items: Iterable<M> = []) {
    super();
    let i = 0;
    for (const m of items) this.registerChild(String(i++), m);
  }
  get length(): number {
    return this.namedChildren().length;
  }
  /** The item at `i` (after any `setChild` wrap, so the type is `Module` unless you know better). */
  at(i: number): Module {
    const c = this.namedChildren()[i];
    if (c === undefined) throw new ModulePathError(`ModuleList index ${i} out of range (length ${this.length})`);
    return c[1];
  }
  push(m: M): void {
    this.registerChild(String(this.length), m);
  }
}

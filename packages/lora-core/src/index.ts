// Public API of @vla-lora/lora-core.
export * from './errors.js';
export {
  type Module,
  type NamedParametersOptions,
  namedModules,
  namedParameters,
  parameterMap,
  getModule,
  replaceModule,
  setTraining,
  disposeModule,
  ModuleBase,
  ModuleDict,
  ModuleList,
} from './module.js';
export { type LinearLike, type LinearOptions, Linear, linearApply, tensorFromPytorch, assignFromPytorch } from './linear.js';
export { flattenLeading, linear2d, loraDelta2d } from './matmul.js';

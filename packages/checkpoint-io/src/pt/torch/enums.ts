// Python enums that real checkpoints pickle, with their members. DeepSpeed writes `ZeroStageEnum.weights` as
// `ZeroStageEnum(3)` (REDUCE of the class with the value: CPython 3.8–3.10 and 3.12+) or, under CPython 3.11's
// Enum.__reduce_ex__, as `getattr(ZeroStageEnum, 'weights')` (REDUCE of builtins.getattr). Both decode to the
// same inert record, `PickleObject(module, name, [value])`. getattr is honoured ONLY for a class listed here
// and a member name listed here — never as a general attribute lookup.
import { PickleGlobal, PickleObject, type PickleValue } from '../pickle/values.js';

/** `module.Class` → member name → value. */
export const KNOWN_ENUMS: ReadonlyMap<string, ReadonlyMap<string, number>> = new Map([
  [
    'deepspeed.runtime.zero.config.ZeroStageEnum',
    new Map([
      ['disabled', 0],
      ['optimizer_states', 1],
      ['gradients', 2],
      ['weights', 3],
      ['max_stage', 3],
    ]),
  ],
]);

/** The record of `getattr(cls, member)` when `cls` is a known enum and `member` one of its names, else undefined. */
export function enumMember(cls: PickleValue | undefined, member: PickleValue | undefined): PickleObject | undefined {
  if (!(cls instanceof PickleGlobal) || typeof member !== 'string') return undefined;
  const value = KNOWN_ENUMS.get(cls.qualifiedName)?.get(member);
  if (value === undefined) return undefined;
  return new PickleObject(cls.module, cls.name, [value], undefined, 'reduce');
}

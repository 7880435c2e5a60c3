// Opcodes that name globals and "call" them. Nothing is ever called: a global is a PickleGlobal reference, and
// REDUCE / NEWOBJ / NEWOBJ_EX / INST / OBJ hand the callable and its arguments to the machine's `call` hook,
// which builds inert data. BUILD sets state on the inert result; persistent ids go to the persistentLoad hook.
import { PickleError, PickleUnsupportedOpcodeError } from '../errors.js';
import { describe, type OpHandlers } from './machine.js';
import { OP } from './opcodes.js';
import { PickleDict, PickleObject, type PickleValue } from './values.js';
import { latin1Encode } from '../bytes.js';

const utf8 = new TextDecoder('utf-8', { fatal: false });
const latin1ToUtf8 = (s: string): string => utf8.decode(latin1Encode(s));

export const globalOps: OpHandlers = {
  // "module\nname\n"
  GLOBAL: (m) => {
    const module = m.cursor.readline('GLOBAL', 4096);
    const name = m.cursor.readline('GLOBAL', 4096);
    m.push(m.global(latin1ToUtf8(module), latin1ToUtf8(name)));
  },
  STACK_GLOBAL: (m) => {
    const name = m.pop('STACK_GLOBAL');
    const module = m.pop('STACK_GLOBAL');
    if (typeof module !== 'string' || typeof name !== 'string') {
      throw new PickleError(`STACK_GLOBAL at byte ${m.opPos}: module and name must be strings`);
    }
    m.push(m.global(module, name));
  },
  EXT1: refuseExtension,
  EXT2: refuseExtension,
  EXT4: refuseExtension,
};

function refuseExtension(m: { opPos: number }, op: number): never {
  const n = op === OP.EXT1 ? 1 : op === OP.EXT2 ? 2 : 4;
  throw new PickleUnsupportedOpcodeError(
    op,
    m.opPos,
    `EXT${n} at byte ${m.opPos}: the copyreg extension registry is not supported (torch.save never uses it)`,
  );
}

export const callOps: OpHandlers = {
  REDUCE: (m) => {
    const args = m.pop('REDUCE');
    const callable = m.pop('REDUCE');
    m.push(m.call(callable, m.argsOf(args, 'REDUCE'), 'reduce'));
  },
  NEWOBJ: (m) => {
    const args = m.pop('NEWOBJ');
    const cls = m.pop('NEWOBJ');
    m.push(m.call(cls, m.argsOf(args, 'NEWOBJ'), 'newobj'));
  },
  NEWOBJ_EX: (m) => {
    const kwargs = m.pop('NEWOBJ_EX');
    const args = m.pop('NEWOBJ_EX');
    const cls = m.pop('NEWOBJ_EX');
    if (!(kwargs instanceof PickleDict)) throw new PickleError(`NEWOBJ_EX at byte ${m.opPos}: kwargs are not a dict`);
    m.push(m.call(cls, m.argsOf(args, 'NEWOBJ_EX'), 'newobj', kwargs));
  },
  // "module\nname\n" + MARK args
  INST: (m) => {
    const module = m.cursor.readline('INST', 4096);
    const name = m.cursor.readline('INST', 4096);
    const args = m.popMark('INST');
    m.push(m.call(m.global(module, name), args, 'inst'));
  },
  // MARK cls args...
  OBJ: (m) => {
    const items = m.popMark('OBJ');
    if (items.length === 0) throw new PickleError(`OBJ at byte ${m.opPos}: no class`);
    const [cls, ...args] = items;
    m.push(m.call(cls ?? null, args, 'inst'));
  },
  BUILD: (m) => {
    const state = m.pop('BUILD');
    const inst = m.top('BUILD');
    if (inst instanceof PickleObject) {
      if (inst.state instanceof PickleDict && state instanceof PickleDict)
        for (const [k, v] of state.entries) inst.state.set(k, v);
      else inst.state = state;
    } else if (inst instanceof PickleDict) {
      inst.state = state;
    } else if (hasPythonState(inst)) {
      inst.pythonState = state;
    } else {
      throw new PickleError(`BUILD at byte ${m.opPos}: cannot set state on a ${describe(inst)}`);
    }
  },
};

/** Values from layers above (a TorchTensor) that keep Python instance state in a `pythonState` field. */
function hasPythonState(v: PickleValue): v is PickleValue & { pythonState: PickleValue | undefined } {
  return typeof v === 'object' && v !== null && 'pythonState' in v;
}

export const persistentOps: OpHandlers = {
  BINPERSID: (m) => {
    const pid = m.pop('BINPERSID');
    if (!m.hooks.persistentLoad) throw new PickleError(`BINPERSID at byte ${m.opPos}: persistent id without a loader`);
    m.push(m.hooks.persistentLoad(pid));
  },
  // text
  PERSID: (m) => {
    const pid = m.cursor.readline('PERSID', 4096);
    if (!m.hooks.persistentLoad) throw new PickleError(`PERSID at byte ${m.opPos}: persistent id without a loader`);
    m.push(m.hooks.persistentLoad(pid));
  },
};

// A safe pickle virtual machine (protocols 0–5). It interprets opcodes into inert values and never calls
// anything: globals become PickleGlobal references, and REDUCE / NEWOBJ / INST / OBJ go through the `call`
// hook, which maps a fixed allow-list to constructors of plain data (see torch/globals.ts) and records
// everything else as a PickleObject. Every length is checked against the bytes actually present before
// anything is allocated. Handlers are grouped by kind in ops-*.ts and dispatched by opcode, as CPython's
// pickle.py does with its `dispatch` table.
import { PickleUnsupportedOpcodeError } from '../errors.js';
import { type OpHandler, type OpHandlers, PickleMachine, type UnpickleHooks, type UnpickleOptions } from './machine.js';
import { OP, type OpName } from './opcodes.js';
import { callOps, globalOps, persistentOps } from './ops-objects.js';
import { containerOps, itemOps } from './ops-containers.js';
import { scalarOps } from './ops-scalars.js';
import { memoOps, stackOps, streamOps } from './ops-stack.js';
import { bytesOps, stringOps } from './ops-strings.js';
import type { UnpickleResult } from './machine.js';

export type { CallKind, UnpickleHooks, UnpickleOptions, UnpickleResult } from './machine.js';

function dispatchTable(groups: OpHandlers[]): ReadonlyArray<OpHandler | undefined> {
  const table = new Array<OpHandler | undefined>(256).fill(undefined);
  for (const group of groups) {
    for (const [name, handler] of Object.entries(group)) table[OP[name as OpName]] = handler;
  }
  return table;
}

const DISPATCH = dispatchTable([
  streamOps,
  stackOps,
  memoOps,
  scalarOps,
  stringOps,
  bytesOps,
  containerOps,
  itemOps,
  globalOps,
  callOps,
  persistentOps,
]);

/**
 * Interprets one pickle starting at `start` of `data` until STOP. Throws PickleTruncatedError when `data` ends
 * first, PickleUnsupportedOpcodeError on an unknown opcode, PickleError on malformed streams.
 */
export function unpickle(
  data: Uint8Array,
  hooks: UnpickleHooks = {},
  options: UnpickleOptions = {},
  start = 0,
): UnpickleResult {
  const m = new PickleMachine(data, start, hooks, options);
  const c = m.cursor;
  for (;;) {
    c.opPos = c.pos;
    if (c.pos >= c.end) c.truncated('the opcode stream (no STOP)');
    const op = data[c.pos++] as number;
    const handler = DISPATCH[op];
    if (handler === undefined) throw new PickleUnsupportedOpcodeError(op, c.opPos);
    handler(m, op);
    if (m.result !== undefined) return m.result;
  }
}

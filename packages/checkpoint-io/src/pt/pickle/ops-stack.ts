// Opcodes that frame the stream and move values between the stack, the MARK stack and the memo.
import { PickleError } from '../errors.js';
import type { OpHandlers } from './machine.js';
import { HIGHEST_PROTOCOL } from './opcodes.js';

export const streamOps: OpHandlers = {
  PROTO: (m) => {
    const p = m.cursor.u8('PROTO');
    if (p > HIGHEST_PROTOCOL)
      throw new PickleError(`unsupported pickle protocol ${p} at byte ${m.opPos} (this reader knows 0–5)`);
  },
  // Framing is transparent; the length must fit.
  FRAME: (m) => m.cursor.need(m.cursor.u64('FRAME'), 'FRAME'),
  STOP: (m) => {
    const value = m.pop('STOP');
    m.result = { value, end: m.cursor.pos };
  },
};

export const stackOps: OpHandlers = {
  MARK: (m) => m.mark(),
  POP: (m) => {
    if (m.stack.length > 0) m.pop('POP');
    else m.popMark('POP');
  },
  POP_MARK: (m) => void m.popMark('POP_MARK'),
  DUP: (m) => m.push(m.top('DUP')),
};

export const memoOps: OpHandlers = {
  PUT: (m) => m.memoPut(m.textIndex('PUT'), m.top('PUT')),
  BINPUT: (m) => m.memoPut(m.cursor.u8('BINPUT'), m.top('BINPUT')),
  LONG_BINPUT: (m) => m.memoPut(m.cursor.u32('LONG_BINPUT'), m.top('LONG_BINPUT')),
  MEMOIZE: (m) => m.memoPut(m.memo.size, m.top('MEMOIZE')),
  GET: (m) => m.push(m.memoGet(m.textIndex('GET'))),
  BINGET: (m) => m.push(m.memoGet(m.cursor.u8('BINGET'))),
  LONG_BINGET: (m) => m.push(m.memoGet(m.cursor.u32('LONG_BINGET'))),
};

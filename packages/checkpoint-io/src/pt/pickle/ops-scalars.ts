// Opcodes that push constants and numbers: None, booleans, ints (binary, LONG1/LONG4, text) and floats.
import { PickleError, PickleLimitError } from '../errors.js';
import type { OpHandlers } from './machine.js';
import { decodeLong, parseTextFloat } from './text.js';

export const scalarOps: OpHandlers = {
  NONE: (m) => m.push(null),
  NEWTRUE: (m) => m.push(true),
  NEWFALSE: (m) => m.push(false),
  BININT1: (m) => m.push(m.cursor.u8('BININT1')),
  BININT2: (m) => m.push(m.cursor.u16('BININT2')),
  BININT: (m) => m.push(m.cursor.i32('BININT')),
  LONG1: (m) => {
    const n = m.cursor.u8('LONG1');
    m.push(decodeLong(m.cursor.take(n, 'LONG1')));
  },
  LONG4: (m) => {
    const n = m.cursor.i32('LONG4');
    if (n < 0) throw new PickleError(`LONG4 at byte ${m.opPos}: negative length`);
    if (n > m.maxIntBytes)
      throw new PickleLimitError(`LONG4 at byte ${m.opPos}: ${n}-byte integer exceeds maxIntBytes ${m.maxIntBytes}`);
    m.push(decodeLong(m.cursor.take(n, 'LONG4')));
  },
  // big-endian double
  BINFLOAT: (m) => m.push(m.cursor.f64be('BINFLOAT')),
  // text: "01"/"00" are True/False
  INT: (m) => {
    const line = m.cursor.readline('INT', m.maxIntBytes + 2);
    if (line === '01') m.push(true);
    else if (line === '00') m.push(false);
    else m.push(m.textInt(line, 'INT'));
  },
  LONG: (m) => m.push(m.textInt(m.cursor.readline('LONG', m.maxIntBytes + 2), 'LONG')),
  FLOAT: (m) => m.push(parseTextFloat(m.cursor.readline('FLOAT', 512), m.opPos)),
};

// Opcodes that push text and bytes: unicode strings, Python 2 strings, bytes, bytearrays and protocol 5 buffers.
import { PickleError, PickleUnsupportedOpcodeError } from '../errors.js';
import type { OpHandlers } from './machine.js';
import { escapeDecode, rawUnicodeEscapeDecode } from './text.js';

const utf8 = new TextDecoder('utf-8', { fatal: false });

export const stringOps: OpHandlers = {
  BINUNICODE: (m) => {
    const n = m.cursor.u32('BINUNICODE');
    m.push(utf8.decode(m.cursor.take(n, 'BINUNICODE')));
  },
  SHORT_BINUNICODE: (m) => {
    const n = m.cursor.u8('SHORT_BINUNICODE');
    m.push(utf8.decode(m.cursor.take(n, 'SHORT_BINUNICODE')));
  },
  BINUNICODE8: (m) => {
    const n = m.cursor.u64('BINUNICODE8');
    m.push(utf8.decode(m.cursor.take(n, 'BINUNICODE8')));
  },
  // raw-unicode-escape text
  UNICODE: (m) => m.push(rawUnicodeEscapeDecode(m.cursor.readlineBytes('UNICODE'), m.opPos)),
  // repr of a Python 2 str
  STRING: (m) => {
    const line = m.cursor.readline('STRING');
    const q = line[0];
    if (line.length < 2 || (q !== "'" && q !== '"') || line[line.length - 1] !== q) {
      throw new PickleError(`STRING at byte ${m.opPos}: the argument must be quoted`);
    }
    m.push(m.decodePy2Str(escapeDecode(line.slice(1, -1), m.opPos)));
  },
  BINSTRING: (m) => {
    const n = m.cursor.i32('BINSTRING');
    if (n < 0) throw new PickleError(`BINSTRING at byte ${m.opPos}: negative length`);
    m.push(m.decodePy2Str(m.cursor.take(n, 'BINSTRING')));
  },
  SHORT_BINSTRING: (m) => {
    const n = m.cursor.u8('SHORT_BINSTRING');
    m.push(m.decodePy2Str(m.cursor.take(n, 'SHORT_BINSTRING')));
  },
};

export const bytesOps: OpHandlers = {
  BINBYTES: (m) => {
    const n = m.cursor.u32('BINBYTES');
    m.push(m.cursor.take(n, 'BINBYTES').slice());
  },
  SHORT_BINBYTES: (m) => {
    const n = m.cursor.u8('SHORT_BINBYTES');
    m.push(m.cursor.take(n, 'SHORT_BINBYTES').slice());
  },
  BINBYTES8: (m) => {
    const n = m.cursor.u64('BINBYTES8');
    m.push(m.cursor.take(n, 'BINBYTES8').slice());
  },
  BYTEARRAY8: (m) => {
    const n = m.cursor.u64('BYTEARRAY8');
    m.push(m.cursor.take(n, 'BYTEARRAY8').slice());
  },
  NEXT_BUFFER: (m, op) => {
    throw new PickleUnsupportedOpcodeError(
      op,
      m.opPos,
      `NEXT_BUFFER at byte ${m.opPos}: out-of-band pickle buffers are not supported (torch.save never writes them)`,
    );
  },
  // a no-op on in-band bytes
  READONLY_BUFFER: (m) => void m.top('READONLY_BUFFER'),
};

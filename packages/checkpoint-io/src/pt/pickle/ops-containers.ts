// Opcodes that build lists, dicts, tuples and sets, and add items to them.
import { PickleError } from '../errors.js';
import { describe, type OpHandlers } from './machine.js';
import { PickleDict, PickleSet, PickleTuple, type PickleValue } from './values.js';

export const containerOps: OpHandlers = {
  EMPTY_LIST: (m) => m.push([]),
  EMPTY_DICT: (m) => m.push(new PickleDict(false)),
  EMPTY_TUPLE: (m) => m.push(new PickleTuple([])),
  EMPTY_SET: (m) => m.push(new PickleSet([], false)),
  TUPLE1: (m) => {
    const a = m.pop('TUPLE1');
    m.push(new PickleTuple([a]));
  },
  TUPLE2: (m) => {
    const b = m.pop('TUPLE2');
    const a = m.pop('TUPLE2');
    m.push(new PickleTuple([a, b]));
  },
  TUPLE3: (m) => {
    const c = m.pop('TUPLE3');
    const b = m.pop('TUPLE3');
    const a = m.pop('TUPLE3');
    m.push(new PickleTuple([a, b, c]));
  },
  TUPLE: (m) => m.push(new PickleTuple(m.popMark('TUPLE'))),
  LIST: (m) => m.push(m.popMark('LIST')),
  DICT: (m) => {
    const items = m.popMark('DICT');
    if (items.length % 2 !== 0) throw new PickleError(`DICT at byte ${m.opPos}: odd number of items`);
    const d = new PickleDict(false);
    for (let i = 0; i < items.length; i += 2) d.set(items[i] as PickleValue, items[i + 1] as PickleValue);
    m.push(d);
  },
  FROZENSET: (m) => m.push(new PickleSet(m.popMark('FROZENSET'), true)),
};

export const itemOps: OpHandlers = {
  APPEND: (m) => {
    const v = m.pop('APPEND');
    m.appendItems(m.top('APPEND'), [v], 'APPEND');
  },
  APPENDS: (m) => {
    const items = m.popMark('APPENDS');
    m.appendItems(m.top('APPENDS'), items, 'APPENDS');
  },
  SETITEM: (m) => {
    const v = m.pop('SETITEM');
    const k = m.pop('SETITEM');
    m.setItem(m.top('SETITEM'), k, v, 'SETITEM');
  },
  SETITEMS: (m) => {
    const items = m.popMark('SETITEMS');
    if (items.length % 2 !== 0) throw new PickleError(`SETITEMS at byte ${m.opPos}: odd number of items`);
    const target = m.top('SETITEMS');
    for (let i = 0; i < items.length; i += 2)
      m.setItem(target, items[i] as PickleValue, items[i + 1] as PickleValue, 'SETITEMS');
  },
  ADDITEMS: (m) => {
    const items = m.popMark('ADDITEMS');
    const target = m.top('ADDITEMS');
    if (!(target instanceof PickleSet) || target.frozen) {
      throw new PickleError(`ADDITEMS at byte ${m.opPos}: target is a ${describe(target)}, not a set`);
    }
    for (const it of items) target.items.push(it);
  },
};

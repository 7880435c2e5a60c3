// The wire encoding of a hand-built openpi client, written from openpi-client's msgpack_numpy (binary map keys
// b"__ndarray__", b"data", b"dtype", b"shape"), not from the policy server's code: shared by the tests and
// benchmarks that talk to the server as an independent client (policy-server's bench, vla-serve's bench and
// CLI test). A private workspace package: test and bench code only, never published.
import { Packr, Unpackr } from 'msgpackr';

/** Packs request maps (plain objects as msgpack maps, no records). */
export const packr = new Packr({ useRecords: false });
/** Unpacks replies into Maps (binary keys stay Buffers, as openpi's unpackb sees them). */
export const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: false });

const K = (s: string): Buffer => Buffer.from(s);

/** A numpy array as msgpack_numpy's pack_array writes it (`dtype` as numpy's `dtype.str`, e.g. '|u1', '<f4'). */
export const nd = (dtype: string, shape: number[], bytes: Uint8Array): Map<Buffer, unknown> =>
  new Map<Buffer, unknown>([
    [K('__ndarray__'), true],
    [K('data'), Buffer.from(bytes)],
    [K('dtype'), dtype],
    [K('shape'), shape],
  ]);

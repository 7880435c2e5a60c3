// Writes safetensors files with this package for scripts/python-interop.py to load with Python's
// safetensors + torch. Run from the repository root:
//   npx tsx packages/checkpoint-io/scripts/python-interop.ts /tmp/interop
//   PYTHONPATH=<dir with the safetensors wheel unpacked> /usr/bin/python3 packages/checkpoint-io/scripts/python-interop.py /tmp/interop
import { join } from 'node:path';
import {
  DTYPES,
  DTYPE_ITEMSIZE,
  fromFloat32,
  writeSafetensors,
  writeSafetensorsSharded,
  type SafetensorsEntry,
} from '../src/index.js';

const out = process.argv[2] ?? '/tmp/interop';
const entries: SafetensorsEntry[] = DTYPES.map((dtype, i) => ({
  name: `t_${dtype}`,
  dtype,
  shape: [2, 3],
  data: new Uint8Array(6 * DTYPE_ITEMSIZE[dtype]).map((_, j) => (dtype === 'BOOL' ? j & 1 : (i * 31 + j * 7) & 0x3f)),
}));
const v = new Float32Array([0.1, -2.5, 3.14159, 1e-3, 65504, -0]);
for (const d of ['BF16', 'F16'] as const)
  entries.push({ name: `conv_${d}`, dtype: d, shape: [6], data: fromFloat32(v, [6], d).bytes });
await writeSafetensors(join(out, 'all.safetensors'), entries, { metadata: { format: 'pt', note: 'é' } });
await writeSafetensorsSharded(join(out, 'sharded'), entries, { maxShardSize: 64, metadata: { format: 'pt' } });
console.log(`wrote ${join(out, 'all.safetensors')} and ${join(out, 'sharded')}/`);

// Reads a TensorBoard event file with a reader that is not ours: TensorBoard's event.proto/summary.proto
// (test-data/tensorboard-proto) compiled by Debian's protoc, parsed by /usr/bin/python3 + python3-protobuf.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PROTO = fileURLToPath(new URL('../test-data/tensorboard-proto', import.meta.url));
const PY = '/usr/bin/python3';

/** Whether protoc and python3-protobuf are installed (CI's .ci/run installs them). */
export const haveTensorBoardReader =
  existsSync('/usr/bin/protoc') && spawnSync(PY, ['-c', 'import google.protobuf'], { stdio: 'ignore' }).status === 0;

export interface ReadBack {
  records: number;
  events: Array<{
    wall_time: number;
    step: number;
    what: string;
    file_version?: string;
    values?: Array<[string, number, string]>;
  }>;
}

let compiled: Promise<string> | undefined;

/** Parses every record of `file` (framing and masked CRC-32C checked); throws on any error. */
export async function readEventFile(file: string): Promise<ReadBack> {
  compiled ??= (async () => {
    const out = await mkdtemp(join(tmpdir(), 'tb-pb2-'));
    execFileSync('/usr/bin/protoc', [
      `-I${PROTO}`,
      `--python_out=${out}`,
      'tensorboard/compat/proto/event.proto',
      'tensorboard/compat/proto/summary.proto',
    ]);
    return out;
  })();
  const out = await compiled;
  return JSON.parse(
    execFileSync(PY, [join(PROTO, 'read_events.py'), out, file], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  ) as ReadBack;
}

// PyTorch as the oracle (Debian's python3-torch 1.13 at /usr/bin/python3): files we write load in torch.load,
// and files torch writes (protocols 2/4/5, legacy, parameters, views, NaN/Inf/-0, big ints) read exactly.
// Skipped, with the reason in the suite name, where torch is not installed (CI): the fixture tests and our own
// round trips are the checks that always run.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TORCH_DTYPE_ITEMSIZE, type TorchDtype } from './torch/dtypes.js';
import { PtTensorData, PyFloat, ptDict, ptTuple } from './torch/pickler.js';
import { readPt } from './read.js';
import { diffAgainstJson, parsePythonJson } from '../../test-support/pt-json.js';
import { PickleSet } from './pickle/values.js';
import { TorchSize } from './torch/values.js';
import { writePt } from './write.js';

const PYTHON = '/usr/bin/python3';
const ORACLE = fileURLToPath(new URL('./torch-oracle.py', import.meta.url));
const probe = spawnSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
const torchVersion = probe.status === 0 ? probe.stdout.trim() : undefined;
const title = torchVersion
  ? `torch ${torchVersion} as oracle`
  : `torch as oracle — SKIPPED: ${PYTHON} cannot import torch (apt-get install python3-torch to run it)`;

const dir = mkdtempSync(join(tmpdir(), 'pt-oracle-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Described {
  torch: string;
  results: Array<{ ok: true; value: unknown } | { ok: false; error: string }>;
}

/** One interpreter start: torch.save the tricky cases into `made`, torch.load each of `files`. */
function runOracle(made: string, files: Array<[string, boolean]>): Described {
  const out = join(dir, 'described.json');
  const r = spawnSync(PYTHON, [ORACLE, 'run', made, out, ...files.flatMap(([f, wo]) => [f, wo ? '1' : '0'])], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (r.status !== 0) throw new Error(`torch oracle failed: ${r.stderr}`);
  return parsePythonJson(readFileSync(out, 'utf8')) as Described;
}

// Dtypes torch 1.13 has (uint16/32/64 and float8 arrived later; complex has no JSON description here).
const ORACLE_DTYPES: TorchDtype[] = [
  'float64',
  'float32',
  'float16',
  'bfloat16',
  'int64',
  'int32',
  'int16',
  'int8',
  'uint8',
  'bool',
];

function sample(dtype: TorchDtype, n: number): Uint8Array {
  const size = TORCH_DTYPE_ITEMSIZE[dtype];
  const b = new Uint8Array(n * size);
  const dv = new DataView(b.buffer);
  for (let i = 0; i < n; i++) {
    const x = ((i * 7) % 11) - 5;
    switch (dtype) {
      case 'float64':
        dv.setFloat64(i * 8, x / 3, true);
        break;
      case 'float32':
        dv.setFloat32(i * 4, x / 3, true);
        break;
      case 'float16':
      case 'bfloat16':
        // exact small values: x * 0.25 in both encodings
        dv.setUint16(i * 2, dtype === 'bfloat16' ? bf16Of(x * 0.25) : f16Of(x * 0.25), true);
        break;
      case 'int64':
        dv.setBigInt64(i * 8, BigInt(x) * 1_000_000_007n, true);
        break;
      case 'int32':
        dv.setInt32(i * 4, x * 100_003, true);
        break;
      case 'int16':
        dv.setInt16(i * 2, x * 1001, true);
        break;
      case 'int8':
        dv.setInt8(i, x * 20);
        break;
      case 'uint8':
        dv.setUint8(i, (x + 5) * 23);
        break;
      case 'bool':
        dv.setUint8(i, i % 3 === 0 ? 1 : 0);
        break;
      default:
        throw new Error(dtype);
    }
  }
  return b;
}
function bf16Of(v: number): number {
  return new Uint32Array(new Float32Array([v]).buffer)[0]! >>> 16;
}
function f16Of(v: number): number {
  if (v === 0) return Object.is(v, -0) ? 0x8000 : 0;
  const sign = v < 0 ? 0x8000 : 0;
  const a = Math.abs(v);
  const e = Math.floor(Math.log2(a));
  return sign | ((e + 15) << 10) | Math.round((a / 2 ** e - 1) * 1024);
}

describe.skipIf(!torchVersion)(title, () => {
  const ours = join(dir, 'ours.pt');
  const viewsRewritten = join(dir, 'views-rewritten.pt');
  const floats = join(dir, 'floats.pt');
  const made = join(dir, 'made');
  let described: Described;

  beforeAll(async () => {
    const sd = ptDict(
      [
        ...ORACLE_DTYPES.map((d): [string, PtTensorData] => [d, new PtTensorData(d, [2, 3], sample(d, 6))]),
        ['scalar', new PtTensorData('float32', [], sample('float32', 1))],
        ['empty', new PtTensorData('bfloat16', [0, 3], new Uint8Array(0))],
        ['param', new PtTensorData('float32', [2], sample('float32', 2), { parameter: true, requiresGrad: true })],
      ],
      true,
    );
    await writePt(ours, {
      state_dict: sd,
      step: 250,
      big: 2 ** 40,
      huge: 2n ** 70n,
      neg: -7,
      name: 'step-000250',
      flags: [true, false, null],
      shape: new TorchSize([4, 3]),
      pair: ptTuple(1, 'a'),
      keys: new Map([[0, 'x']]),
    });
    // Views and shared storages read from a torch fixture, written back by us.
    const views = await readPt(
      fileURLToPath(new URL('../../../../fixtures/torch-pt/torch-2.11/views.pt', import.meta.url)),
    );
    await writePt(viewsRewritten, views.root);
    await views.close();
    await writePt(floats, {
      lr: 0.001,
      betas: ptTuple(0.9, 0.999),
      one: new PyFloat(1),
      nan: NaN,
      inf: -Infinity,
      negzero: -0,
      blob: Uint8Array.of(0, 255, 7),
      tags: new PickleSet(['a'], false),
    });
    described = runOracle(made, [
      [ours, true],
      [viewsRewritten, true],
      [floats, false],
    ]);
  }, 120_000);

  async function expectTorchSawWhatWeRead(file: string, index: number): Promise<void> {
    const res = described.results[index];
    expect(res?.ok, res && !res.ok ? res.error : '').toBe(true);
    const back = await readPt(file);
    try {
      expect(await diffAgainstJson(back.root, (res as { value: unknown }).value)).toEqual([]);
    } finally {
      await back.close();
    }
  }

  it('torch.load(weights_only=True) loads what writePt writes: every dtype, parameters, containers, ints', async () => {
    await expectTorchSawWhatWeRead(ours, 0);
    // What torch loaded is what we meant (not only what our reader reads back).
    const top = (described.results[0] as { value: { __dict__: Array<[string, unknown]> } }).value.__dict__;
    const sd = (
      top[0] as [string, { __dict__: Array<[string, { dtype: string; shape: number[]; values: number[] }]> }]
    )[1].__dict__;
    expect(sd.map(([k, t]) => [k, t.dtype])).toEqual([
      ...ORACLE_DTYPES.map((d) => [d, d]),
      ['scalar', 'float32'],
      ['empty', 'bfloat16'],
      ['param', 'float32'],
    ]);
    const xs = Array.from({ length: 6 }, (_, i) => ((i * 7) % 11) - 5);
    expect(sd.find(([k]) => k === 'int64')?.[1].values).toEqual(xs.map((x) => x * 1_000_000_007));
    expect(sd.find(([k]) => k === 'bfloat16')?.[1].values).toEqual(xs.map((x) => x * 0.25));
    expect(sd.find(([k]) => k === 'float16')?.[1].values).toEqual(xs.map((x) => x * 0.25));
    expect(sd.find(([k]) => k === 'bool')?.[1].values).toEqual([1, 0, 0, 1, 0, 0]);
    expect(sd.find(([k]) => k === 'empty')?.[1].shape).toEqual([0, 3]);
    expect(top.find(([k]) => k === 'huge')?.[1]).toEqual({ __bigint__: String(2n ** 70n) });
  });

  it('torch.load(weights_only=True) loads re-written views with their offsets, strides and shared storage', async () => {
    await expectTorchSawWhatWeRead(viewsRewritten, 1);
  });

  it('floats, bytes and sets load with torch.load (torch 1.13 weights_only has no BINFLOAT: full unpickler)', async () => {
    await expectTorchSawWhatWeRead(floats, 2);
  });

  it('reads what torch.save writes with pickle protocols 2, 4, 5 and the legacy format, exactly', async () => {
    const cases = readdirSync(made).filter((f) => f.endsWith('.pt'));
    expect(cases.sort()).toEqual(['tricky_legacy.pt', 'tricky_p2.pt', 'tricky_p4.pt', 'tricky_p5.pt']);
    for (const c of cases) {
      const expected = parsePythonJson(readFileSync(join(made, c.replace(/\.pt$/, '.json')), 'utf8')) as {
        value: unknown;
        legacy: boolean;
      };
      const pt = await readPt(join(made, c));
      try {
        expect(pt.format, c).toBe(expected.legacy ? 'legacy' : 'zip');
        expect(await diffAgainstJson(pt.root, expected.value), c).toEqual([]);
      } finally {
        await pt.close();
      }
    }
  });
});

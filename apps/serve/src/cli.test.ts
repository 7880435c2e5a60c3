// The real CLI, spawned: it serves the tiny pi0 to clients written from the protocol description
// (a Python numpy/msgpack/websockets client as openpi's, and a hand-built JS msgpack client), with
// the same actions as an in-process call of the same policy; it refuses unverifiable adapters with
// the reason and exit code 1; SIGTERM finishes in-flight work and exits 0.
import { execFile, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { nd, packr, unpackr } from '@vla-lora/test-openpi-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { float32NdArray, uint8NdArray } from '@vla-lora/policy-server';
import { rawUpgrade } from '@vla-lora/policy-server/test-support';
import { getTrainConfig, ServedPi0 } from '@vla-lora/pi0';
import { loadPolicy, type LoadedPolicy } from './load-policy.js';
import {
  copyDir,
  cutRank,
  editedAdapter,
  FIXTURES,
  makeTinyRun,
  maxAbsDiff,
  setupBackend,
  tempDir,
  tinyObservation,
  type TinyRun,
} from '@vla-lora/pi0/test-support';
import { LOCAL_WASM, spawnServe } from '../test-support/spawn.js';
import { seededServeArgs, trainForServing } from '../test-support/train.js';

const execFileAsync = promisify(execFile);
const PY_CLIENT = fileURLToPath(new URL('../test-support/libero_client.py', import.meta.url));
const pythonOk =
  spawnSync('/usr/bin/python3', ['-c', 'import msgpack, websockets, numpy'], { stdio: 'ignore' }).status === 0;

let tmp: Awaited<ReturnType<typeof tempDir>>;
let run: TinyRun;
let reference: LoadedPolicy;

beforeAll(async () => {
  await setupBackend();
  tmp = await tempDir('vla-serve-cli-');
  run = await makeTinyRun(tmp.path);
  reference = await loadPolicy({ config: run.config, baseWeights: run.baseDir, adapter: run.adapterDir });
}, 120_000);
afterAll(async () => {
  reference?.dispose();
  await tmp?.remove();
});

const serveArgs = (extra: string[] = []): string[] => [
  '--config',
  run.config,
  '--base-weights',
  run.baseDir,
  '--adapter',
  run.adapterDir,
  ...LOCAL_WASM,
  ...extra,
];

/** The in-process answer: a fresh ServedPi0 on the reference policy, fed the same requests in order. */
async function inProcess(
  reqs: Array<{ seed: number; noise_seed?: number; drop?: string }>,
  serverSeed = 0,
): Promise<Array<Float32Array | string>> {
  const served = new ServedPi0({
    policy: reference.policy,
    trainConfig: reference.trainConfig,
    normStats: reference.normStats,
    seed: serverSeed,
  });
  const out: Array<Float32Array | string> = [];
  for (const r of reqs) {
    const o = tinyObservation(r.seed);
    const obs: Record<string, unknown> = {
      'observation/image': uint8NdArray(o.image, [32, 32, 3]),
      'observation/wrist_image': uint8NdArray(o.wristImage, [32, 32, 3]),
      'observation/state': float32NdArray(o.state, [8]),
      prompt: o.prompt,
    };
    if (r.noise_seed !== undefined) obs['noise_seed'] = r.noise_seed;
    if (r.drop) delete obs[r.drop];
    try {
      const res = await served.infer(obs as Parameters<ServedPi0['infer']>[0]);
      const a = res['actions'] as { data: Uint8Array };
      out.push(new Float32Array(a.data.slice().buffer));
    } catch (e) {
      out.push((e as Error).message);
    }
  }
  return out;
}

describe.skipIf(!pythonOk)('vla-serve with an openpi-style Python client', () => {
  it('serves actions equal to an in-process call of the same policy', async () => {
    const p = spawnServe(serveArgs());
    try {
      const port = await p.listening;
      expect(p.stdout()).toMatch(/LoRA: 56 tensors, 25,088 values, unmerged/);
      expect(p.stdout()).toMatch(/trained heads: 10 tensors, 6,304 values/);
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(health.status).toBe(200);
      const meta = (await (await fetch(`http://127.0.0.1:${port}/metadata`)).json()) as Record<string, unknown>;
      expect(meta).toMatchObject({
        config: run.config,
        action_horizon: 10,
        action_dim: 7,
        state_dim: 8,
        image_size: 32,
        lora: { tensors: 56, values: 25088, merged: false },
      });

      const plan = [
        { seed: 1 },
        { seed: 2, drop: 'observation/wrist_image' },
        { seed: 2, noise_seed: 123 },
        { seed: 3 },
        { seed: 1 },
      ];
      const payload = plan.map((r) => {
        const o = tinyObservation(r.seed);
        return {
          image: Array.from(o.image),
          wrist_image: Array.from(o.wristImage),
          state: Array.from(o.state),
          prompt: o.prompt,
          size: 32,
          ...r,
        };
      });
      const child = execFileAsync('/usr/bin/python3', [PY_CLIENT, `ws://127.0.0.1:${port}`], { encoding: 'utf8' });
      child.child.stdin!.end(JSON.stringify(payload));
      const lines = (await child).stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines[0]).toMatchObject({ event: 'metadata', metadata: { action_horizon: 10, action_dim: 7 } });
      const want = await inProcess(plan);
      const replies = lines.slice(1);
      expect(replies).toHaveLength(plan.length);
      replies.forEach((r, i) => {
        const w = want[i]!;
        if (typeof w === 'string') {
          expect(r).toMatchObject({ event: 'error' });
          expect(r['text']).toBe(`BadRequestError: ${w}`);
          expect(r['text']).toMatch(/missing "observation\/wrist_image"/);
          return;
        }
        expect(r).toMatchObject({ event: 'reply', dtype: '<f4', shape: [10, 7], policy_timing: ['infer_ms'] });
        expect(r['server_timing']).toEqual(i === 0 ? ['infer_ms'] : ['infer_ms', 'prev_total_ms']);
        expect(maxAbsDiff(r['actions'] as number[], w)).toBe(0);
      });
      // request 0 and request 4 are the same observation with different default noise (index 0 vs 3)
      expect(maxAbsDiff(want[0] as Float32Array, want[4] as Float32Array)).toBeGreaterThan(1e-3);
    } finally {
      p.child.kill('SIGTERM');
      await p.exited;
    }
  }, 120_000);
});

// --- a hand-built JS client (ws + @vla-lora/test-openpi-client: binary keys as openpi writes them) ---

class JsClient {
  readonly ws: WebSocket;
  private queue: Array<{ data: Buffer; binary: boolean }> = [];
  private waiting: Array<(m: { data: Buffer; binary: boolean }) => void> = [];
  readonly closed: Promise<number>;
  constructor(url: string) {
    this.ws = new WebSocket(url, { perMessageDeflate: false });
    this.ws.on('message', (data: Buffer, binary: boolean) => {
      const w = this.waiting.shift();
      if (w) w({ data, binary });
      else this.queue.push({ data, binary });
    });
    this.closed = new Promise((resolve) => this.ws.once('close', (code: number) => resolve(code)));
  }
  async open(): Promise<Map<unknown, unknown>> {
    await new Promise<void>((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
    return unpackr.unpack((await this.next()).data) as Map<unknown, unknown>;
  }
  next(): Promise<{ data: Buffer; binary: boolean }> {
    const m = this.queue.shift();
    return m ? Promise.resolve(m) : new Promise((resolve) => this.waiting.push(resolve));
  }
  send(seed: number, noiseSeed?: number): void {
    const o = tinyObservation(seed);
    const obs: Record<string, unknown> = {
      'observation/image': nd('|u1', [32, 32, 3], o.image),
      'observation/wrist_image': nd('|u1', [32, 32, 3], o.wristImage),
      'observation/state': nd('<f4', [8], new Uint8Array(o.state.buffer)),
      prompt: o.prompt,
    };
    if (noiseSeed !== undefined) obs['noise_seed'] = noiseSeed;
    this.ws.send(packr.pack(obs));
  }
  async actions(): Promise<Float32Array> {
    const m = await this.next();
    if (!m.binary) throw new Error(m.data.toString());
    const reply = unpackr.unpack(m.data) as Map<string, unknown>;
    const a = reply.get('actions') as Map<Buffer, unknown>;
    const get = (k: string): unknown => [...a].find(([key]) => key.toString() === k)?.[1];
    expect(get('dtype')).toBe('<f4');
    expect(get('shape')).toEqual([10, 7]);
    const data = get('data') as Buffer;
    return new Float32Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  }
}

describe('vla-serve with hand-built JS clients', () => {
  it('serves concurrent clients (each its own answer) and shuts down gracefully on SIGTERM', async () => {
    const p = spawnServe(serveArgs(['--merge', '--seed', '11', '--max-frame-bytes', '16384']));
    const port = await p.listening;
    expect(p.stdout()).toMatch(/LoRA: 56 tensors, 25,088 values, merged/);
    const clients = Array.from({ length: 4 }, () => new JsClient(`ws://127.0.0.1:${port}`));
    const metas = await Promise.all(clients.map((c) => c.open()));
    expect(metas.every((m) => m.get('action_dim') === 7)).toBe(true);
    clients.forEach((c, i) => c.send(i + 1, 1000 + i));
    const got = await Promise.all(clients.map((c) => c.actions()));
    const want = await inProcess(clients.map((_, i) => ({ seed: i + 1, noise_seed: 1000 + i })));
    // merged weights: equal to the unmerged in-process policy up to float rounding
    got.forEach((g, i) => expect(maxAbsDiff(g, want[i] as Float32Array)).toBeLessThan(1e-4));

    // an oversized frame closes that connection (1009); malformed msgpack is answered and the connection kept
    const big = new JsClient(`ws://127.0.0.1:${port}`);
    await big.open();
    big.ws.send(Buffer.alloc(20_000, 1));
    expect(await big.closed).toBe(1009);
    clients[1]!.ws.send(Buffer.from([0xc1, 0x00]));
    expect((await clients[1]!.next()).data.toString()).toMatch(/^BadRequestError: malformed msgpack/);
    clients[1]!.send(2, 1001);
    expect(maxAbsDiff(await clients[1]!.actions(), want[1] as Float32Array)).toBeLessThan(1e-4);

    // A client that upgraded by hand and then never reads nor answers the close frame: it must not
    // hold the exit back (ws alone waits 30 s for it).
    const stuck = await rawUpgrade(port);
    expect(stuck.status).toBe('HTTP/1.1 101 Switching Protocols');

    // SIGTERM with a request in flight: it is answered, then clients are closed with 1001, exit 0
    clients[0]!.send(7);
    await new Promise((r) => setTimeout(r, 20));
    const sigtermAt = performance.now();
    p.child.kill('SIGTERM');
    // the handler logs, then starts closing in the same tick: once the line is out, the server is closing
    await p.printed(/SIGTERM: finishing in-flight requests and closing/);
    // while closing, a new upgrade is refused with 503 (not 404 or a dropped connection)
    expect((await rawUpgrade(port)).status).toBe('HTTP/1.1 503 Service Unavailable');
    const last = await clients[0]!.actions();
    expect(last).toHaveLength(70);
    expect(await Promise.all(clients.map((c) => c.closed))).toEqual([1001, 1001, 1001, 1001]);
    expect(await p.exited).toEqual({ code: 0, signal: null });
    expect(performance.now() - sigtermAt).toBeLessThan(5000);
    stuck.socket.destroy();
    expect(p.stdout()).toMatch(/SIGTERM: finishing in-flight requests and closing/);
    expect(p.stdout()).toMatch(/closed after 6 requests/);
  }, 120_000);
});

describe('vla-serve on a run the trainer wrote', () => {
  it('serves the adapter + heads of a few real training steps (seeded base, norm stats from the data root)', async () => {
    const cfg = getTrainConfig('pi0_libero_lora_smoke');
    const { trained, dataRoot, adapter } = await trainForServing(tmp.path, cfg, 'smoke');
    expect(trained.loop.stoppedBy).toBe('completed');
    const p = spawnServe(seededServeArgs(cfg.name, adapter, dataRoot));
    const local = await loadPolicy({ config: cfg.name, seededBase: true, adapter, dataRoot });
    try {
      const port = await p.listening;
      expect(p.stdout()).toMatch(/LoRA: 56 tensors, 25,088 values, unmerged/);
      expect(p.stdout()).toMatch(/trained heads: 10 tensors, 6,304 values/);
      const c = new JsClient(`ws://127.0.0.1:${port}`);
      await c.open();
      c.send(4, 77);
      const got = await c.actions();
      const served = new ServedPi0({
        policy: local.policy,
        trainConfig: local.trainConfig,
        normStats: local.normStats,
      });
      const o = tinyObservation(4);
      const want = (
        await served.infer({
          'observation/image': uint8NdArray(o.image, [32, 32, 3]),
          'observation/wrist_image': uint8NdArray(o.wristImage, [32, 32, 3]),
          'observation/state': float32NdArray(o.state, [8]),
          prompt: o.prompt,
          noise_seed: 77,
        })
      )['actions'] as { data: Uint8Array };
      expect(maxAbsDiff(got, new Float32Array(want.data.slice().buffer))).toBe(0);
      c.ws.close();
    } finally {
      local.dispose();
      p.child.kill('SIGTERM');
      await p.exited;
    }
  }, 120_000);
});

describe('vla-serve refuses to start', () => {
  const refused = async (args: string[], re: RegExp, code = 1): Promise<void> => {
    const p = spawnServe(args);
    const { code: exit } = await p.exited;
    expect(exit).toBe(code);
    expect(p.stderr()).toMatch(re);
    expect(p.stdout()).not.toMatch(/listening/);
  };

  it('on the ZeRO-3 40-byte placeholder adapter, an adapter for another model, and a different rank', async () => {
    const placeholder = await copyDir(
      join(FIXTURES, 'zero/zero3-w4-bf16/checkpoint-5000'),
      join(tmp.path, 'placeholder'),
    );
    const rank4 = await editedAdapter(run.adapterDir, join(tmp.path, 'rank4'), (a) => cutRank(a, 4));
    const common = [
      '--config',
      run.config,
      '--base-weights',
      run.baseDir,
      '--trainable',
      run.trainablePath,
      '--norm-stats',
      run.normStatsPath,
      '--port',
      '0',
      '--backend',
      'wasm',
    ];
    await Promise.all([
      refused(
        [...common, '--adapter', placeholder],
        /^vla-serve: AdapterRefusedError: refusing adapter .*adapter_model\.safetensors \(40 bytes\) holds no tensors .*ZeRO/m,
      ),
      refused(
        [...common, '--adapter', join(FIXTURES, 'peft-tiny-gemma/adapter')],
        /AdapterRefusedError: .*28 adapter tensor\(s\) belong to no LoRA-wrapped module of this model .*another model or other target modules; 28 of the model's 28 wrapped modules get no LoRA weights/,
      ),
      refused(
        [...common, '--adapter', rank4],
        /AdapterRefusedError: .*rank mismatch in 28 module\(s\): the config builds r=8 for .*, the adapter has r=4/,
      ),
    ]);
  }, 120_000);
});

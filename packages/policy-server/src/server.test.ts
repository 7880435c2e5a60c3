// Drives the server with a client written from openpi's protocol description, independent of the
// server's encoder: requests are msgpack maps built here by hand with binary-keyed ndarray maps.
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { Packr, Unpackr } from 'msgpackr';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { BadRequestError } from './errors.js';
import { float32NdArray, ndArrayToFloat64, NdArray } from './protocol/ndarray.js';
import type { ServedPolicy } from './policy.js';
import { startPolicyServer, type RunningPolicyServer } from './server.js';

const execFileAsync = promisify(execFile);

// --- the independent client -------------------------------------------------------------------
const clientPackr = new Packr({ useRecords: false });
const clientUnpackr = new Unpackr({ useRecords: false, mapsAsObjects: false });
const b = (s: string) => Buffer.from(s);
function npArray(dtype: string, shape: number[], bytes: Uint8Array): Map<Buffer, unknown> {
  return new Map<Buffer, unknown>([
    [b('__ndarray__'), true],
    [b('data'), Buffer.from(bytes)],
    [b('dtype'), dtype],
    [b('shape'), shape],
  ]);
}
function decodeNp(m: Map<unknown, unknown>): { dtype: string; shape: number[]; data: Buffer } {
  const get = (k: string) => [...m].find(([key]) => Buffer.isBuffer(key) && key.toString() === k)?.[1];
  expect(get('__ndarray__')).toBe(true);
  return { dtype: get('dtype') as string, shape: get('shape') as number[], data: get('data') as Buffer };
}

class Client {
  private ws: WebSocket;
  private inbox: Array<{ data: Buffer; binary: boolean }> = [];
  private waiters: Array<(m: { data: Buffer; binary: boolean }) => void> = [];
  closed: { code: number } | null = null;
  constructor(url: string) {
    this.ws = new WebSocket(url, { perMessageDeflate: false });
    this.ws.on('message', (data: Buffer, binary: boolean) => {
      const w = this.waiters.shift();
      if (w) w({ data, binary });
      else this.inbox.push({ data, binary });
    });
    this.ws.on('close', (code: number) => {
      this.closed = { code };
    });
  }
  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
  }
  next(): Promise<{ data: Buffer; binary: boolean }> {
    const m = this.inbox.shift();
    if (m) return Promise.resolve(m);
    return new Promise((resolve) => this.waiters.push(resolve));
  }
  sendRaw(bytes: Uint8Array | string): void {
    this.ws.send(bytes);
  }
  async infer(obs: Record<string, unknown>): Promise<Map<unknown, unknown> | string> {
    this.ws.send(clientPackr.pack(obs));
    const m = await this.next();
    return m.binary ? (clientUnpackr.unpack(m.data) as Map<unknown, unknown>) : m.data.toString();
  }
  close(): void {
    this.ws.close();
  }
  closedPromise(): Promise<number> {
    if (this.closed) return Promise.resolve(this.closed.code);
    return new Promise((resolve) => this.ws.once('close', (code: number) => resolve(code)));
  }
}

// --- a small deterministic policy under test ----------------------------------------------------
// actions[h][d] = mean(state) * (h + 1) + d: checks that the state reached the policy intact.
const H = 4;
const D = 3;
function refActions(state: Float32Array): Float32Array {
  const mean = state.reduce((a, v) => a + v, 0) / state.length;
  const out = new Float32Array(H * D);
  for (let h = 0; h < H; h++) for (let d = 0; d < D; d++) out[h * D + d] = mean * (h + 1) + d;
  return out;
}
const policy: ServedPolicy = {
  metadata: { action_horizon: H, action_dim: D, name: 'test-policy' },
  infer(obs) {
    const state = obs['observation/state'];
    if (!(state instanceof NdArray)) throw new BadRequestError('missing "observation/state" (float array)');
    if (state.shape.length !== 1 || state.shape[0] !== 8)
      throw new BadRequestError(`"observation/state" must have shape [8], got [${state.shape.join(', ')}]`);
    if (obs['explode'] === true) throw new Error('policy exploded');
    const s = Float32Array.from(ndArrayToFloat64(state));
    return { actions: float32NdArray(refActions(s), [H, D]), policy_timing: { infer_ms: 0.1 } };
  },
};

let server: RunningPolicyServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

const state8 = () => new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]);
const obsWith = (state: Float32Array) => ({
  'observation/state': npArray('<f4', [8], new Uint8Array(state.buffer)),
  'observation/image': npArray('|u1', [2, 2, 3], new Uint8Array(12)),
  prompt: 'pick up the red block',
});

describe('policy server (openpi protocol)', () => {
  it('sends metadata on connect, answers with actions and server_timing', async () => {
    server = await startPolicyServer({ policy, port: 0 });
    const c = new Client(server.url);
    await c.open();
    const meta = clientUnpackr.unpack((await c.next()).data) as Map<string, unknown>;
    expect(meta.get('action_horizon')).toBe(H);
    expect(meta.get('name')).toBe('test-policy');

    const r1 = await c.infer(obsWith(state8()));
    expect(r1).toBeInstanceOf(Map);
    const reply = r1 as Map<string, unknown>;
    const actions = decodeNp(reply.get('actions') as Map<unknown, unknown>);
    expect(actions.dtype).toBe('<f4');
    expect(actions.shape).toEqual([H, D]);
    const got = new Float32Array(
      actions.data.buffer.slice(actions.data.byteOffset, actions.data.byteOffset + actions.data.byteLength),
    );
    expect(Array.from(got)).toEqual(Array.from(refActions(state8())));
    const timing1 = reply.get('server_timing') as Map<string, number>;
    expect(timing1.get('infer_ms')).toBeGreaterThanOrEqual(0);
    expect(timing1.has('prev_total_ms')).toBe(false);
    expect((reply.get('policy_timing') as Map<string, number>).get('infer_ms')).toBe(0.1);

    const r2 = (await c.infer(obsWith(state8()))) as Map<string, unknown>;
    expect((r2.get('server_timing') as Map<string, number>).get('prev_total_ms')).toBeGreaterThan(0);
    c.close();
  });

  it('answers a bad request with an error text frame and keeps serving the connection', async () => {
    server = await startPolicyServer({ policy, port: 0 });
    const c = new Client(server.url);
    await c.open();
    await c.next();
    const missing = await c.infer({ prompt: 'x' });
    expect(missing).toMatch(/BadRequestError: missing "observation\/state"/);
    const wrongShape = await c.infer({ 'observation/state': npArray('<f4', [4], new Uint8Array(16)) });
    expect(wrongShape).toMatch(/shape \[8\], got \[4\]/);
    const lying = await c.infer({ 'observation/state': npArray('<f4', [8], new Uint8Array(5)) });
    expect(lying).toMatch(/needs 32 bytes but carries 5/);
    const objDtype = await c.infer({ 'observation/state': npArray('|O', [8], new Uint8Array(8)) });
    expect(objDtype).toMatch(/unsupported numpy dtype/);
    c.sendRaw(Buffer.from([0xc1, 0xff, 0x00]));
    expect((await c.next()).data.toString()).toMatch(/malformed msgpack/);
    c.sendRaw('{"not": "msgpack"}');
    expect((await c.next()).data.toString()).toMatch(/binary msgpack frames/);
    const ok = (await c.infer(obsWith(state8()))) as Map<string, unknown>;
    expect(ok.get('actions')).toBeInstanceOf(Map);
    c.close();
  });

  it('refuses an ndarray shape sent as msgpack floats ([8.0]) with a typed error, and keeps serving', async () => {
    server = await startPolicyServer({ policy, port: 0 });
    const c = new Client(server.url);
    await c.open();
    await c.next();
    // Built byte by byte: every msgpack encoder (Python's and msgpackr) writes 8.0 as an int when it can.
    const str = (t: string) => Buffer.concat([Buffer.from([0xa0 | t.length]), Buffer.from(t)]);
    const binKey = (t: string) => Buffer.concat([Buffer.from([0xc4, t.length]), Buffer.from(t)]);
    const frame = (shapeElem: Buffer) =>
      Buffer.concat([
        Buffer.from([0x81]),
        str('observation/state'),
        Buffer.from([0x84]),
        binKey('__ndarray__'),
        Buffer.from([0xc3]),
        binKey('data'),
        Buffer.from([0xc4, 32]),
        Buffer.from(state8().buffer),
        binKey('dtype'),
        str('<f4'),
        binKey('shape'),
        Buffer.from([0x91]),
        shapeElem,
      ]);
    const f64 = Buffer.alloc(9);
    f64[0] = 0xcb;
    f64.writeDoubleBE(8, 1);
    const f32 = Buffer.alloc(5);
    f32[0] = 0xca;
    f32.writeFloatBE(8, 1);
    for (const elem of [f64, f32]) {
      c.sendRaw(frame(elem));
      const m = await c.next();
      expect(m.binary).toBe(false);
      expect(m.data.toString()).toMatch(
        /^BadRequestError: ndarray field "shape" must be a list of msgpack integers.*the float 8/,
      );
    }
    // The same frame with an int 8 is served: only the wire type differed.
    c.sendRaw(frame(Buffer.from([0x08])));
    const ok = await c.next();
    expect(ok.binary).toBe(true);
    expect((clientUnpackr.unpack(ok.data) as Map<string, unknown>).get('actions')).toBeInstanceOf(Map);
    c.close();
  });

  it('closes only the failing connection on a server fault, with the error text first', async () => {
    server = await startPolicyServer({ policy, port: 0 });
    const bad = new Client(server.url);
    const good = new Client(server.url);
    await Promise.all([bad.open(), good.open()]);
    await Promise.all([bad.next(), good.next()]);
    const text = await bad.infer({ ...obsWith(state8()), explode: true });
    expect(text).toMatch(/policy exploded/);
    expect(await bad.closedPromise()).toBe(1011);
    const ok = (await good.infer(obsWith(state8()))) as Map<string, unknown>;
    expect(ok.get('actions')).toBeInstanceOf(Map);
    good.close();
  });

  it('refuses oversized frames on that connection only', async () => {
    server = await startPolicyServer({ policy, port: 0, maxFrameBytes: 1024 });
    const big = new Client(server.url);
    await big.open();
    await big.next();
    big.sendRaw(clientPackr.pack({ blob: Buffer.alloc(4096) }));
    expect(await big.closedPromise()).toBe(1009);
    const c = new Client(server.url);
    await c.open();
    await c.next();
    expect(await c.infer(obsWith(state8()))).toBeInstanceOf(Map);
    c.close();
  });

  it('serves many concurrent clients, each getting its own answer', async () => {
    server = await startPolicyServer({ policy, port: 0 });
    const clients = Array.from({ length: 16 }, () => new Client(server!.url));
    await Promise.all(clients.map((c) => c.open()));
    await Promise.all(clients.map((c) => c.next()));
    const results = await Promise.all(
      clients.map(async (c, i) => {
        const s = state8().map((v) => v * (i + 1));
        const r = (await c.infer(obsWith(s))) as Map<string, unknown>;
        const a = decodeNp(r.get('actions') as Map<unknown, unknown>);
        return {
          i,
          got: Array.from(
            new Float32Array(a.data.buffer.slice(a.data.byteOffset, a.data.byteOffset + a.data.byteLength)),
          ),
          want: Array.from(refActions(s)),
        };
      }),
    );
    for (const r of results) expect(r.got).toEqual(r.want);
    clients.forEach((c) => c.close());
  });

  it('serves /healthz and /metadata over HTTP, and shuts down gracefully', async () => {
    server = await startPolicyServer({ policy, port: 0 });
    const base = `http://127.0.0.1:${server.port}`;
    const h = await fetch(`${base}/healthz`);
    expect(h.status).toBe(200);
    expect(await h.text()).toBe('OK\n');
    const m = await fetch(`${base}/metadata`);
    expect(await m.json()).toEqual({ action_horizon: H, action_dim: D, name: 'test-policy' });
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    const c = new Client(server.url);
    await c.open();
    await c.next();
    const closed = c.closedPromise();
    await server.close();
    server = null;
    expect(await closed).toBe(1001);
  });
});

// A second, fully independent client: Python's msgpack + websockets (Debian packages), the
// libraries openpi's own client uses. Skipped, visibly, where they are not installed.
const pythonHasDeps =
  spawnSync('/usr/bin/python3', ['-c', 'import msgpack, websockets'], { stdio: 'ignore' }).status === 0;
describe.skipIf(!pythonHasDeps)('policy server vs a Python msgpack/websockets client', () => {
  it('round-trips an openpi-style request', async () => {
    server = await startPolicyServer({ policy, port: 0 });
    const script = `
import asyncio, msgpack, struct, sys, websockets
def pack_array(a_bytes, dtype, shape):
    return {b"__ndarray__": True, b"data": a_bytes, b"dtype": dtype, b"shape": shape}
async def main():
    async with websockets.connect(sys.argv[1], compression=None, max_size=None) as ws:
        meta = msgpack.unpackb(await ws.recv())
        state = struct.pack("<8f", *[1,2,3,4,5,6,7,8])
        await ws.send(msgpack.packb({"observation/state": pack_array(state, "<f4", (8,)), "prompt": "go"}))
        r = msgpack.unpackb(await ws.recv())
        a = r["actions"]
        assert a[b"dtype"] == "<f4" and list(a[b"shape"]) == [${H}, ${D}], a
        vals = struct.unpack("<${H * D}f", a[b"data"])
        print(meta["action_horizon"], " ".join(repr(v) for v in vals), "infer_ms" in r["server_timing"])
asyncio.run(main())
`;
    const out = (await execFileAsync('/usr/bin/python3', ['-c', script, server.url], { encoding: 'utf8' })).stdout
      .trim()
      .split(' ');
    expect(out[0]).toBe(String(H));
    expect(out.slice(1, 1 + H * D).map(Number)).toEqual(Array.from(refActions(state8())));
    expect(out.at(-1)).toBe('True');
  });
});

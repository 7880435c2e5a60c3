// SIGTERM while a client never reads and never answers the close frame: the server must still
// answer 503 on /healthz and on new upgrades, answer the in-flight request, and exit 0 within 5 s
// (ws alone waits 30 s for the closing handshake; Docker kills after 10 s).
import { spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Packr, Unpackr } from 'msgpackr';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { float32NdArray } from './protocol/ndarray.js';
import { startPolicyServer, type RunningPolicyServer } from './server.js';
import { rawUpgrade } from '../test-support/raw-upgrade.js';

const child = fileURLToPath(new URL('../test-support/sigterm-server.ts', import.meta.url));
const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: false });

/** Resumes reading a paused socket (so that it sees the server's FIN) and resolves once it is closed. */
const drainToClose = (s: Socket): Promise<void> =>
  new Promise((r) => {
    s.once('close', () => r());
    s.resume();
  });

let inProcess: RunningPolicyServer | null = null;
afterEach(async () => {
  await inProcess?.close();
  inProcess = null;
});

describe('shutdown with a client that never reads', () => {
  it('SIGTERM: 503 on /healthz and new upgrades, in-flight answered, every socket closed, exit 0 within 5 s', async () => {
    const proc = spawn(process.execPath, ['--import', 'tsx', child], {
      env: { ...process.env, INFER_MS: '400' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<{ code: number | null; at: number }>((r) =>
      proc.once('exit', (code) => r({ code, at: performance.now() })),
    );
    const port = await new Promise<number>((resolve, reject) => {
      proc.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /^port (\d+)$/m.exec(out);
        if (m) resolve(Number(m[1]));
      });
      proc.once('exit', () => reject(new Error(`child exited before listening: ${err}`)));
    });

    const stuck = await rawUpgrade(port);
    expect(stuck.status).toBe('HTTP/1.1 101 Switching Protocols');

    const ws = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: false });
    const frames: Buffer[] = [];
    const gotReply = new Promise<Buffer>((resolve) =>
      ws.on('message', (d: Buffer, binary: boolean) => {
        frames.push(d);
        if (frames.length === 2) resolve(d);
        expect(binary).toBe(true);
      }),
    );
    const wsClosed = new Promise<number>((r) => ws.once('close', (code: number) => r(code)));
    await new Promise<void>((r) => ws.once('open', () => r()));
    ws.send(packr.pack({ prompt: 'go' }));
    await new Promise((r) => setTimeout(r, 100)); // the request is now being served (400 ms)

    const t0 = performance.now();
    proc.kill('SIGTERM');
    let health = 200;
    while (health !== 503 && performance.now() - t0 < 2000) {
      health = (await fetch(`http://127.0.0.1:${port}/healthz`)).status;
    }
    expect(health).toBe(503);
    const late = await rawUpgrade(port);
    expect(late.status).toBe('HTTP/1.1 503 Service Unavailable');
    late.socket.destroy();

    const reply = unpackr.unpack(await gotReply) as Map<string, unknown>;
    expect(reply.has('actions')).toBe(true);
    expect(await wsClosed).toBe(1001);
    const end = await exited;
    expect(end.code, err).toBe(0);
    expect(end.at - t0).toBeLessThan(5000);
    await drainToClose(stuck.socket);
    // The stuck client really needed its socket destroyed (it never completed the handshake).
    expect(out).toMatch(/"event":"terminate","connections":1/);
  }, 15_000);

  it('close() settles within closeTimeoutMs; a request sent after close() began gets a ServerShuttingDownError frame', async () => {
    inProcess = await startPolicyServer({
      port: 0,
      closeTimeoutMs: 600,
      policy: {
        metadata: {},
        async infer() {
          await new Promise((r) => setTimeout(r, 200));
          return { actions: float32NdArray(Float32Array.from([1]), [1, 1]) };
        },
      },
    });
    const stuck = await rawUpgrade(inProcess.port);
    const ws = new WebSocket(inProcess.url, { perMessageDeflate: false });
    const frames: Array<{ data: Buffer; binary: boolean }> = [];
    const threeFrames = new Promise<void>((resolve) =>
      ws.on('message', (data: Buffer, binary: boolean) => {
        frames.push({ data, binary });
        if (frames.length === 3) resolve();
      }),
    );
    await new Promise<void>((r) => ws.once('open', () => r()));
    ws.send(packr.pack({ n: 1 }));
    await new Promise((r) => setTimeout(r, 50));
    const t0 = performance.now();
    const closing = inProcess.close();
    expect(inProcess.closing).toBe(true);
    ws.send(packr.pack({ n: 2 }));
    await threeFrames;
    expect(frames[1]!.binary).toBe(true); // the in-flight request's reply
    expect(frames[2]!.data.toString()).toMatch(/^ServerShuttingDownError: the server is shutting down/);
    await closing;
    expect(performance.now() - t0).toBeLessThan(1500);
    expect(inProcess.connections).toBe(0);
    await drainToClose(stuck.socket);
    inProcess = null;
  });
});

// The WebSocket server: openpi's protocol (metadata on connect, msgpack request -> msgpack reply
// with server_timing, error text frames), plus GET /healthz and GET /metadata over plain HTTP.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { BadRequestError, ServerConfigError, ServerShuttingDownError } from './errors.js';
import { packMessage, unpackMessage, type WireMap, type WireValue } from './protocol/msgpack-numpy.js';
import type { ServedPolicy } from './policy.js';
import { SerialQueue } from './serial-queue.js';

export interface PolicyServerOptions {
  policy: ServedPolicy;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Largest request frame accepted, in bytes; larger frames close the connection with 1009. Default 64 MiB. */
  maxFrameBytes?: number;
  /** A client that has not read this many reply bytes is disconnected. Default 64 MiB. */
  maxBufferedBytes?: number;
  /** Ping interval; a client that misses a pong is disconnected. Default 30 s. */
  heartbeatMs?: number;
  /**
   * Longest a `close()` may take, in ms (default 3000, under Docker's 10 s stop timeout and
   * Kubernetes' 30 s grace). In-flight requests get most of it; then clients are sent close
   * frames; sockets of clients that have not completed the closing handshake when it runs out
   * (a client that never reads or never answers the close frame) are destroyed.
   */
  closeTimeoutMs?: number;
  /** Structured log sink (JSON-able events). Default: none. */
  log?: (event: { event: string; [key: string]: unknown }) => void;
}

export interface RunningPolicyServer {
  readonly host: string;
  readonly port: number;
  readonly url: string;
  /** Number of open WebSocket connections. */
  readonly connections: number;
  /** True once `close()` has been called: `/healthz` and new WebSocket upgrades answer HTTP 503. */
  readonly closing: boolean;
  /**
   * Answers `/healthz` and new upgrades with 503, finishes in-flight requests (requests that arrive
   * after this are answered with a `ServerShuttingDownError` text frame), closes clients with 1001,
   * destroys the sockets of clients that do not finish the closing handshake in time, closes the
   * listener. Settles within `closeTimeoutMs` whatever the clients do.
   */
  close(): Promise<void>;
}

/** Starts serving `policy`. Resolves once the port is listening. */
export async function startPolicyServer(options: PolicyServerOptions): Promise<RunningPolicyServer> {
  const { policy } = options;
  const host = options.host ?? '127.0.0.1';
  const maxFrameBytes = options.maxFrameBytes ?? 64 * 1024 * 1024;
  const maxBufferedBytes = options.maxBufferedBytes ?? 64 * 1024 * 1024;
  const heartbeatMs = options.heartbeatMs ?? 30_000;
  const closeTimeoutMs = options.closeTimeoutMs ?? 3000;
  if (!(Number.isFinite(closeTimeoutMs) && closeTimeoutMs >= 0))
    throw new ServerConfigError(`closeTimeoutMs must be a non-negative number of ms, got ${closeTimeoutMs}`);
  const log = options.log ?? (() => {});
  if (!policy || typeof policy.infer !== 'function')
    throw new ServerConfigError('startPolicyServer needs a policy with an infer() method');

  const metadataFrame = packMessage(policy.metadata);
  const queue = new SerialQueue();
  let closing = false;
  let closed: Promise<void> | null = null;

  const http = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/healthz') {
      const ok = !closing;
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'OK\n' : 'shutting down\n');
      return;
    }
    if (req.method === 'GET' && path === '/metadata') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(policy.metadata, jsonReplacer));
      return;
    }
    res
      .writeHead(404, { 'content-type': 'text/plain' })
      .end('not found: connect with a WebSocket, or GET /healthz or /metadata\n');
  });

  // noServer: the upgrade handler stays ours, so that during shutdown a new upgrade is answered
  // with HTTP 503 (ws would unhook itself and Node would answer 404 or drop the socket).
  const wss = new WebSocketServer({ noServer: true, maxPayload: maxFrameBytes, perMessageDeflate: false });
  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (closing) {
      const body = 'shutting down\n';
      socket.on('error', () => {});
      socket.end(
        `HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      );
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });
  const alive = new WeakMap<WebSocket, boolean>();

  wss.on('connection', (ws: WebSocket, req: IncomingMessage) => {
    const peer = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
    log({ event: 'connect', peer });
    alive.set(ws, true);
    ws.on('pong', () => alive.set(ws, true));
    ws.send(metadataFrame);
    let prevTotalMs: number | null = null;

    ws.on('message', (data: RawData, isBinary: boolean) => {
      const start = performance.now();
      const lateRequest = closing;
      void queue
        .run(async () => {
          if (ws.readyState !== ws.OPEN) return null;
          if (lateRequest)
            throw new ServerShuttingDownError('the server is shutting down; reconnect to another replica');
          if (!isBinary) throw new BadRequestError('requests must be binary msgpack frames, not text');
          const obs = unpackMessage(toBytes(data));
          const t0 = performance.now();
          const reply = await policy.infer(obs);
          const inferMs = performance.now() - t0;
          if (!('actions' in reply)) throw new Error('policy.infer returned no "actions"');
          const timing: WireMap = { infer_ms: inferMs };
          if (prevTotalMs !== null) timing['prev_total_ms'] = prevTotalMs;
          return { ...reply, server_timing: timing } satisfies { [key: string]: WireValue };
        })
        .then(
          (reply) => {
            if (reply === null || ws.readyState !== ws.OPEN) return;
            ws.send(packMessage(reply));
            prevTotalMs = performance.now() - start;
            if (ws.bufferedAmount > maxBufferedBytes) {
              log({ event: 'slow-client', peer, buffered: ws.bufferedAmount });
              ws.terminate();
            }
          },
          (err: unknown) => {
            if (ws.readyState !== ws.OPEN) return;
            if (err instanceof ServerShuttingDownError) {
              ws.send(`ServerShuttingDownError: ${err.message}`);
              return;
            }
            if (err instanceof BadRequestError) {
              log({ event: 'bad-request', peer, message: err.message });
              ws.send(`BadRequestError: ${err.message}`);
              return;
            }
            // As openpi does: the traceback as a text frame, then close with INTERNAL_ERROR.
            const e = err instanceof Error ? err : new Error(String(err));
            log({ event: 'error', peer, message: e.message });
            ws.send(e.stack ?? `${e.name}: ${e.message}`);
            ws.close(1011, 'Internal server error. Traceback included in previous frame.');
          },
        );
    });
    ws.on('close', (code: number) => log({ event: 'disconnect', peer, code }));
    ws.on('error', (err: Error) => log({ event: 'socket-error', peer, message: err.message }));
  });

  const heartbeat = setInterval(() => {
    for (const ws of wss.clients) {
      if (alive.get(ws) === false) {
        ws.terminate();
        continue;
      }
      alive.set(ws, false);
      ws.ping();
    }
  }, heartbeatMs);
  heartbeat.unref();

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 0, host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const port = (http.address() as AddressInfo).port;
  log({ event: 'listening', host, port });

  return {
    host,
    port,
    url: `ws://${host.includes(':') ? `[${host}]` : host}:${port}`,
    get connections() {
      return wss.clients.size;
    },
    get closing() {
      return closing;
    },
    close() {
      closed ??= shutdown();
      return closed;
    },
  };

  async function shutdown(): Promise<void> {
    const t0 = performance.now();
    closing = true;
    clearInterval(heartbeat);
    log({ event: 'closing', connections: wss.clients.size, queued: queue.size });
    // In-flight requests get up to 3/4 of the budget, the closing handshake the rest.
    const drained = await within(queue.drain(), closeTimeoutMs * 0.75);
    if (!drained) log({ event: 'drain-timeout', queued: queue.size });
    for (const ws of wss.clients) ws.close(1001, 'server shutting down');
    const allClosed = new Promise<void>((resolve) => wss.close(() => resolve()));
    const handshakeDone = await within(allClosed, Math.max(0, closeTimeoutMs - (performance.now() - t0)));
    if (!handshakeDone) {
      // Clients that never read or never answer the close frame: ws would wait 30 s for them.
      log({ event: 'terminate', connections: wss.clients.size });
      for (const ws of wss.clients) ws.terminate();
      await allClosed;
    }
    http.closeAllConnections();
    await new Promise<void>((resolve) => http.close(() => resolve()));
    log({ event: 'closed', ms: Math.round(performance.now() - t0) });
  }
}

/** Resolves true if `p` settles within `ms`, false otherwise (without cancelling it). */
async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([p.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return data;
}

function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return { bytes: value.byteLength };
  return value;
}

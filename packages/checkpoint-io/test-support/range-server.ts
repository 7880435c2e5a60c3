// A local HTTP server for byte-source tests: serves in-memory files, honours `Range: bytes=a-b` (206 with
// Content-Range), logs every request, and can misbehave on purpose.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Misbehaviour =
  | 'ok'
  | 'no-range' // answers 200 with the whole file
  | 'short' // sends fewer bytes than the Content-Range announces (then ends the response)
  | 'wrong-range' // answers with a Content-Range shifted by one byte
  | 'no-content-range' // 206 without Content-Range
  | 'grown'; // Content-Range total one byte larger than the file (the file changed)

export interface LoggedRequest {
  path: string;
  range: string | null;
  /** Body bytes sent. */
  sent: number;
}

export interface RangeServer {
  url(path: string): string;
  log: LoggedRequest[];
  /** Misbehaviour per path (default 'ok'); `afterFirst` applies only from the second request of a path on. */
  behave(path: string, how: Misbehaviour, afterFirst?: boolean): void;
  close(): Promise<void>;
}

export async function startRangeServer(files: Map<string, Uint8Array>): Promise<RangeServer> {
  const log: LoggedRequest[] = [];
  const modes = new Map<string, { how: Misbehaviour; afterFirst: boolean }>();
  const seen = new Map<string, number>();
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const range = req.headers.range ?? null;
    const entry: LoggedRequest = { path, range, sent: 0 };
    log.push(entry);
    const n = (seen.get(path) ?? 0) + 1;
    seen.set(path, n);
    const body = files.get(path);
    if (!body) {
      res.writeHead(404).end();
      return;
    }
    const mode = modes.get(path);
    const how = mode && (!mode.afterFirst || n > 1) ? mode.how : 'ok';
    const send = (status: number, headers: Record<string, string | number>, bytes: Uint8Array): void => {
      entry.sent = bytes.byteLength;
      res.writeHead(status, headers);
      res.end(bytes);
    };
    const m = range === null ? null : /^bytes=(\d+)-(\d+)$/.exec(range);
    if (how === 'no-range' || !m) {
      send(200, { 'Content-Length': body.byteLength }, body);
      return;
    }
    const start = Number(m[1]);
    if (start >= body.byteLength) {
      send(416, { 'Content-Range': `bytes */${body.byteLength}` }, new Uint8Array(0));
      return;
    }
    const end = Math.min(Number(m[2]), body.byteLength - 1);
    const part = body.subarray(start, end + 1);
    const total = how === 'grown' ? body.byteLength + 1 : body.byteLength;
    const cr = how === 'wrong-range' ? `bytes ${start + 1}-${end + 1}/${total}` : `bytes ${start}-${end}/${total}`;
    const headers: Record<string, string | number> = how === 'no-content-range' ? {} : { 'Content-Range': cr };
    if (how === 'short') {
      // no Content-Length (chunked), so the client sees a clean end after too few bytes
      entry.sent = Math.floor(part.byteLength / 2);
      res.writeHead(206, headers);
      res.end(part.subarray(0, entry.sent));
      return;
    }
    send(206, { ...headers, 'Content-Length': part.byteLength }, part);
  };
  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    log,
    behave(path, how, afterFirst = false) {
      modes.set(path, { how, afterFirst });
      seen.set(path, 0);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

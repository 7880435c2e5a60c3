// A local HTTP server for the browser tests: serves directories by URL prefix, honours `Range: bytes=a-b`
// (206 + Content-Range, as a CDN does for model files) and logs every request.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
};

export interface StaticServer {
  origin: string;
  log: Array<{ path: string; range: string | null; status: number; sent: number }>;
  close(): Promise<void>;
}

/** `mounts`: URL prefix (e.g. "/fixtures/") → directory. */
export async function startStaticServer(mounts: Record<string, string>): Promise<StaticServer> {
  const log: StaticServer['log'] = [];
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const entry = { path, range: req.headers.range ?? null, status: 404, sent: 0 };
    log.push(entry);
    const mount = Object.keys(mounts)
      .sort((a, b) => b.length - a.length)
      .find((m) => path.startsWith(m));
    const rel = mount === undefined ? null : normalize(path.slice(mount.length) || 'index.html');
    if (mount === undefined || rel === null || rel.startsWith('..')) {
      res.writeHead(404).end();
      return;
    }
    const file = join(mounts[mount]!, rel);
    const st = await stat(file).catch(() => null);
    if (!st?.isFile()) {
      res.writeHead(404).end();
      return;
    }
    const type = TYPES[extname(file)] ?? 'application/octet-stream';
    const m = entry.range ? /^bytes=(\d+)-(\d*)$/.exec(entry.range) : null;
    if (m) {
      const start = Number(m[1]);
      const end = Math.min(m[2] ? Number(m[2]) : st.size - 1, st.size - 1);
      if (start >= st.size) {
        entry.status = 416;
        res.writeHead(416, { 'Content-Range': `bytes */${st.size}` }).end();
        return;
      }
      entry.status = 206;
      entry.sent = end - start + 1;
      res.writeHead(206, {
        'Content-Type': type,
        'Content-Length': end - start + 1,
        'Content-Range': `bytes ${start}-${end}/${st.size}`,
        'Accept-Ranges': 'bytes',
      });
      createReadStream(file, { start, end }).pipe(res);
      return;
    }
    entry.status = 200;
    entry.sent = st.size;
    res.writeHead(200, { 'Content-Type': type, 'Content-Length': st.size, 'Accept-Ranges': 'bytes' });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    log,
    close: () =>
      new Promise<void>((ok, fail) => {
        server.closeAllConnections();
        server.close((err) => (err ? fail(err) : ok()));
      }),
  };
}

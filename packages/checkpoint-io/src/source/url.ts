// An HTTP(S) URL as a ByteSource, read with Range requests: one request for the first bytes (100 kB by
// default, as huggingface.js does for safetensors metadata: the header of most checkpoints fits), then
// one request per read that the cached prefix does not cover. Every answer is checked: 206 status,
// Content-Range naming exactly the bytes asked for and the same total, and a body of exactly that length
// (read into a buffer of that length; a longer body is cut off, not buffered).
import { checkReadRange, type ByteSource } from './byte-source.js';
import {
  ContentRangeError,
  RangeNotSupportedError,
  SourceChangedError,
  SourceClosedError,
  SourceHttpError,
  SourceShortReadError,
} from './errors.js';

export interface UrlSourceOptions {
  /** Bytes fetched (and kept) by the first request; reads inside them need no request. Default 100_000. */
  prefetchBytes?: number;
  /** Extra request headers (e.g. `Authorization`). */
  headers?: Record<string, string>;
  /** The fetch to use (default: globalThis.fetch). */
  fetch?: typeof fetch;
  signal?: AbortSignal;
}

/** A ByteSource over a URL, with what it has fetched so far. */
export interface UrlSource extends ByteSource {
  readonly url: string;
  /** HTTP requests made so far. */
  readonly requests: number;
  /** Body bytes received so far. */
  readonly bytesFetched: number;
}

const CONTENT_RANGE = /^bytes (\d+)-(\d+)\/(\d+|\*)$/;

function parseContentRange(url: string, header: string | null): { start: number; end: number; total: number | null } {
  const m = header === null ? null : CONTENT_RANGE.exec(header.trim());
  if (!m) {
    throw new ContentRangeError(
      url,
      `206 answer has ${header === null ? 'no Content-Range header' : `Content-Range ${JSON.stringify(header)}`}; the server's Range support is broken — download the file and open it locally`,
    );
  }
  const start = Number(m[1]);
  const end = Number(m[2]);
  const total = m[3] === '*' ? null : Number(m[3]);
  if (![start, end].every(Number.isSafeInteger) || (total !== null && !Number.isSafeInteger(total)) || end < start) {
    throw new ContentRangeError(url, `Content-Range ${JSON.stringify(header)} is not a valid byte range`);
  }
  return { start, end, total };
}

/** Reads exactly `expected` body bytes; fewer is SourceShortReadError, more is cut off and an error too. */
async function readBody(url: string, res: Response, expected: number, what: string): Promise<Uint8Array> {
  const out = new Uint8Array(expected);
  if (!res.body) {
    if (expected === 0) return out;
    throw new SourceShortReadError(url, `${what}: the answer has no body`);
  }
  const reader = res.body.getReader();
  let done = 0;
  try {
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) break;
      const v = chunk.value;
      if (done + v.byteLength > expected) {
        throw new SourceShortReadError(
          url,
          `${what}: the server sent more than the ${expected} bytes its Content-Range announced; the answer is corrupt`,
        );
      }
      out.set(v, done);
      done += v.byteLength;
    }
  } catch (err) {
    await reader.cancel().catch(() => undefined);
    if (err instanceof SourceShortReadError) throw err;
    throw new SourceShortReadError(url, `${what}: the connection broke after ${done} of ${expected} bytes`, {
      cause: err,
    });
  }
  if (done !== expected) {
    throw new SourceShortReadError(
      url,
      `${what}: got ${done} of the ${expected} bytes asked for; the server cut the answer short — try again`,
    );
  }
  return out;
}

async function request(url: string, start: number, end: number, opts: UrlSourceOptions): Promise<Response> {
  const doFetch = opts.fetch ?? globalThis.fetch;
  try {
    return await doFetch(url, {
      headers: { ...opts.headers, Range: `bytes=${start}-${end}` },
      signal: opts.signal,
    });
  } catch (err) {
    throw new SourceHttpError(url, null, `request for bytes ${start}-${end} failed (${(err as Error).message})`, {
      cause: err,
    });
  }
}

function statusError(url: string, res: Response): SourceHttpError {
  return new SourceHttpError(
    url,
    res.status,
    `HTTP ${res.status} ${res.statusText}${res.status === 404 ? ': no file at this URL' : res.status === 401 || res.status === 403 ? ': access denied (pass an Authorization header)' : ''}`,
  );
}

/**
 * Opens a URL for random access. The first request fetches the first `prefetchBytes` bytes and learns
 * the size from Content-Range. A server that ignores Range (answers 200) is refused with
 * RangeNotSupportedError instead of downloading the whole file.
 */
export async function openUrlSource(url: string | URL, opts: UrlSourceOptions = {}): Promise<UrlSource> {
  const href = String(url);
  const prefetch = Math.max(1, Math.floor(opts.prefetchBytes ?? 100_000));
  let requests = 1;
  let bytesFetched = 0;
  const res = await request(href, 0, prefetch - 1, opts);
  let size: number;
  let prefix: Uint8Array;
  if (res.status === 206) {
    const cr = parseContentRange(href, res.headers.get('content-range'));
    if (cr.total === null)
      throw new ContentRangeError(href, 'the server does not say the file size (Content-Range total is "*")');
    if (cr.start !== 0 || cr.end > prefetch - 1 || cr.end >= cr.total) {
      await res.body?.cancel();
      throw new ContentRangeError(
        href,
        `asked for bytes 0-${prefetch - 1}, the server answered ${res.headers.get('content-range')}`,
      );
    }
    size = cr.total;
    prefix = await readBody(href, res, cr.end - cr.start + 1, 'first bytes');
    bytesFetched += prefix.byteLength;
  } else if (res.status === 416) {
    // an empty file has no byte 0; the server says its size as "bytes */0"
    await res.body?.cancel();
    const total = /^bytes \*\/(\d+)$/.exec(res.headers.get('content-range') ?? '');
    if (!total || Number(total[1]) !== 0) throw statusError(href, res);
    size = 0;
    prefix = new Uint8Array(0);
  } else if (res.ok) {
    await res.body?.cancel();
    throw new RangeNotSupportedError(
      href,
      `the server answered a Range request with status ${res.status} (the whole file) instead of 206; reading it here would download all of it — download the file and open it locally, or serve it from a server with Range support`,
    );
  } else {
    await res.body?.cancel();
    throw statusError(href, res);
  }

  let open = true;
  return {
    name: href,
    url: href,
    size,
    get requests() {
      return requests;
    },
    get bytesFetched() {
      return bytesFetched;
    },
    async read(offset: number, length: number): Promise<Uint8Array> {
      if (!open) throw new SourceClosedError(href, 'source already closed; open the URL again');
      checkReadRange({ name: href, size }, offset, length);
      if (length === 0) return new Uint8Array(0);
      if (offset + length <= prefix.byteLength) return prefix.slice(offset, offset + length);
      const end = offset + length - 1;
      requests++;
      const r = await request(href, offset, end, opts);
      if (r.status !== 206) {
        await r.body?.cancel();
        if (r.ok)
          throw new RangeNotSupportedError(
            href,
            `the server answered a Range request with status ${r.status} instead of 206 (it stopped honouring Range); download the file and open it locally`,
          );
        throw statusError(href, r);
      }
      const cr = parseContentRange(href, r.headers.get('content-range'));
      if (cr.total !== null && cr.total !== size) {
        await r.body?.cancel();
        throw new SourceChangedError(
          href,
          `the file was ${size} bytes when opened and is ${cr.total} now; it changed on the server — open it again`,
        );
      }
      if (cr.start !== offset || cr.end !== end) {
        await r.body?.cancel();
        throw new ContentRangeError(
          href,
          `asked for bytes ${offset}-${end}, the server answered ${r.headers.get('content-range')}`,
        );
      }
      const body = await readBody(href, r, length, `bytes ${offset}-${end}`);
      bytesFetched += body.byteLength;
      return body;
    },
    async close(): Promise<void> {
      open = false;
    },
  };
}

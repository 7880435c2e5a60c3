// What the page shows, computed from dropped files or a URL with @vla-lora/checkpoint-io/browser.
// Pure (no DOM): the Node tests run it on the fixtures directly; the page renders its result.
import {
  blobSource,
  numel,
  openSafetensorsFiles,
  openSafetensorsSource,
  openShardedSource,
  openUrlSource,
  readPtSource,
  SourceHttpError,
  torchToSafetensorsDtype,
  UnsafePickleError,
  verifyAdapterFiles,
  type ByteSource,
  type NamedBlob,
  type SafetensorsReader,
  type UrlSourceOptions,
} from '@vla-lora/checkpoint-io/browser';

export interface TensorRow {
  name: string;
  dtype: string;
  shape: number[];
  bytes: number;
}

export interface DtypeTotal {
  dtype: string;
  tensors: number;
  values: number;
  bytes: number;
}

export interface AdapterCheck {
  ok: boolean;
  /** Error class name when not ok. */
  error?: string;
  message: string;
  summary?: string;
  modules?: number;
  ranks?: Record<number, number>;
  warnings?: string[];
  /** The zero-merge command when the adapter is a ZeRO placeholder (or has zero-element tensors). */
  zeroHint?: string;
}

export interface Inspection {
  /** What was inspected (file, folder or URL). */
  title: string;
  kind: 'safetensors' | 'sharded safetensors' | 'PEFT adapter' | 'PyTorch pickle' | 'nothing';
  /** Size of what was opened (all files of a set). */
  totalBytes: number;
  /** Bytes actually read (files) or fetched (URL): the header and what the checks needed, not the tensors. */
  bytesRead: number;
  requests?: number;
  metadata: Record<string, string> | null;
  tensors: TensorRow[];
  dtypeTotals: DtypeTotal[];
  adapter?: AdapterCheck;
  /** Pickle globals that are not on the allow-list (module.name), for .pt/.bin files. */
  unsafeGlobals?: string[];
  notes: string[];
  error?: { name: string; message: string };
}

function rowsOf(reader: SafetensorsReader): TensorRow[] {
  return reader.list().map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape, bytes: t.byteLength }));
}

export function dtypeTotals(rows: readonly TensorRow[]): DtypeTotal[] {
  const m = new Map<string, DtypeTotal>();
  for (const r of rows) {
    const t = m.get(r.dtype) ?? { dtype: r.dtype, tensors: 0, values: 0, bytes: 0 };
    t.tensors++;
    t.values += numel(r.shape);
    t.bytes += r.bytes;
    m.set(r.dtype, t);
  }
  return [...m.values()].sort((a, b) => b.bytes - a.bytes);
}

const errorOf = (err: unknown) => ({
  name: err instanceof Error ? err.name : 'Error',
  message: err instanceof Error ? err.message : String(err),
});

const base = (name: string) => name.slice(Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1);

function empty(title: string, totalBytes: number): Inspection {
  return {
    title,
    kind: 'nothing',
    totalBytes,
    bytesRead: 0,
    metadata: null,
    tensors: [],
    dtypeTotals: [],
    notes: [],
  };
}

/** Files whose bytes are counted: every read of the page's inputs goes through one of these. */
function tallied(files: readonly NamedBlob[], tally: { bytes: number }): NamedBlob[] {
  return files.map((f) => ({
    name: f.name,
    blob: new Proxy(f.blob, {
      get(target, prop) {
        if (prop === 'slice')
          return (a?: number, b?: number) => {
            const s = target.slice(a, b);
            tally.bytes += s.size;
            return s;
          };
        if (prop === 'text')
          return async () => {
            tally.bytes += target.size;
            return target.text();
          };
        const v = Reflect.get(target, prop, target);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    }),
  }));
}

/** Inspects dropped files (names relative to the dropped folder). */
export async function inspectFiles(files: readonly NamedBlob[]): Promise<Inspection> {
  const tally = { bytes: 0 };
  const input = tallied(files, tally);
  const totalBytes = files.reduce((a, f) => a + f.blob.size, 0);
  const title =
    files.length === 1 ? files[0]!.name : `${files[0]?.name.split('/')[0] ?? 'files'} (${files.length} files)`;
  const out = empty(title, totalBytes);
  try {
    const names = input.map((f) => base(f.name));
    const pts = input.filter((f) => PT_FILE.test(f.name));
    if (names.includes('adapter_config.json')) await inspectAdapter(input, out);
    else if (names.some((n) => n.endsWith('.safetensors') || n.endsWith('.safetensors.index.json'))) {
      const r = await openSafetensorsFiles(input.filter((f) => /\.safetensors(\.index\.json)?$/.test(f.name)));
      fill(out, r, names.some((n) => n.endsWith('.index.json')) ? 'sharded safetensors' : 'safetensors');
      await r.close();
    } else if (pts.length > 0) {
      await inspectPt(pts, out);
    } else {
      out.notes.push(
        'Drop a .safetensors file, a sharded index with its shards, an adapter folder, or a .pt/.bin file.',
      );
    }
  } catch (err) {
    out.error = errorOf(err);
  }
  out.bytesRead = tally.bytes;
  return out;
}

function fill(out: Inspection, r: SafetensorsReader, kind: Inspection['kind']): void {
  out.kind = kind;
  out.metadata = r.metadata;
  out.tensors = rowsOf(r);
  out.dtypeTotals = dtypeTotals(out.tensors);
}

async function inspectAdapter(files: NamedBlob[], out: Inspection): Promise<void> {
  out.kind = 'PEFT adapter';
  const st = files
    .filter((f) => base(f.name) === 'adapter_model.safetensors')
    .sort((a, b) => a.name.length - b.name.length)[0];
  if (st) {
    const r = await openSafetensorsSource(blobSource(st.blob, st.name));
    fill(out, r, 'PEFT adapter');
    await r.close();
  }
  try {
    const rep = await verifyAdapterFiles(files);
    out.adapter = {
      ok: true,
      message: `verified: ${rep.summary}`,
      summary: rep.summary,
      modules: rep.modules,
      ranks: rep.ranks,
      warnings: rep.warnings,
    };
  } catch (err) {
    const e = errorOf(err);
    const hint = /Recover them with: (.*)$/.exec(e.message)?.[1];
    out.adapter = { ok: false, error: e.name, message: e.message, ...(hint ? { zeroHint: hint } : {}) };
  }
}

const PT_FILE = /\.(pt|pth|bin|ckpt)$/;

/**
 * torch.save files, read by the safe unpickler (nothing executes). A pickle that names globals off the
 * allow-list is named as hostile (UnsafePickleError's list) and then read once more with `unsafeGlobals:
 * 'list'` so its tensors can still be shown as inert data.
 */
async function inspectPt(
  files: NamedBlob[],
  out: Inspection,
  sourceOf: (f: NamedBlob) => Promise<ByteSource> = async (f) => blobSource(f.blob, f.name),
): Promise<void> {
  out.kind = 'PyTorch pickle';
  const unsafe = new Set<string>();
  for (const f of files.sort((a, b) => a.name.localeCompare(b.name))) {
    let pt: Awaited<ReturnType<typeof readPtSource>>;
    try {
      pt = await readPtSource(await sourceOf(f));
    } catch (err) {
      if (!(err instanceof UnsafePickleError)) throw err;
      for (const g of err.globals) unsafe.add(g);
      pt = await readPtSource(await sourceOf(f), { unsafeGlobals: 'list' });
    }
    try {
      const prefix = files.length > 1 ? `${base(f.name)}: ` : '';
      out.notes.push(`${f.name}: torch.save ${pt.format} format${pt.version ? ` (version ${pt.version})` : ''}`);
      for (const [name, t] of pt.tensors()) {
        out.tensors.push({
          name: `${prefix}${name}`,
          dtype: torchToSafetensorsDtype(t.dtype) ?? t.dtype,
          shape: [...t.shape],
          bytes: t.byteLength,
        });
      }
    } finally {
      await pt.close();
    }
  }
  out.dtypeTotals = dtypeTotals(out.tensors);
  if (unsafe.size > 0) out.unsafeGlobals = [...unsafe].sort();
  if (files.some((f) => /zero_pp_rank_\d+_mp_rank_\d+_optim_states\.pt$/.test(f.name)))
    out.notes.unshift(
      'DeepSpeed ZeRO shards: consolidate them (or pull the LoRA adapter out) on your machine with `npx @vla-lora/zero-merge extract-adapter <checkpoint-dir> <out-dir>`.',
    );
}

/** Inspects a URL (Range requests: the header first; tensors are not fetched). */
export async function inspectUrl(url: string, opts: UrlSourceOptions = {}): Promise<Inspection> {
  const out = empty(url, 0);
  const sources: Array<{ requests: number; bytesFetched: number; size: number }> = [];
  const open = async (u: string | URL) => {
    const s = await openUrlSource(u, opts);
    sources.push(s);
    return s;
  };
  try {
    const path = new URL(url).pathname;
    if (PT_FILE.test(path)) {
      await inspectPt([{ name: url, blob: new Blob() }], out, () => open(url));
    } else if (path.endsWith('.index.json')) {
      const r = await openShardedSource(
        await open(url),
        (file) => open(new URL(file, url)),
        (err) => err instanceof SourceHttpError && err.status === 404,
      );
      fill(out, r, 'sharded safetensors');
      await r.close();
    } else {
      const r = await openSafetensorsSource(await open(url));
      fill(out, r, 'safetensors');
      await r.close();
    }
  } catch (err) {
    out.error = errorOf(err);
  }
  out.totalBytes = sources.reduce((a, s) => a + s.size, 0);
  out.bytesRead = sources.reduce((a, s) => a + s.bytesFetched, 0);
  out.requests = sources.reduce((a, s) => a + s.requests, 0);
  return out;
}

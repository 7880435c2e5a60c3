// The page: drop files or a folder, pick them, or paste a URL; the result panel shows the inspection.
// Files are read with Blob.slice (never whole); a URL is read with Range requests. Nothing is uploaded.
import type { NamedBlob } from '@vla-lora/checkpoint-io/browser';
import { inspectFiles, inspectUrl, type Inspection } from './analyze.js';
import { renderInspection } from './render.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const out = $('result');

declare global {
  interface Window {
    /** The last inspection (for tests and the curious). */
    lastInspection?: Inspection;
  }
}

async function show(work: Promise<Inspection>): Promise<void> {
  out.setAttribute('aria-busy', 'true');
  out.innerHTML = '<p class="note">reading…</p>';
  const r = await work;
  window.lastInspection = r;
  out.innerHTML = renderInspection(r);
  out.setAttribute('aria-busy', 'false');
  document.body.dataset['state'] = 'done';
}

const named = (files: Iterable<File>): NamedBlob[] =>
  [...files].map((f) => ({ name: f.webkitRelativePath || f.name, blob: f }));

$<HTMLInputElement>('files').addEventListener('change', (e) => {
  const input = e.target as HTMLInputElement;
  if (input.files && input.files.length > 0) void show(inspectFiles(named(input.files)));
});
$<HTMLInputElement>('folder').addEventListener('change', (e) => {
  const input = e.target as HTMLInputElement;
  if (input.files && input.files.length > 0) void show(inspectFiles(named(input.files)));
});
$<HTMLFormElement>('url-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const url = $<HTMLInputElement>('url').value.trim();
  if (url) void show(inspectUrl(url));
});

/** Every file under a dropped entry, named by its path inside the drop. */
async function walk(entry: FileSystemEntry, prefix: string, acc: NamedBlob[]): Promise<void> {
  if (entry.isFile) {
    const file = await new Promise<File>((ok, fail) => (entry as FileSystemFileEntry).file(ok, fail));
    acc.push({ name: `${prefix}${entry.name}`, blob: file });
    return;
  }
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((ok, fail) => reader.readEntries(ok, fail));
    if (batch.length === 0) break;
    for (const child of batch) await walk(child, `${prefix}${entry.name}/`, acc);
  }
}

const zone = $('drop');
zone.addEventListener('dragover', (e) => {
  e.preventDefault();
  zone.classList.add('over');
});
zone.addEventListener('dragleave', () => zone.classList.remove('over'));
zone.addEventListener('drop', (e) => {
  e.preventDefault();
  zone.classList.remove('over');
  const items = [...(e.dataTransfer?.items ?? [])]
    .map((i) => i.webkitGetAsEntry())
    .filter((x): x is FileSystemEntry => x !== null);
  void show(
    (async () => {
      const acc: NamedBlob[] = [];
      for (const entry of items) await walk(entry, '', acc);
      return inspectFiles(acc);
    })(),
  );
});
document.body.dataset['state'] = 'ready';

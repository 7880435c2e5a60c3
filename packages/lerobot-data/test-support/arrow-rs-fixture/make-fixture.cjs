// Writes a tiny LIBERO-layout LeRobot v2.1 dataset with writers independent of this package:
// apache-arrow (JS) builds the table, parquet-wasm (arrow-rs compiled to wasm) writes the parquet,
// pngjs encodes the PNGs. The columns use the Arrow types HF datasets / pyarrow use for LeRobot:
// FixedSizeList<float32>[n] for Sequence(length=n), struct<bytes: binary, path: string> for Image.
//
// Regenerate (not part of the test run; needs network to the npm registry):
//   mkdir /tmp/pqcheck && cd /tmp/pqcheck && npm i parquet-wasm@0.6.1 apache-arrow@18.1.0 pngjs@7.0.0
//   NODE_PATH=/tmp/pqcheck/node_modules node make-fixture.cjs <out-dir>
const fs = require('fs');
const path = require('path');
const arrow = require('apache-arrow');
const { Table, writeParquet, WriterPropertiesBuilder, Compression } = require('parquet-wasm');
const { PNG } = require('pngjs');

const out = process.argv[2];
const EPISODES = 2;
const STEPS = 5;
const SIZE = 8;
const tasks = ['pick up the red block', 'touch the blue block'];

function png(seed) {
  const p = new PNG({ width: SIZE, height: SIZE });
  for (let i = 0; i < SIZE * SIZE; i++) {
    p.data[i * 4] = (seed * 31 + i * 7) & 255;
    p.data[i * 4 + 1] = (seed * 17 + i * 3) & 255;
    p.data[i * 4 + 2] = (seed * 5 + i) & 255;
    p.data[i * 4 + 3] = 255;
  }
  return new Uint8Array(PNG.sync.write(p));
}

const imageType = new arrow.Struct([
  new arrow.Field('bytes', new arrow.Binary(), true),
  new arrow.Field('path', new arrow.Utf8(), true),
]);
const vecType = (n) => new arrow.FixedSizeList(n, new arrow.Field('item', new arrow.Float32(), true));
const episodes = [];
const epStats = [];
for (let ep = 0; ep < EPISODES; ep++) {
  const rows = [...Array(STEPS).keys()];
  const g = ep * STEPS;
  const cols = {
    image: arrow.vectorFromArray(
      rows.map((t) => ({ bytes: png(g + t), path: `frame_${String(t).padStart(6, '0')}.png` })),
      imageType,
    ),
    wrist_image: arrow.vectorFromArray(
      rows.map((t) => ({ bytes: png(100 + g + t), path: `frame_${String(t).padStart(6, '0')}.png` })),
      imageType,
    ),
    state: arrow.vectorFromArray(
      rows.map((t) => Array.from({ length: 8 }, (_, d) => ep + t / 10 + d / 100)),
      vecType(8),
    ),
    actions: arrow.vectorFromArray(
      rows.map((t) => Array.from({ length: 7 }, (_, d) => -ep - t / 10 - d / 100)),
      vecType(7),
    ),
    timestamp: arrow.vectorFromArray(
      rows.map((t) => t / 10),
      new arrow.Float32(),
    ),
    frame_index: arrow.vectorFromArray(
      rows.map((t) => BigInt(t)),
      new arrow.Int64(),
    ),
    episode_index: arrow.vectorFromArray(
      rows.map(() => BigInt(ep)),
      new arrow.Int64(),
    ),
    index: arrow.vectorFromArray(
      rows.map((t) => BigInt(g + t)),
      new arrow.Int64(),
    ),
    task_index: arrow.vectorFromArray(
      rows.map(() => BigInt(ep % 2)),
      new arrow.Int64(),
    ),
  };
  const table = new arrow.Table(cols);
  const props = new WriterPropertiesBuilder().setCompression(Compression.SNAPPY).build();
  const bytes = writeParquet(Table.fromIPCStream(arrow.tableToIPC(table, 'stream')), props);
  const file = path.join(out, 'data', 'chunk-000', `episode_${String(ep).padStart(6, '0')}.parquet`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, bytes);
  episodes.push(JSON.stringify({ episode_index: ep, tasks: [tasks[ep % 2]], length: STEPS }));
  epStats.push(JSON.stringify({ episode_index: ep, stats: {} }));
}
const feat = (dtype, shape, names) => ({ dtype, shape, names });
const info = {
  codebase_version: 'v2.1',
  robot_type: 'panda',
  total_episodes: EPISODES,
  total_frames: EPISODES * STEPS,
  total_tasks: tasks.length,
  total_videos: 0,
  total_chunks: 1,
  chunks_size: 1000,
  fps: 10,
  splits: { train: `0:${EPISODES}` },
  data_path: 'data/chunk-{episode_chunk:03d}/episode_{episode_index:06d}.parquet',
  video_path: null,
  features: {
    image: feat('image', [SIZE, SIZE, 3], ['height', 'width', 'channel']),
    wrist_image: feat('image', [SIZE, SIZE, 3], ['height', 'width', 'channel']),
    state: feat('float32', [8], ['state']),
    actions: feat('float32', [7], ['actions']),
    timestamp: feat('float32', [1], null),
    frame_index: feat('int64', [1], null),
    episode_index: feat('int64', [1], null),
    index: feat('int64', [1], null),
    task_index: feat('int64', [1], null),
  },
};
fs.mkdirSync(path.join(out, 'meta'), { recursive: true });
fs.writeFileSync(path.join(out, 'meta', 'info.json'), JSON.stringify(info, null, 4));
fs.writeFileSync(path.join(out, 'meta', 'episodes.jsonl'), episodes.join('\n') + '\n');
fs.writeFileSync(
  path.join(out, 'meta', 'tasks.jsonl'),
  tasks.map((task, task_index) => JSON.stringify({ task_index, task })).join('\n') + '\n',
);
fs.writeFileSync(path.join(out, 'meta', 'episodes_stats.jsonl'), epStats.join('\n') + '\n');
console.log('wrote', out);

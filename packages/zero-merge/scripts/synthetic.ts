// Synthetic DeepSpeed ZeRO checkpoints in the fixtures' layout, written with checkpoint-io's writePt.
// Used by the tests (small, with deliberate quirks) and the benchmark (GBs). Values follow a cheap
// deterministic formula so that any tensor of the consolidated output can be checked exactly.
//
// Stand-ins: writePt writes plain data only (what torch.load(weights_only=True) accepts), so the
// DeepSpeed objects of a real checkpoint are plain values here: zero_stage is an int (DeepSpeed
// pickles ZeroStageEnum(3)), loss_scaler a dict, param_slice_mappings dicts of {start, numel}.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  f32ToBf16,
  f32ToF16,
  PickleDict,
  PtTensorData,
  TorchSize,
  writePt,
  type PtWritable,
} from '@vla-lora/checkpoint-io';

export interface SynthParam {
  name: string;
  shape: number[];
  trainable: boolean;
  /** Optimizer param group (trainable params). */
  group?: number;
}

export interface SynthOptions {
  stage: 1 | 2 | 3;
  worldSize: number;
  dtype: 'bf16' | 'fp16';
  params: SynthParam[];
  buffers?: Array<{ name: string; shape: number[] }>;
  /** [tied, source] */
  shared?: Array<[string, string]>;
  tag?: string;
  /** Written as zero_stage instead of `stage` (to make unsupported-stage checkpoints). */
  zeroStageValue?: number;
  /** ZeRO-3: re-split each rank's flat fp32 vector into groups of this many elements (params straddle them). */
  subGroupElems?: number;
  /** param_shapes entries that lie about a shape (to make inconsistent checkpoints). */
  paramShapesOverride?: Record<string, number[]>;
  /** adapter_config.json to put beside `latest` (and a 40-byte placeholder adapter_model.safetensors). */
  adapterConfig?: Record<string, unknown>;
  /** Skip exp_avg / exp_avg_sq (smaller files). Default: written, as DeepSpeed does. */
  noMoments?: boolean;
  /** Called after each file is written. */
  onFile?: (path: string, bytes: number) => void;
}

const numelOf = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
const ceilDiv = (a: number, b: number): number => Math.floor((a + b - 1) / b);

/** The fp32 value of element `i` of parameter number `p`: exact in float32, in [-0.5, 0.5). */
export function synthValue(p: number, i: number): number {
  const h = Math.imul((i + 1) ^ Math.imul(p + 1, 0x9e3779b9), 0x85ebca6b) >>> 0;
  return ((h ^ (h >>> 13)) >>> 8) / 16777216 - 0.5;
}

/** Elements [start, start+count) of parameter `p` as float32 (zeros past `numel`: the padding). */
export function synthValues(p: number, start: number, count: number, numel: number): Float32Array {
  const out = new Float32Array(count);
  const end = Math.min(start + count, numel);
  for (let i = start; i < end; i++) out[i - start] = synthValue(p, i);
  return out;
}

function half(values: Float32Array, dtype: 'bf16' | 'fp16'): Uint8Array {
  const u = dtype === 'bf16' ? f32ToBf16(values) : f32ToF16(values);
  return new Uint8Array(u.buffer, u.byteOffset, u.byteLength);
}

function f32bytes(values: Float32Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

const torchHalf = (d: 'bf16' | 'fp16'): 'bfloat16' | 'float16' => (d === 'bf16' ? 'bfloat16' : 'float16');

/** Expected consolidated bytes of one tensor, as zero_to_fp32 would give them ('keep' dtypes). */
export function synthExpected(
  opts: SynthOptions,
  name: string,
): { dtype: 'F32' | 'BF16' | 'F16'; shape: number[]; bytes: Uint8Array } {
  const source = opts.shared?.find(([t]) => t === name)?.[1] ?? name;
  const p = opts.params.findIndex((x) => x.name === source);
  if (p >= 0) {
    const prm = opts.params[p]!;
    const n = numelOf(prm.shape);
    const v = synthValues(p, 0, n, n);
    if (prm.trainable) return { dtype: 'F32', shape: prm.shape, bytes: f32bytes(v) };
    return { dtype: opts.dtype === 'bf16' ? 'BF16' : 'F16', shape: prm.shape, bytes: half(v, opts.dtype) };
  }
  const b = (opts.buffers ?? []).findIndex((x) => x.name === source);
  if (b < 0) throw new Error(`no synthetic tensor ${name}`);
  const buf = opts.buffers![b]!;
  const n = numelOf(buf.shape);
  return { dtype: 'F32', shape: buf.shape, bytes: f32bytes(synthValues(10_000 + b, 0, n, n)) };
}

function dsConfig(opts: SynthOptions): PickleDict {
  return new PickleDict(false, [
    ['train_micro_batch_size_per_gpu', 4],
    ['gradient_accumulation_steps', 1],
    ['bf16', new PickleDict(false, [['enabled', opts.dtype === 'bf16']])],
    ['fp16', new PickleDict(false, [['enabled', opts.dtype === 'fp16']])],
    ['zero_optimization', new PickleDict(false, [['stage', opts.stage]])],
  ]);
}

const size = (s: number[]): TorchSize => new TorchSize([...s]);
const od = (entries: Array<[string, PtWritable]>): PickleDict => new PickleDict(true, entries as never);
const zeros = (n: number): PtTensorData => new PtTensorData('float32', [n], async () => new Uint8Array(n * 4));

function trainableGroups(opts: SynthOptions): Array<Array<{ p: number; prm: SynthParam }>> {
  const groups: Array<Array<{ p: number; prm: SynthParam }>> = [];
  opts.params.forEach((prm, p) => {
    if (!prm.trainable) return;
    const g = prm.group ?? 0;
    (groups[g] ??= []).push({ p, prm });
  });
  return groups.map((g) => g ?? []);
}

function modelStatesCommon(
  opts: SynthOptions,
  groups: ReturnType<typeof trainableGroups>,
): Array<[string, PtWritable]> {
  const over = opts.paramShapesOverride ?? {};
  return [
    ['buffer_names', (opts.buffers ?? []).map((b) => b.name)],
    ['optimizer', null],
    ['param_shapes', groups.map((g) => od(g.map(({ prm }) => [prm.name, size(over[prm.name] ?? prm.shape)])))],
    ['frozen_param_shapes', od(opts.params.filter((x) => !x.trainable).map((x) => [x.name, size(x.shape)]))],
  ];
}

function modelStatesTail(opts: SynthOptions): Array<[string, PtWritable]> {
  return [
    ['shared_params', new PickleDict(false, (opts.shared ?? []) as never)],
    ['lr_scheduler', new PickleDict(false, [['last_epoch', 1]])],
    ['data_sampler', null],
    ['random_ltd', null],
    ['skipped_steps', 0],
    ['global_steps', 1],
    ['global_samples', 4],
    ['dp_world_size', opts.worldSize],
    ['mp_world_size', 1],
    ['ds_config', dsConfig(opts)],
    ['ds_version', '0.18.3'],
  ];
}

function bufferEntries(opts: SynthOptions): Array<[string, PtWritable]> {
  return (opts.buffers ?? []).map((b, i) => {
    const n = numelOf(b.shape);
    return [b.name, new PtTensorData('float32', b.shape, f32bytes(synthValues(10_000 + i, 0, n, n)))];
  });
}

async function write(path: string, value: PtWritable, opts: SynthOptions): Promise<void> {
  await writePt(path, value);
  if (opts.onFile) {
    const { stat } = await import('node:fs/promises');
    opts.onFile(path, (await stat(path)).size);
  }
}

/** The loss-scaler entries both ZeRO optimizer states start with (a static scale of 1). */
const lossScaling = (): Array<[string, PtWritable]> => [
  [
    'loss_scaler',
    new PickleDict(false, [
      ['cur_scale', 1],
      ['dynamic', false],
    ]),
  ],
  ['dynamic_loss_scale', false],
  ['overflow', false],
];

/** Writes rank `r`'s `*_optim_states.pt`: {optimizer_state_dict: `state`, ds_config, ds_version}. */
async function writeOptimStates(
  dir: string,
  r: number,
  opts: SynthOptions,
  state: Array<[string, PtWritable]>,
): Promise<void> {
  const optim = new PickleDict(false, [
    ['optimizer_state_dict', new PickleDict(false, state as never)],
    ['ds_config', dsConfig(opts)],
    ['ds_version', '0.18.3'],
  ] as never);
  const prefix = opts.dtype === 'bf16' ? 'bf16_' : '';
  await write(join(dir, `${prefix}zero_pp_rank_${r}_mp_rank_00_optim_states.pt`), optim, opts);
}

async function writeZero3(dir: string, opts: SynthOptions): Promise<void> {
  const ws = opts.worldSize;
  const groups = trainableGroups(opts);
  const hd = torchHalf(opts.dtype);
  // per rank, the flat fp32 vector = for each group, for each param, this rank's padded slice
  const layout = groups.map((g) =>
    g.map(({ p, prm }) => ({ p, n: numelOf(prm.shape), pn: ceilDiv(numelOf(prm.shape), ws) })),
  );
  const groupSizes = layout.map((g) => g.reduce((a, x) => a + x.pn, 0));
  const total = groupSizes.reduce((a, b) => a + b, 0);
  const flatSizes = opts.subGroupElems
    ? Array.from({ length: ceilDiv(total, opts.subGroupElems) }, (_, i) =>
        Math.min(opts.subGroupElems!, total - i * opts.subGroupElems!),
      )
    : groupSizes;
  for (let r = 0; r < ws; r++) {
    const rankFlat = (start: number, count: number): Uint8Array => {
      // elements [start, start+count) of rank r's concatenation over all groups
      const out = new Float32Array(count);
      let off = 0;
      for (const g of layout) {
        for (const x of g) {
          const lo = Math.max(start, off);
          const hi = Math.min(start + count, off + x.pn);
          if (lo < hi) out.set(synthValues(x.p, r * x.pn + (lo - off), hi - lo, x.n), lo - start);
          off += x.pn;
        }
      }
      return f32bytes(out);
    };
    let flatStart = 0;
    const flat: PtTensorData[] = [];
    for (const n of flatSizes) {
      const s = flatStart;
      flat.push(new PtTensorData('float32', [n], async () => rankFlat(s, n)));
      flatStart += n;
    }
    const state = new PickleDict(
      false,
      flatSizes.map((n, i) => [
        i,
        new PickleDict(
          false,
          (opts.noMoments
            ? [['step', new PtTensorData('float32', [], new Uint8Array(4))]]
            : [
                ['exp_avg', zeros(n)],
                ['exp_avg_sq', zeros(n)],
                ['step', new PtTensorData('float32', [], new Uint8Array(4))],
              ]) as never,
        ),
      ]) as never,
    );
    await writeOptimStates(dir, r, opts, [
      ['zero_stage', opts.zeroStageValue ?? 3],
      ...lossScaling(),
      ['partition_count', ws],
      [
        'optimizer_state_dict',
        new PickleDict(false, [
          ['state', state],
          [
            'param_groups',
            flatSizes.map(
              (_, i) =>
                new PickleDict(false, [
                  ['lr', 1e-4],
                  ['params', [i]],
                ]),
            ),
          ],
        ] as never),
      ],
      ['fp32_flat_groups', flat],
    ]);

    const module: Array<[string, PtWritable]> = [
      ...opts.params.map((x): [string, PtWritable] => [x.name, new PtTensorData(hd, [0], new Uint8Array(0))]),
      ...(opts.shared ?? []).map(([t]): [string, PtWritable] => [t, new PtTensorData(hd, [0], new Uint8Array(0))]),
      ...bufferEntries(opts),
    ];
    const fragments = opts.params
      .map((x, p) => ({ x, p }))
      .filter(({ x }) => !x.trainable)
      .map(({ x, p }): [string, PtWritable] => {
        const n = numelOf(x.shape);
        const pn = ceilDiv(n, ws);
        return [x.name, new PtTensorData(hd, [pn], async () => half(synthValues(p, r * pn, pn, n), opts.dtype))];
      });
    const model = new PickleDict(false, [
      ['module', od(module)],
      ['frozen_param_fragments', od(fragments)],
      ...modelStatesCommon(opts, groups),
      ...modelStatesTail(opts),
    ] as never);
    await write(join(dir, `zero_pp_rank_${r}_mp_rank_00_model_states.pt`), model, opts);
  }
}

async function writeZero12(dir: string, opts: SynthOptions): Promise<void> {
  const ws = opts.worldSize;
  const groups = trainableGroups(opts);
  const hd = torchHalf(opts.dtype);
  const alignTo = 2 * ws;
  const layout = groups.map((g) => {
    let off = 0;
    const items = g.map(({ p, prm }) => {
      const n = numelOf(prm.shape);
      const it = { p, n, off };
      off += n;
      return it;
    });
    const padded = alignTo * ceilDiv(off, alignTo);
    return { items, numel: off, padded, part: padded / ws };
  });
  const groupSlice = (g: (typeof layout)[number], start: number, count: number): Uint8Array => {
    const out = new Float32Array(count);
    for (const x of g.items) {
      const lo = Math.max(start, x.off);
      const hi = Math.min(start + count, x.off + x.n);
      if (lo < hi) out.set(synthValues(x.p, lo - x.off, hi - lo, x.n), lo - start);
    }
    return f32bytes(out);
  };
  for (let r = 0; r < ws; r++) {
    const parts = layout.map(
      (g) => new PtTensorData('float32', [g.part], async () => groupSlice(g, r * g.part, g.part)),
    );
    await writeOptimStates(dir, r, opts, [
      ...lossScaling(),
      ['clip_grad', 1],
      [
        'base_optimizer_state',
        layout.map(
          (g) =>
            new PickleDict(
              false,
              (opts.noMoments
                ? []
                : [
                    ['exp_avg', zeros(g.part)],
                    ['exp_avg_sq', zeros(g.part)],
                  ]) as never,
            ),
        ),
      ],
      ['single_partition_of_fp32_groups', parts],
      ['zero_stage', opts.zeroStageValue ?? opts.stage],
      ['group_paddings', layout.map((g) => (r === ws - 1 ? g.padded - g.numel : 0))],
      ['partition_count', layout.map(() => ws)],
      ['ds_version', '0.18.3'],
    ]);
  }
  const full = (x: SynthParam, p: number): PtTensorData => {
    const n = numelOf(x.shape);
    return new PtTensorData(hd, x.shape, async () => half(synthValues(p, 0, n, n), opts.dtype));
  };
  const model = new PickleDict(false, [
    ['module', od([...opts.params.map((x, p): [string, PtWritable] => [x.name, full(x, p)]), ...bufferEntries(opts)])],
    ...modelStatesCommon(opts, groups),
    [
      'frozen_param_fragments',
      od(
        opts.params
          .map((x, p) => ({ x, p }))
          .filter(({ x }) => !x.trainable)
          .map(({ x, p }): [string, PtWritable] => [x.name, full(x, p)]),
      ),
    ],
    ...modelStatesTail(opts),
  ] as never);
  await write(join(dir, 'mp_rank_00_model_states.pt'), model, opts);
}

/** Writes `<dir>/latest`, `<dir>/<tag>/*_states.pt` (and adapter files when asked). Returns the tag dir. */
export async function writeSyntheticCheckpoint(dir: string, opts: SynthOptions): Promise<string> {
  const tag = opts.tag ?? 'global_step1';
  const tagDir = join(dir, tag);
  await mkdir(tagDir, { recursive: true });
  await writeFile(join(dir, 'latest'), tag);
  if (opts.adapterConfig) {
    await writeFile(join(dir, 'adapter_config.json'), JSON.stringify(opts.adapterConfig, null, 2));
    // the 40-byte placeholder: {"__metadata__":{"format":"pt"}} padded to 32 bytes
    const header = Buffer.from('{"__metadata__":{"format":"pt"}}');
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(header.length));
    await writeFile(join(dir, 'adapter_model.safetensors'), Buffer.concat([len, header]));
  }
  if (opts.stage === 3) await writeZero3(tagDir, opts);
  else await writeZero12(tagDir, opts);
  return tagDir;
}

/** A LoRA-on-a-transformer parameter list: frozen base, LoRA A/B on q/k/v/o/gate/up/down, a trainable head. */
export function loraModelParams(o: {
  layers: number;
  hidden: number;
  mlp: number;
  vocab: number;
  rank: number;
  head?: number[];
}): SynthParam[] {
  const out: SynthParam[] = [
    { name: 'base_model.model.model.embed_tokens.weight', shape: [o.vocab, o.hidden], trainable: false },
  ];
  const proj: Array<[string, number, number]> = [
    ['self_attn.q_proj', o.hidden, o.hidden],
    ['self_attn.k_proj', o.hidden, o.hidden],
    ['self_attn.v_proj', o.hidden, o.hidden],
    ['self_attn.o_proj', o.hidden, o.hidden],
    ['mlp.gate_proj', o.hidden, o.mlp],
    ['mlp.up_proj', o.hidden, o.mlp],
    ['mlp.down_proj', o.mlp, o.hidden],
  ];
  for (let l = 0; l < o.layers; l++) {
    const pre = `base_model.model.model.layers.${l}`;
    out.push({ name: `${pre}.input_layernorm.weight`, shape: [o.hidden], trainable: false });
    for (const [m, inF, outF] of proj) {
      out.push({ name: `${pre}.${m}.base_layer.weight`, shape: [outF, inF], trainable: false });
      out.push({ name: `${pre}.${m}.lora_A.default.weight`, shape: [o.rank, inF], trainable: true, group: 0 });
      out.push({ name: `${pre}.${m}.lora_B.default.weight`, shape: [outF, o.rank], trainable: true, group: 0 });
    }
    out.push({ name: `${pre}.post_attention_layernorm.weight`, shape: [o.hidden], trainable: false });
  }
  out.push({ name: 'base_model.model.model.norm.weight', shape: [o.hidden], trainable: false });
  let prev = o.hidden;
  (o.head ?? []).forEach((w, i) => {
    out.push({ name: `action_head.layers.${i}.weight`, shape: [w, prev], trainable: true, group: 0 });
    out.push({ name: `action_head.layers.${i}.bias`, shape: [w], trainable: true, group: 1 });
    prev = w;
  });
  return out;
}

/** The size of a LoRA model for `loraSynthOptions`: loraModelParams' sizes and the length of its one buffer. */
export interface LoraSynthModel {
  layers: number;
  hidden: number;
  mlp: number;
  vocab: number;
  rank: number;
  head: number[];
  runningMean: number;
}

/** The tests' small LoRA model. */
export const TEST_LORA_MODEL: LoraSynthModel = {
  layers: 2,
  hidden: 8,
  mlp: 12,
  vocab: 11,
  rank: 3,
  head: [7, 2],
  runningMean: 5,
};

/**
 * ZeRO-3 over 3 ranks in bf16 of a LoRA model (loraModelParams) with an action_head.running_mean buffer, lm_head
 * tied to embed_tokens, and PEFT's adapter_config.json (r = rank, lora_alpha = 2 rank, q/k/v/o/gate/up/down);
 * `o` overrides any of it.
 */
export function loraSynthOptions(model: LoraSynthModel, o: Partial<SynthOptions> = {}): SynthOptions {
  return {
    stage: 3,
    worldSize: 3,
    dtype: 'bf16',
    params: loraModelParams(model),
    buffers: [{ name: 'action_head.running_mean', shape: [model.runningMean] }],
    shared: [['base_model.model.lm_head.weight', 'base_model.model.model.embed_tokens.weight']],
    adapterConfig: {
      peft_type: 'LORA',
      r: model.rank,
      lora_alpha: 2 * model.rank,
      target_modules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
    },
    ...o,
  };
}

// LoRA recipes of the families as their projects run them, with exact parameter accounting (what PEFT's
// print_trainable_parameters prints), the LoRA config a PyTorch trainer would pass to PEFT, and a memory bill.
import type { ActivationStack } from '../activation-stacks.js';
import { countParams, type ParamCounts } from '../accounting.js';
import { InvalidConfigError, UnknownVariantError } from '../errors.js';
import { memoryBill, type ComputeDtype, type MemoryBill, type ShardStage } from '../memory-bill.js';
import type { ParamDtype, ParamSpec } from '../param-spec.js';
import { isLoraPath } from '../path-segments.js';
import { OPENVLA_7B_CONFIG, QWEN25_VL_3B_CONFIG, QWEN25_VL_7B_CONFIG } from './configs.js';
import { isLoraWrappable, moduleParams, type ModuleSpec } from './modules.js';
import { openVlaModules } from './openvla.js';
import { allLinearTargets, matchesTargetModules, type AllLinearRule } from './peft-targets.js';
import { QWEN25_VL_PROJECTOR_KEY, QWEN25_VL_VISION_KEYS, qwen25VlModules, type Qwen25VlConfig } from './qwen2-5-vl.js';
import { vitPatchTokens } from './vit.js';

export const FAMILY_RECIPE_NAMES = ['openvla_7b_lora', 'qwen2_5_vl_7b_lora', 'qwen2_5_vl_3b_lora'] as const;
export type FamilyRecipeName = (typeof FAMILY_RECIPE_NAMES)[number];

/** The LoraConfig a PyTorch trainer passes to PEFT (adapter_config.json field names). */
export interface PeftLoraConfigJson {
  peft_type: 'LORA';
  base_model_name_or_path: string;
  r: number;
  lora_alpha: number;
  lora_dropout: number;
  /** What the project passes ("all-linear") and what PEFT expands it to, for the record. */
  target_modules: string | string[];
  init_lora_weights: boolean | 'gaussian';
  bias: 'none';
  task_type: string | null;
  use_rslora: false;
  use_dora: false;
}

export interface PublishedFigure {
  /** e.g. PEFT's line from a public training log. */
  text: string;
  source: string;
}

export interface FamilyTraining {
  batchSize: number;
  /** Tokens per example in the language model (image tokens included). */
  seqLen: number;
  dtype: ComputeDtype;
  gradientCheckpointing: boolean;
  /** torch.utils.checkpoint flavour when checkpointing, and whether the trainer makes the inputs require grad
   * (transformers' enable_input_require_grads). */
  checkpointKind: 'reentrant' | 'non-reentrant';
  inputRequiresGrad: boolean;
  /** Storage dtype of the LoRA weights during training. */
  loraDtype: ParamDtype;
  note: string;
}

/** A stage of the forward pass (freeze-policy's preflightGraph reads this shape). */
export interface FamilyFlowStage {
  name: string;
  prefixes: string[];
  inputs: string[];
  checkpointed?: boolean;
}

export interface FamilyFlow {
  stages: FamilyFlowStage[];
  lossFrom: string[];
}

export interface FamilyRecipe {
  name: FamilyRecipeName;
  title: string;
  baseModel: string;
  modules: ModuleSpec[];
  /** Modules wrapped with LoRA (full paths). */
  loraModules: string[];
  /** Every parameter after wrapping (PEFT names: base_layer, lora_A/B.default). */
  specs: ParamSpec[];
  peftConfig: PeftLoraConfigJson;
  /** How the project selects targets, in words (printed by plan). */
  targetRule: string;
  /** Module prefixes frozen and NOT LoRA-wrapped (their output feeds what trains). */
  frozenModules: string[];
  training: FamilyTraining;
  /** What feeds what on the way to the loss (for the gradient-flow preflight). */
  flow: FamilyFlow;
  stacks: ActivationStack[];
  publishedCounts?: PublishedFigure;
  publishedMemory?: PublishedFigure & { bytes: number };
}

function wrap(
  modules: readonly ModuleSpec[],
  isTarget: (m: ModuleSpec) => boolean,
  rank: number,
  loraDtype: ParamDtype,
): { specs: ParamSpec[]; loraModules: string[] } {
  const specs: ParamSpec[] = [];
  const loraModules: string[] = [];
  for (const m of modules) {
    const t = isLoraWrappable(m) && isTarget(m);
    if (t) loraModules.push(m.path);
    specs.push(...moduleParams(m, t ? { rank, dtype: loraDtype } : undefined));
  }
  return { specs, loraModules };
}

/** LLaMA-Factory's find_all_linear_modules + patch_target_modules for a composite model with the vision tower and
 * projector frozen: last names of the Linears outside `forbidden`, then every module whose path contains one of
 * them and none of `forbidden` (substring tests, as LLaMA-Factory does). */
export function llamaFactoryAllTargets(modules: readonly ModuleSpec[], forbidden: readonly string[]): string[] {
  const names = new Set<string>();
  for (const m of modules)
    if (m.kind === 'Linear' && !forbidden.some((f) => m.path.includes(f)))
      names.add(m.path.slice(m.path.lastIndexOf('.') + 1));
  return modules
    .filter((m) => [...names].some((n) => m.path.includes(n)) && !forbidden.some((f) => m.path.includes(f)))
    .map((m) => m.path);
}

const GIB = 1024 ** 3;

function openVla(): FamilyRecipe {
  const c = OPENVLA_7B_CONFIG;
  const modules = openVlaModules(c, 'bfloat16');
  const rule: AllLinearRule = 'base-names';
  const targets = allLinearTargets(modules, 'language_model.lm_head', rule);
  const r = 32;
  const { specs, loraModules } = wrap(modules, (m) => matchesTargetModules(m.path, targets), r, 'bfloat16');
  const [dino, siglip] = c.vision;
  const patches = vitPatchTokens(dino);
  const llmTokens = patches + 40;
  return {
    name: 'openvla_7b_lora',
    title:
      'OpenVLA-7B, LoRA as vla-scripts/finetune.py (r=32, lora_alpha=min(r,16), dropout 0, all-linear, gaussian init)',
    baseModel: 'openvla/openvla-7b',
    modules,
    loraModules,
    specs,
    peftConfig: {
      peft_type: 'LORA',
      base_model_name_or_path: 'openvla/openvla-7b',
      r,
      lora_alpha: Math.min(r, 16),
      lora_dropout: 0,
      target_modules: 'all-linear',
      init_lora_weights: 'gaussian',
      bias: 'none',
      task_type: null,
      use_rslora: false,
      use_dora: false,
    },
    targetRule:
      'all-linear as PEFT 0.11.1 (pinned by OpenVLA) expands it: the last names of every nn.Linear, matched by suffix — lm_head included (its nested name is not removed) and the two patch-embedding Conv2d "proj" layers too',
    frozenModules: [],
    training: {
      batchSize: 16,
      seqLen: llmTokens,
      dtype: 'bfloat16',
      gradientCheckpointing: false,
      checkpointKind: 'reentrant',
      inputRequiresGrad: false,
      loraDtype: 'bfloat16',
      note: `finetune.py defaults: batch 16, grad accumulation 1, bf16 autocast, no gradient checkpointing; ${patches} patch tokens + ~40 prompt/action tokens`,
    },
    // Prismatic replaces each ViT's forward with get_intermediate_layers(n={len(blocks) - 2}): the patch features
    // of the second-to-last block. The last block, the final norm and SigLIP's attention-pool head never feed the
    // loss (OpenVLA's finetune.py wraps the model in DDP with find_unused_parameters=True).
    flow: {
      stages: [
        { name: 'dinov2', prefixes: ['vision_backbone.featurizer'], inputs: ['input'] },
        {
          name: 'dinov2 (unused tail)',
          prefixes: [`vision_backbone.featurizer.blocks.${dino.depth - 1}`, 'vision_backbone.featurizer.norm'],
          inputs: ['dinov2'],
        },
        { name: 'siglip', prefixes: ['vision_backbone.fused_featurizer'], inputs: ['input'] },
        {
          name: 'siglip (unused tail)',
          prefixes: [
            `vision_backbone.fused_featurizer.blocks.${siglip.depth - 1}`,
            'vision_backbone.fused_featurizer.norm',
            'vision_backbone.fused_featurizer.attn_pool',
          ],
          inputs: ['siglip'],
        },
        { name: 'projector', prefixes: ['projector'], inputs: ['dinov2', 'siglip'] },
        { name: 'embed_tokens', prefixes: ['language_model.model.embed_tokens'], inputs: ['input'] },
        {
          name: 'llm',
          prefixes: ['language_model.model.layers', 'language_model.model.norm'],
          inputs: ['projector', 'embed_tokens'],
          checkpointed: true,
        },
        { name: 'lm_head', prefixes: ['language_model.lm_head'], inputs: ['llm'] },
      ],
      lossFrom: ['lm_head'],
    },
    stacks: [
      {
        name: 'vision_backbone.featurizer (DINOv2)',
        layers: dino.depth,
        tokens: patches + 1 + dino.registers,
        hidden: dino.width,
        qDim: dino.width,
        kvDim: dino.width,
        numHeads: 16,
        mlpDim: dino.mlpHidden,
        mlp: 'plain',
      },
      {
        name: 'vision_backbone.fused_featurizer (SigLIP)',
        layers: siglip.depth,
        tokens: patches,
        hidden: siglip.width,
        qDim: siglip.width,
        kvDim: siglip.width,
        numHeads: 16,
        mlpDim: siglip.mlpHidden,
        mlp: 'plain',
      },
      {
        name: 'language_model (Llama-2-7B)',
        layers: c.llm.num_hidden_layers,
        tokens: llmTokens,
        hidden: c.llm.hidden_size,
        qDim: c.llm.hidden_size,
        kvDim: c.llm.hidden_size,
        numHeads: c.llm.num_attention_heads,
        mlpDim: c.llm.intermediate_size,
        mlp: 'gated',
      },
    ],
    publishedCounts: {
      text: 'trainable params: 110,828,288 || all params: 7,652,065,472 || trainable%: 1.4483',
      source:
        'public OpenVLA / OpenVLA-OFT finetune.py training logs (e.g. RLinf openvla-oft warm-up log; LIBERO LoRA write-ups), printed by PEFT 0.11.1',
    },
    publishedMemory: {
      text: 'LoRA fine-tuning with --batch_size 16 --grad_accumulation_steps 1 requires ~72 GB GPU memory',
      source: 'https://github.com/openvla/openvla#fine-tuning-openvla-via-lora (README)',
      bytes: 72 * 1e9,
    },
  };
}

function qwen(name: 'qwen2_5_vl_7b_lora' | 'qwen2_5_vl_3b_lora', c: Qwen25VlConfig, id: string): FamilyRecipe {
  const modules = qwen25VlModules(c, 'bfloat16');
  const forbidden = ['lm_head', QWEN25_VL_PROJECTOR_KEY, ...QWEN25_VL_VISION_KEYS];
  const targets = llamaFactoryAllTargets(modules, forbidden);
  const set = new Set(targets);
  const r = 8;
  const { specs, loraModules } = wrap(modules, (m) => set.has(m.path), r, 'float32');
  const recipe: FamilyRecipe = {
    name,
    title: `${id}, LoRA as LLaMA-Factory's defaults (lora_rank 8, lora_alpha 16, lora_target all, vision tower and merger frozen)`,
    baseModel: id,
    modules,
    loraModules,
    specs,
    peftConfig: {
      peft_type: 'LORA',
      base_model_name_or_path: id,
      r,
      lora_alpha: 16,
      lora_dropout: 0,
      target_modules: targets,
      init_lora_weights: true,
      bias: 'none',
      task_type: 'CAUSAL_LM',
      use_rslora: false,
      use_dora: false,
    },
    targetRule:
      'LLaMA-Factory lora_target=all: every Linear of the language model (q/k/v/o/gate/up/down_proj); freeze_vision_tower and freeze_multi_modal_projector keep visual.patch_embed, visual.blocks and visual.merger frozen and unwrapped; lm_head excluded',
    frozenModules: ['visual.patch_embed', 'visual.blocks', 'visual.merger'],
    training: {
      batchSize: 1,
      seqLen: 2048,
      dtype: 'bfloat16',
      gradientCheckpointing: true,
      checkpointKind: 'reentrant',
      inputRequiresGrad: true,
      loraDtype: 'float32',
      note: 'LLaMA-Factory example defaults: per_device_train_batch_size 1, cutoff_len 2048, bf16, gradient checkpointing on, trainable (LoRA) weights upcast to float32',
    },
    flow: {
      stages: [
        { name: 'vision tower', prefixes: ['visual.patch_embed', 'visual.blocks'], inputs: ['input'] },
        { name: 'merger', prefixes: ['visual.merger'], inputs: ['vision tower'] },
        { name: 'embed_tokens', prefixes: ['model.embed_tokens'], inputs: ['input'] },
        {
          name: 'language model',
          prefixes: ['model.layers', 'model.norm'],
          inputs: ['merger', 'embed_tokens'],
          checkpointed: true,
        },
        { name: 'lm_head', prefixes: ['lm_head'], inputs: ['language model'] },
      ],
      lossFrom: ['lm_head'],
    },
    stacks: [
      {
        name: 'model (Qwen2 language model)',
        layers: c.num_hidden_layers,
        tokens: 2048,
        hidden: c.hidden_size,
        qDim: c.hidden_size,
        kvDim: ((c.num_key_value_heads ?? c.num_attention_heads) * c.hidden_size) / c.num_attention_heads,
        numHeads: c.num_attention_heads,
        mlpDim: c.intermediate_size,
        mlp: 'gated',
      },
    ],
  };
  if (name === 'qwen2_5_vl_7b_lora')
    recipe.publishedCounts = {
      text: 'trainable params: 20,185,088 || all params: 8,312,351,744 || trainable%: 0.2428',
      source:
        "a public LLaMA-Factory Qwen2.5-VL-7B-Instruct LoRA log (llamafactory.model.loader, after 'Set vision model not trainable: [visual.patch_embed, visual.blocks]' and 'Set multi model projector not trainable: visual.merger')",
    };
  else
    recipe.publishedCounts = {
      text: 'base model parameters: 3,754,622,976 (no public LoRA log found; several public records of the Qwen2.5-VL-3B-Instruct checkpoint)',
      source:
        'public load/merge records of Qwen/Qwen2.5-VL-3B-Instruct (revision 66285546…): 3,754,622,976 parameters, 668,684,288 in the vision tower',
    };
  return recipe;
}

/** A family LoRA recipe by name. */
export function getFamilyRecipe(name: string): FamilyRecipe {
  switch (name) {
    case 'openvla_7b_lora':
      return openVla();
    case 'qwen2_5_vl_7b_lora':
      return qwen(name, QWEN25_VL_7B_CONFIG, 'Qwen/Qwen2.5-VL-7B-Instruct');
    case 'qwen2_5_vl_3b_lora':
      return qwen(name, QWEN25_VL_3B_CONFIG, 'Qwen/Qwen2.5-VL-3B-Instruct');
    default:
      throw new UnknownVariantError('family recipe', name, FAMILY_RECIPE_NAMES);
  }
}

/** PEFT's print_trainable_parameters line. */
export function peftTrainableLine(c: Pick<ParamCounts, 'trainable' | 'total'>): string {
  const f = (n: number) => n.toLocaleString('en-US');
  return `trainable params: ${f(c.trainable)} || all params: ${f(c.total)} || trainable%: ${((100 * c.trainable) / c.total).toFixed(4)}`;
}

export interface FamilyPlanOptions {
  batchSize?: number;
  devices?: number;
  zeroStage?: ShardStage;
  gradientCheckpointing?: boolean;
}

export interface FamilyPlan {
  recipe: FamilyRecipe;
  counts: ParamCounts;
  baseParams: number;
  peftLine: string;
  bill: MemoryBill;
  lines: string[];
}

/** Counts, PEFT's line, the base count, the LoRA tensor count and the memory bill of a recipe. */
export function planFamily(name: string, opts: FamilyPlanOptions = {}): FamilyPlan {
  const recipe = getFamilyRecipe(name);
  const counts = countParams(recipe.specs, (s) => isLoraPath(s.path));
  const baseParams = counts.total - counts.loraParams;
  if (opts.batchSize !== undefined && (!Number.isInteger(opts.batchSize) || opts.batchSize < 1))
    throw new InvalidConfigError(`batchSize=${opts.batchSize} must be a positive integer.`);
  const t = recipe.training;
  const ckpt = opts.gradientCheckpointing ?? t.gradientCheckpointing;
  const bill = memoryBill({
    specs: recipe.specs,
    trainable: (s) => isLoraPath(s.path),
    batchSize: opts.batchSize ?? t.batchSize,
    dtype: t.dtype,
    optimizer: 'adamw',
    stacks: recipe.stacks,
    gradientCheckpointing: ckpt,
    devices: opts.devices ?? 1,
    zeroStage: opts.zeroStage ?? 0,
  });
  const f = (n: number) => n.toLocaleString('en-US');
  const peftLine = peftTrainableLine(counts);
  const lines = [
    `${recipe.name}: ${recipe.title}`,
    peftLine,
    `base params: ${f(baseParams)}`,
    `LoRA tensors: ${f(counts.loraTensors)} on ${f(recipe.loraModules.length)} modules (r=${recipe.peftConfig.r}, lora_alpha=${recipe.peftConfig.lora_alpha}, dropout ${recipe.peftConfig.lora_dropout}, init ${String(recipe.peftConfig.init_lora_weights)})`,
    `targets: ${recipe.targetRule}`,
  ];
  if (recipe.publishedCounts)
    lines.push(`published: ${recipe.publishedCounts.text} — ${recipe.publishedCounts.source}`);
  lines.push(
    `memory (${t.note}; ${ckpt ? 'gradient checkpointing' : 'no gradient checkpointing'}, batch ${opts.batchSize ?? t.batchSize}, LoRA weights ${t.loraDtype}):`,
    bill.table,
  );
  if (recipe.publishedMemory)
    lines.push(
      `published: ${recipe.publishedMemory.text} (${(recipe.publishedMemory.bytes / GIB).toFixed(1)} GiB) — ${recipe.publishedMemory.source}; the bill above leaves out allocator caches, temporary buffers and the CUDA context`,
    );
  return { recipe, counts, baseParams, peftLine, bill, lines };
}

// Writes a synthetic DeepSpeed ZeRO-2 or ZeRO-3 checkpoint of a LoRA transformer (frozen base in
// bf16/fp16, LoRA on the seven projections, a trainable head, a buffer, a tied lm_head) in the
// layout DeepSpeed saves, with checkpoint-io's writePt. DeepSpeed's own objects are plain stand-ins
// (see scripts/synthetic.ts).
//
//   node --import tsx scripts/gen-synthetic.ts /tmp/zero3-ckpt --stage 3 --ranks 8 --layers 6
//   node --import tsx scripts/gen-synthetic.ts /tmp/zero2-ckpt --stage 2 --ranks 4 --dtype fp16
import { Command } from 'commander';
import { loraSynthOptions, writeSyntheticCheckpoint } from './synthetic.js';

const program = new Command('gen-synthetic')
  .description(
    'write a synthetic DeepSpeed ZeRO checkpoint (latest + global_step1/*_states.pt + adapter_config.json + placeholder adapter)',
  )
  .argument('<out-dir>')
  .option('--stage <n>', 'ZeRO stage 1, 2 or 3', '3')
  .option('--ranks <n>', 'data-parallel world size', '8')
  .option('--dtype <d>', 'bf16 or fp16', 'bf16')
  .option('--layers <n>', 'transformer layers', '6')
  .option('--hidden <n>', 'hidden size', '4096')
  .option('--mlp <n>', 'MLP size', '11008')
  .option('--vocab <n>', 'vocabulary', '32000')
  .option('--rank <n>', 'LoRA rank', '64')
  .option('--head <widths>', 'trainable head layer widths, comma-separated', '8192,8192')
  .option('--sub-group <n>', 'ZeRO-3: split flat groups every n elements (params straddle them)')
  .option('--no-moments', 'skip exp_avg / exp_avg_sq (smaller files)')
  .action(async (out: string, o: Record<string, string | boolean | undefined>) => {
    const int = (k: string): number => Number.parseInt(String(o[k]), 10);
    const stage = int('stage');
    if (stage !== 1 && stage !== 2 && stage !== 3) throw new Error('--stage must be 1, 2 or 3');
    const dtype = o['dtype'] === 'fp16' ? 'fp16' : 'bf16';
    const rank = int('rank');
    const model = {
      layers: int('layers'),
      hidden: int('hidden'),
      mlp: int('mlp'),
      vocab: int('vocab'),
      rank,
      head: String(o['head']).split(',').filter(Boolean).map(Number),
      runningMean: 1024,
    };
    let total = 0;
    const t0 = Date.now();
    await writeSyntheticCheckpoint(
      out,
      loraSynthOptions(model, {
        stage,
        worldSize: int('ranks'),
        dtype,
        ...(o['subGroup'] ? { subGroupElems: int('subGroup') } : {}),
        noMoments: o['moments'] === false,
        adapterConfig: {
          peft_type: 'LORA',
          task_type: 'CAUSAL_LM',
          r: rank,
          lora_alpha: 2 * rank,
          lora_dropout: 0.05,
          bias: 'none',
          target_modules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
          base_model_name_or_path: 'synthetic',
          inference_mode: true,
        },
        onFile: (path, bytes) => {
          total += bytes;
          process.stdout.write(`${JSON.stringify({ file: path, bytes })}\n`);
        },
      }),
    );
    process.stdout.write(
      `${JSON.stringify({ done: out, stage, ranks: int('ranks'), bytes: total, seconds: (Date.now() - t0) / 1000 })}\n`,
    );
  });

await program.parseAsync();

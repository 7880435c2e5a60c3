// The README example: pi0 LoRA accounting and memory bill without allocating a single weight.
// Run: npx tsx scripts/example.ts
import {
  countParams,
  getPi0Config,
  isLoraPath,
  isUnder,
  memoryBill,
  PI0_HEADS,
  pi0ActivationStacks,
  pi0ParamSpecs,
  type ParamSpec,
} from '../src/index.js';

const cfg = getPi0Config('pi0_lora'); // gemma_2b_lora + gemma_300m_lora, SigLIP So400m/14
const specs = pi0ParamSpecs(cfg); // openpi PyTorch names, PEFT LoRA names
const trainable = (s: ParamSpec): boolean => isLoraPath(s.path) || PI0_HEADS.some((h) => isUnder(s.path, h));

const c = countParams(specs, trainable);
console.log(`LoRA tensors: ${c.loraTensors}`);
console.log(
  `trainable ${c.trainable.toLocaleString('en-US')} of ${c.total.toLocaleString('en-US')} (${c.trainablePercent.toFixed(2)}%)`,
);

const bill = memoryBill({
  specs,
  trainable,
  batchSize: 8,
  dtype: 'bfloat16',
  optimizer: 'adamw',
  devices: 1,
  stacks: pi0ActivationStacks(cfg),
});
console.log(bill.table);

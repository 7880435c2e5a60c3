// The README's example. Run: npx tsx scripts/example.ts [auto|wasm|cpu|webgpu|tfjs-node|tfjs-node-gpu]
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/index.js';

const info = await initBackend({ backend: process.argv[2] }); // flag wins, else VLA_BACKEND, else 'auto'
console.log(info.description);
const g = tf.grad((a: tf.Tensor) => tf.sum(tf.matMul(a as tf.Tensor2D, a as tf.Tensor2D)))(
  tf.tensor2d([
    [1, 2],
    [3, 4],
  ]),
);
g.print(); // [[7, 11], [9, 13]]

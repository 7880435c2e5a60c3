// Test helper: a module tree built from a checkpoint's tensor names. Every 2-D `*_proj.weight`
// becomes a Linear, every other tensor a plain parameter of its parent — enough to exercise
// injection, adapter load/save and merging on the real tiny-Gemma names without the model.
import * as tf from '@tensorflow/tfjs-core';
import { openSafetensors } from '@vla-lora/checkpoint-io';
import { Linear } from '../src/linear.js';
import { ModuleBase, type Module } from '../src/module.js';

export class Node extends ModuleBase {
  ensure(name: string): Node {
    const got = this.namedChildren().find(([n]) => n === name)?.[1];
    if (got) return got as Node;
    const n = new Node();
    this.registerChild(name, n);
    return n;
  }
  put(name: string, m: Module): void {
    this.registerChild(name, m);
  }
  param(name: string, v: tf.Variable): void {
    this.registerParameter(name, v);
  }
}

export async function treeFromSafetensors(path: string): Promise<Node> {
  const f = await openSafetensors(path);
  try {
    const root = new Node();
    for (const info of f.list()) {
      const segs = info.name.split('.');
      const leaf = segs.pop()!;
      const data = await f.readFloat32(info.name);
      if (leaf === 'weight' && info.shape.length === 2 && segs[segs.length - 1]!.endsWith('_proj')) {
        const modName = segs.pop()!;
        let cur = root;
        for (const s of segs) cur = cur.ensure(s);
        cur.put(modName, Linear.fromPytorch(data, info.shape as [number, number]));
      } else {
        let cur = root;
        for (const s of segs) cur = cur.ensure(s);
        cur.param(leaf, tf.variable(tf.tensor(data, info.shape)));
      }
    }
    return root;
  } finally {
    await f.close();
  }
}

// Demo step: torch .pt (zip and legacy formats, read without executing pickle code) -> safetensors,
// every value compared with the JSON torch wrote beside the file.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openSafetensors } from '../src/index.js';
import { convertToSafetensors } from '../src/cli/convert.js';

interface ExpectedTensor {
  dtype: string;
  shape: number[];
  values: number[];
}

export async function demoTorchConvert(
  work: string,
  fx: (p: string) => string,
  check: (ok: boolean, what: string) => void,
): Promise<void> {
  for (const name of ['state_dict_f32', 'state_dict_f32_legacy']) {
    const src = fx(`torch-pt/torch-2.11/${name}.pt`);
    const out = join(work, `${name}.safetensors`);
    const res = await convertToSafetensors(src, out, { progress: false });
    const expected = JSON.parse(await readFile(fx(`torch-pt/torch-2.11/${name}.json`), 'utf8')) as {
      value: { __dict__: Array<[string, ExpectedTensor]> };
    };
    const r = await openSafetensors(out);
    let values = 0;
    for (const [key, t] of expected.value.__dict__) {
      const got = await r.readFloat32(key);
      check(
        got.length === t.values.length && t.values.every((v, i) => Math.fround(v) === got[i]),
        `${name}: ${key} equals torch's values`,
      );
      values += got.length;
    }
    await r.close();
    console.log(
      `convert  torch-pt/torch-2.11/${name}.pt -> safetensors: ${res.tensors} tensors, ${values} values equal to what torch saved`,
    );
  }
}

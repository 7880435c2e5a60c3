// matchTarget / patternKey against PEFT's rules run by Python's own `re` (the rules of
// check_target_module_exists and get_pattern_key, transcribed), on thousands of generated
// names and configs: catches any Python-vs-JS regex difference in the patterns we generate.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { matchTarget, patternKey } from './target-match.js';
import { makeLoraConfig, type LoraConfigInput } from './config.js';

const PY = '/usr/bin/python3';
const hasPython = spawnSync(PY, ['-c', 'import re, json'], { timeout: 30_000 }).status === 0;
if (!hasPython) console.warn(`[target-match.python] SKIPPED: ${PY} not runnable`);

const ORACLE = String.raw`
import json, re, sys

def check(c, key):
    ex = c.get("exclude_modules")
    if ex:
        if isinstance(ex, str):
            if re.fullmatch(ex, key):
                return False
        elif key in ex:
            return False
        elif any(key.endswith(f".{k}") for k in ex):
            return False
    mts = c.get("modules_to_save")
    if mts and any(re.match(rf"(^|.*\.){m}($|\..*)", key) for m in mts):
        return False
    tm = c["target_modules"]
    if isinstance(tm, str):
        return re.fullmatch(tm, key) is not None
    if key in tm:
        return True
    found = any(key.endswith(f".{k}") for k in tm)
    li = c.get("layers_to_transform")
    lp = c.get("layers_pattern")
    using = li is not None and (len(li) != 0 if isinstance(li, list) else True)
    if using and found:
        idx = None
        if lp is None or len(lp) == 0:
            idx = re.match(r".*\.[^.]*\.(\d+)\.", key)
        else:
            for p in ([lp] if isinstance(lp, str) else lp):
                idx = re.match(rf".*\.{p}\.(\d+)\.", key)
                if idx is not None:
                    break
        if idx is None:
            found = False
        else:
            i = int(idx.group(1))
            found = i == li if isinstance(li, int) else i in li
    return bool(found)

def pattern_key(keys, name):
    for k in keys:
        if re.match(rf"(.*\.)?({k})$", name):
            return k
    return None

req = json.load(sys.stdin)
print(json.dumps({
    "match": [[check(c, n) for n in req["names"]] for c in req["configs"]],
    "pattern": [pattern_key(req["pattern_keys"], n) for n in req["names"]],
}))
`;

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}
const SEGS = [
  'model',
  'layers',
  '0',
  '1',
  '2',
  '12',
  'self_attn',
  'q_proj',
  'k_proj',
  'v_proj',
  'o_proj',
  'mlp',
  'down_proj',
  'gate_proj',
  'paligemma',
  'gemma_expert',
  'language_model',
  'lm_head',
  'proj',
  'q',
  'h',
  'score',
];
const REGEXES = [
  String.raw`.*\.(q|v)_proj`,
  'q_proj',
  String.raw`.*layers\.1\..*`,
  String.raw`model\.layers\.\d+\.self_attn\.[qk]_proj`,
  '.*proj',
  String.raw`(paligemma|gemma_expert)\..*\.o_proj`,
  'q_proj|v_proj',
  String.raw`.*\.\d\..*`,
];

function corpus(): { names: string[]; configs: LoraConfigInput[] } {
  const rnd = lcg(2024);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
  const names = new Set<string>();
  while (names.size < 400) names.add(Array.from({ length: 1 + Math.floor(rnd() * 6) }, () => pick(SEGS)).join('.'));
  const list = (): string[] =>
    Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => (rnd() < 0.3 ? `${pick(SEGS)}.${pick(SEGS)}` : pick(SEGS)));
  const configs: LoraConfigInput[] = [];
  for (let i = 0; i < 60; i++) {
    const c: LoraConfigInput = { targetModules: rnd() < 0.35 ? pick(REGEXES) : list() };
    if (rnd() < 0.3) c.excludeModules = rnd() < 0.5 ? list() : pick(REGEXES);
    if (rnd() < 0.2) c.modulesToSave = [pick(['lm_head', 'score', 'mlp'])];
    if (Array.isArray(c.targetModules) && rnd() < 0.3) {
      c.layersToTransform = rnd() < 0.5 ? Math.floor(rnd() * 3) : [0, 2];
      // PEFT's LoraConfig refuses layers_pattern with a falsy layers_to_transform (0 included)
      if (rnd() < 0.5 && c.layersToTransform !== 0)
        c.layersPattern = pick(['layers', 'h', ['layers', 'h']]) as string | string[];
    }
    configs.push(c);
  }
  return { names: [...names], configs };
}

describe.skipIf(!hasPython)("target matching vs PEFT's rules in Python's re", () => {
  it('agrees on every (config, name) pair and every pattern key', () => {
    const { names, configs } = corpus();
    const patternKeys = [
      'q_proj',
      String.raw`layers\.1\.self_attn\.q_proj`,
      '_proj',
      String.raw`\d\.mlp`,
      'model.layers.0.self_attn.k_proj',
      '^model.layers.2.*',
    ];
    const toPy = (c: LoraConfigInput): Record<string, unknown> => ({
      target_modules: c.targetModules,
      exclude_modules: c.excludeModules ?? null,
      modules_to_save: c.modulesToSave ?? null,
      layers_to_transform: c.layersToTransform ?? null,
      layers_pattern: c.layersPattern ?? null,
    });
    const r = spawnSync(PY, ['-c', ORACLE], {
      input: JSON.stringify({ names, configs: configs.map(toPy), pattern_keys: patternKeys }),
      encoding: 'utf8',
      timeout: 60_000,
      maxBuffer: 32 << 20,
    });
    if (r.status !== 0) throw new Error(`python oracle failed: ${r.stderr}`);
    const want = JSON.parse(r.stdout) as { match: boolean[][]; pattern: Array<string | null> };
    const disagreements: string[] = [];
    let positives = 0;
    configs.forEach((c, ci) => {
      const cfg = makeLoraConfig(c);
      names.forEach((n, ni) => {
        const ours = matchTarget(cfg, n).matched;
        if (ours) positives++;
        if (ours !== want.match[ci]![ni])
          disagreements.push(`${JSON.stringify(toPy(c))} ${n}: ours ${ours}, python ${want.match[ci]![ni]}`);
      });
    });
    names.forEach((n, ni) => {
      if (patternKey(patternKeys, n) !== want.pattern[ni])
        disagreements.push(`pattern ${n}: ours ${patternKey(patternKeys, n)}, python ${want.pattern[ni]}`);
    });
    expect(disagreements.slice(0, 10)).toEqual([]);
    expect(positives).toBeGreaterThan(200); // the corpus exercises matches, not only misses
    expect(want.pattern.filter((p) => p !== null).length).toBeGreaterThan(10);
  });
});

// The rulebook against PEFT's rules run by Python's own `re` (/usr/bin/python3): a transcription of
// check_target_module_exists (exclude_modules list/regex, modules_to_save, target_modules list/regex,
// layers_to_transform + layers_pattern) and get_pattern_key, on generated names and configs; and the
// Python→JS regex translation on a corpus of constructs where the two engines differ.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { PeftRegexError } from './errors.js';
import { checkPyRegex, pyFullmatch } from './py-regex.js';
import { checkTargetRules, matchTarget, patternKey, type TargetRules } from './rules.js';
import { lcgUniform as lcg } from '@vla-lora/seeded-random/test-support';

const PY = '/usr/bin/python3';
const hasPython = spawnSync(PY, ['-c', 'import re, json'], { timeout: 30_000 }).status === 0;
if (!hasPython) console.warn(`[rules.python] SKIPPED: ${PY} not runnable`);

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

def fullmatch_all(p, names):
    try:
        r = re.compile(p)
    except re.error as e:
        return "error: " + str(e)
    return [r.fullmatch(n) is not None for n in names]

req = json.load(sys.stdin)
print(json.dumps({
    "match": [[check(c, n) for n in req["names"]] for c in req["configs"]],
    "pattern": [pattern_key(req["pattern_keys"], n) for n in req["names"]],
    "regex": [fullmatch_all(p, req["regex_names"]) for p in req["regexes"]],
}))
`;

const SEGS = ['model', 'layers', 'h', 'blocks', '0', '1', '2', '12', 'self_attn', 'q_proj', 'k_proj', 'v_proj'];
const SEGS2 = ['o_proj', 'mlp', 'down_proj', 'vision_tower', 'language_model', 'lm_head', 'proj', 'score', 'fc1'];
const REGEXES = [
  String.raw`.*\.(q|v)_proj`,
  'q_proj',
  String.raw`.*layers\.1\..*`,
  String.raw`model\.layers\.\d+\.self_attn\.[qk]_proj`,
  '.*proj',
  String.raw`(language_model|vision_tower)\..*\.o_proj`,
  'q_proj|v_proj',
  String.raw`.*\.\d\..*`,
  String.raw`.*\.(?P<kind>[qkv])_proj`,
  String.raw`.*layers\.\d{,1}\..*`,
  String.raw`.*\.(q|k)_proj$`,
  String.raw`^model\..*`,
];

interface PyConfig {
  target_modules: string[] | string;
  exclude_modules: string[] | string | null;
  modules_to_save: string[] | null;
  layers_to_transform: number[] | number | null;
  layers_pattern: string[] | string | null;
}

// A generated corpus: names from `segs`, configs mixing list targets, regex targets from `regexes`,
// exclude_modules, modules_to_save and layers_to_transform + layers_pattern.
function generate(seed: number, all: readonly string[], regexes: readonly string[], nNames: number, nConfigs: number) {
  const rnd = lcg(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
  const names = new Set<string>();
  while (names.size < nNames) names.add(Array.from({ length: 1 + Math.floor(rnd() * 6) }, () => pick(all)).join('.'));
  const list = (): string[] =>
    Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => (rnd() < 0.3 ? `${pick(all)}.${pick(all)}` : pick(all)));
  const configs: PyConfig[] = [];
  for (let i = 0; i < nConfigs; i++) {
    const c: PyConfig = {
      target_modules: rnd() < 0.35 ? pick(regexes) : list(),
      exclude_modules: null,
      modules_to_save: null,
      layers_to_transform: null,
      layers_pattern: null,
    };
    if (rnd() < 0.4) c.exclude_modules = rnd() < 0.5 ? list() : pick(regexes);
    if (rnd() < 0.2) c.modules_to_save = [pick(['lm_head', 'score', 'mlp', String.raw`layers\.1`])];
    if (Array.isArray(c.target_modules) && rnd() < 0.45) {
      c.layers_to_transform = rnd() < 0.5 ? Math.floor(rnd() * 3) : [0, 2, 12];
      if (rnd() < 0.6) c.layers_pattern = pick(['layers', 'h', ['blocks', 'layers'], '(?:layers|h)', 'l.yers']);
    }
    configs.push(c);
  }
  return { names: [...names], configs };
}

// pi0 module names (PaliGemma + action expert), as lora-core injects them
const PI0_SEGS = ['paligemma', 'gemma_expert', 'language_model', 'layers', '0', '1', '2', '12', 'self_attn'];
const PI0_SEGS2 = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'mlp', 'gate_proj', 'down_proj', 'lm_head', 'q', 'h'];
const PI0_REGEXES = [
  String.raw`(paligemma|gemma_expert)\..*\.o_proj`,
  String.raw`.*\.(q|v)_proj`,
  String.raw`.*gemma_expert\..*\.(gate|down)_proj`,
  'q_proj|v_proj',
];

function corpus(): { names: string[]; configs: PyConfig[] } {
  const general = generate(7, [...SEGS, ...SEGS2], REGEXES, 500, 80);
  const pi0 = generate(2024, [...PI0_SEGS, ...PI0_SEGS2], PI0_REGEXES, 400, 60);
  return { names: [...new Set([...general.names, ...pi0.names])], configs: [...general.configs, ...pi0.configs] };
}

const rulesOf = (c: PyConfig): TargetRules => ({
  targetModules: c.target_modules,
  excludeModules: c.exclude_modules,
  modulesToSave: c.modules_to_save,
  layersToTransform: c.layers_to_transform,
  layersPattern: c.layers_pattern,
});

// Refused by us although Python accepts them (inline flags, possessive, atomic, octal/backreference, \N).
const REFUSED_BY_DESIGN = [
  '(?i)q_proj',
  '(?i:Q)_proj',
  'q_pro*+j',
  '(?>q)_proj',
  String.raw`(a)\1`,
  String.raw`\0`,
  String.raw`\N{LATIN SMALL LETTER Q}_proj`,
  String.raw`[\S]`,
  String.raw`(a)?(?(1)b|c)`,
];
// Where Python's re and JS RegExp differ, or Python refuses what JS accepts.
const REGEX_CORPUS = [
  'q_proj',
  'a.b',
  'q_proj$',
  String.raw`\Aq_proj\Z`,
  String.raw`.*\s.*`,
  String.raw`.*\S`,
  '[]q]_proj',
  '[^]]*',
  'x{,2}',
  'x{,}',
  'q{}',
  '{1}q',
  'x{2,1}',
  'q_proj|v_proj',
  '(?#note)q_proj',
  String.raw`(?P<x>\w+)\.(?P=x)`,
  String.raw`(?P<x>a)(?P<x>b)`,
  String.raw`\x71_proj`,
  String.raw`\u0071_proj`,
  String.raw`\U00000071_proj`,
  String.raw`\a`,
  String.raw`.*\x1c.*`,
  String.raw`[\s]+`,
  String.raw`[\d.]+`,
  String.raw`.*\bq_proj`,
  String.raw`.*[\b]`,
  String.raw`(?<=a)q|q`,
  String.raw`.*(?<=\.)q_proj`,
  String.raw`(?<!\.)q_proj`,
  String.raw`q\-proj`,
  String.raw`.*/.*`,
  ']',
  String.raw`\.`,
  ...REFUSED_BY_DESIGN,
  // rejected by Python (we must refuse too)
  String.raw`.*(?<=a+)q`,
  String.raw`\e`,
  String.raw`[\B]`,
  String.raw`(?(1)a|b)`,
  '[a-',
  '(',
  ')',
  '*q',
  'q**',
  'a\\',
  String.raw`\x7`,
];
const REGEX_NAMES = [
  '',
  'q_proj',
  'Q_proj',
  'qproj',
  'v_proj',
  'model.q_proj',
  'q_proj\n',
  'a\nb',
  'a\rb',
  'a\u2028b',
  'a.b',
  'a\x1cb',
  '\x1c',
  ' ',
  'x',
  'xx',
  'xxx',
  'q{}',
  '{1}q',
  'q',
  ']',
  ']]',
  'q]_proj',
  'abab',
  'ab.ab',
  'aq',
  '.q_proj',
  'q-proj',
  'a/b',
  '\x07',
  '\x08',
  '0',
  '1.2',
  '12',
  'q_prooooj',
  'a',
];

describe.skipIf(!hasPython)("PEFT's rules vs Python's re", () => {
  const { names, configs } = corpus();
  const patternKeys = [
    'q_proj',
    String.raw`layers\.1\.self_attn\.q_proj`,
    '_proj',
    String.raw`\d\.mlp`,
    'model.layers.0.self_attn.k_proj',
    '^model.layers.2.*',
    String.raw`(?P<g>k|v)_proj`,
    'o_proj$',
  ];
  const r = spawnSync(PY, ['-c', ORACLE], {
    input: JSON.stringify({
      names,
      configs,
      pattern_keys: patternKeys,
      regexes: REGEX_CORPUS,
      regex_names: REGEX_NAMES,
    }),
    encoding: 'utf8',
    timeout: 60_000,
    maxBuffer: 32 << 20,
  });
  const want = (hasPython && r.status === 0 ? JSON.parse(r.stdout) : null) as {
    match: boolean[][];
    pattern: Array<string | null>;
    regex: Array<boolean[] | string>;
  } | null;

  it('python oracle ran', () => {
    expect(r.stderr).toBe('');
    expect(want).not.toBeNull();
  });

  it('check_target_module_exists: agrees on every (config, name) pair', () => {
    const disagreements: string[] = [];
    let positives = 0;
    let excluded = 0;
    let layerOut = 0;
    configs.forEach((c, ci) => {
      checkTargetRules(rulesOf(c));
      names.forEach((n, ni) => {
        const m = matchTarget(rulesOf(c), n);
        if (m.matched) positives++;
        else if (m.reason === 'excluded') excluded++;
        else if (m.reason === 'layer-index') layerOut++;
        if (m.matched !== want!.match[ci]![ni])
          disagreements.push(`${JSON.stringify(c)} ${n}: ours ${m.matched}, python ${want!.match[ci]![ni]}`);
      });
    });
    expect(disagreements.slice(0, 10)).toEqual([]);
    // the corpus exercises every rule, not only misses
    expect(positives).toBeGreaterThan(300);
    expect(excluded).toBeGreaterThan(100);
    expect(layerOut).toBeGreaterThan(50);
  });

  it('get_pattern_key: agrees on every name', () => {
    const got = names.map((n) => patternKey(patternKeys, n));
    expect(got).toEqual(want!.pattern);
    expect(got.filter((p) => p !== null).length).toBeGreaterThan(50);
  });

  it('regex translation: same fullmatch as Python on every name, or a refusal where Python refuses or by design', () => {
    const disagreements: string[] = [];
    const refusedButPythonOk: string[] = [];
    let nonAsciiRefusals = 0;
    REGEX_CORPUS.forEach((p, pi) => {
      const py = want!.regex[pi]!;
      let ours: Array<boolean | null> | PeftRegexError;
      try {
        checkPyRegex(p, 'target_modules');
        // null: refused for this name (non-ASCII subject under a Unicode-sensitive pattern)
        ours = REGEX_NAMES.map((n) => {
          try {
            return pyFullmatch(p, n, 'target_modules');
          } catch (e) {
            if (e instanceof PeftRegexError && [...n].some((ch) => ch.charCodeAt(0) > 0x7f)) {
              nonAsciiRefusals++;
              return null;
            }
            throw e;
          }
        });
      } catch (e) {
        if (!(e instanceof PeftRegexError)) throw e;
        ours = e;
      }
      if (typeof py === 'string') {
        if (!(ours instanceof PeftRegexError)) disagreements.push(`${p}: python refuses (${py}), we accept`);
      } else if (ours instanceof PeftRegexError) {
        refusedButPythonOk.push(p);
      } else {
        REGEX_NAMES.forEach((n, ni) => {
          if (ours[ni] !== null && ours[ni] !== py[ni])
            disagreements.push(`${p} on ${JSON.stringify(n)}: ours ${ours[ni]}, python ${py[ni]}`);
        });
      }
    });
    expect(disagreements).toEqual([]);
    expect(new Set(refusedButPythonOk)).toEqual(new Set(REFUSED_BY_DESIGN));
    expect(nonAsciiRefusals).toBeGreaterThan(0); // 'a\u2028b' under '.', classes, \s …
    // and enough of the corpus compiles in Python and agrees, so the comparison means something
    expect(want!.regex.filter((x) => Array.isArray(x)).length).toBeGreaterThan(30);
  });

  it('a non-ASCII module name under a Unicode-sensitive pattern is refused, not guessed', () => {
    expect(() => pyFullmatch(String.raw`.*\.\w+`, 'model.ü', 'target_modules')).toThrow(PeftRegexError);
    expect(() => pyFullmatch('model.ü', 'model.ü', 'target_modules')).toThrow(PeftRegexError);
    expect(pyFullmatch(String.raw`model\.ü`, 'model.ü', 'target_modules')).toBe(true);
  });
});

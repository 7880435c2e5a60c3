import { InvalidPatternError } from './errors.js';

/**
 * A compiled parameter-path pattern. Matching is on dotted PATH SEGMENTS, never substrings:
 * `paligemma` matches the segment `paligemma` and nothing in `gemma_expert` or `paligemma_with_expert`.
 *
 * Syntax: segments separated by `.`; a segment is a literal name, a glob inside one segment
 * (`*` any characters, `?` one character: `lora_*`), `*` alone (exactly one segment) or `**`
 * (zero or more segments). Unanchored, a pattern matches any run of consecutive segments
 * (`q_proj.lora_A` matches `…self_attn.q_proj.lora_A.default.weight`); a leading `^` anchors it
 * at the root, a trailing `$` at the last segment.
 */
export interface SegmentPattern {
  source: string;
  anchoredStart: boolean;
  anchoredEnd: boolean;
  /** Literal (non-glob) segments: used to tell whether a rule names `base_layer` explicitly. */
  literals: ReadonlySet<string>;
  matches(path: string): boolean;
}

type Seg = { kind: 'any' } | { kind: 'one'; re: RegExp | null; literal: string | null };

function compileSegment(pattern: string, seg: string): Seg {
  if (seg === '**') return { kind: 'any' };
  if (seg === '') throw new InvalidPatternError(pattern, 'empty segment (".." or a leading/trailing dot)');
  if (seg.includes('**')) throw new InvalidPatternError(pattern, `"**" must be a whole segment, not part of "${seg}"`);
  if (!/[*?]/.test(seg)) return { kind: 'one', re: null, literal: seg };
  const body = seg
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return { kind: 'one', re: new RegExp(`^${body}$`), literal: null };
}

export function compilePattern(source: string): SegmentPattern {
  if (typeof source !== 'string' || source.length === 0) throw new InvalidPatternError(String(source), 'empty pattern');
  let core = source;
  const anchoredStart = core.startsWith('^');
  if (anchoredStart) core = core.slice(1);
  const anchoredEnd = core.endsWith('$');
  if (anchoredEnd) core = core.slice(0, -1);
  if (core.length === 0) throw new InvalidPatternError(source, 'no segments');
  const segs = core.split('.').map((s) => compileSegment(source, s));
  if (!anchoredStart && segs[0]?.kind !== 'any') segs.unshift({ kind: 'any' });
  if (!anchoredEnd && segs[segs.length - 1]?.kind !== 'any') segs.push({ kind: 'any' });
  const literals = new Set<string>();
  for (const s of segs) if (s.kind === 'one' && s.literal !== null) literals.add(s.literal);

  const matches = (path: string): boolean => {
    const parts = path.split('.');
    // memo[i][j]: does segs[i..] match parts[j..]
    const memo = new Map<number, boolean>();
    const go = (i: number, j: number): boolean => {
      const key = i * (parts.length + 1) + j;
      const hit = memo.get(key);
      if (hit !== undefined) return hit;
      let r: boolean;
      const s = segs[i];
      if (s === undefined) r = j === parts.length;
      else if (s.kind === 'any') r = go(i + 1, j) || (j < parts.length && go(i, j + 1));
      else {
        const p = parts[j];
        r = p !== undefined && (s.literal !== null ? p === s.literal : (s.re as RegExp).test(p)) && go(i + 1, j + 1);
      }
      memo.set(key, r);
      return r;
    };
    return go(0, 0);
  };
  return { source, anchoredStart, anchoredEnd, literals, matches };
}

import { InvalidPatternError } from './errors.js';
import { compilePattern } from './pattern.js';
import type { FreezeRule } from './policy.js';

/**
 * Rules from text, for CLI flags and config files: `+pattern` or `train:pattern` trains,
 * `-pattern` or `freeze:pattern` freezes; a trailing ` ?` marks the rule optional (exempt from the
 * strict "matched nothing" check). Blank lines and `#` comments are skipped. Every pattern is
 * compiled here, so a malformed one fails before any model is built.
 */
export function parseRules(text: string | readonly string[]): FreezeRule[] {
  const lines = typeof text === 'string' ? text.split(/\r?\n/) : [...text];
  const out: FreezeRule[] = [];
  for (const raw of lines) {
    let line = raw.replace(/#.*$/, '').trim();
    if (line === '') continue;
    let optional = false;
    if (/\s\?$/.test(line)) {
      optional = true;
      line = line.replace(/\s\?$/, '').trim();
    }
    let action: FreezeRule['action'];
    let pattern: string;
    if (line.startsWith('+')) [action, pattern] = ['train', line.slice(1)];
    else if (line.startsWith('-')) [action, pattern] = ['freeze', line.slice(1)];
    else if (line.startsWith('train:')) [action, pattern] = ['train', line.slice(6)];
    else if (line.startsWith('freeze:')) [action, pattern] = ['freeze', line.slice(7)];
    else
      throw new InvalidPatternError(line, 'a rule starts with "+" / "train:" (trainable) or "-" / "freeze:" (frozen)');
    pattern = pattern.trim();
    compilePattern(pattern);
    out.push(optional ? { action, pattern, optional } : { action, pattern });
  }
  return out;
}

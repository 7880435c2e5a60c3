// Python `re` patterns (what PEFT users write in target_modules, exclude_modules, layers_pattern,
// modules_to_save, rank_pattern / alpha_pattern keys) translated to JS RegExp source with the SAME
// meaning, or refused with a PeftRegexError. Nothing is translated approximately:
//   - `.` is "any char but \n" in Python (JS also excludes \r, U+2028/9): emitted as [^\n].
//   - `$` is "end, or before a final \n" in Python: emitted as (?:$|(?=\n$)). \A → ^, \Z → $.
//   - `\s` in Python str patterns also matches \x1c-\x1f: emitted as an explicit class.
//   - `{,n}` / `{,}` are quantifiers in Python (literal text in JS): emitted as {0,n} / {0,}.
//   - `(?P<name>…)` → `(?<name>…)`, `(?P=name)` → `\k<name>`, `(?#…)` comments dropped, `\a` → \x07.
//   - `[]…]` (a `]` first in a class is literal in Python, an empty class in JS) → `[\]…]`.
// Refused (PeftRegexError): inline flags `(?i)` / `(?i:…)`, conditionals `(?(1)…)`, atomic groups and
// possessive quantifiers, numeric escapes (backreferences and octal), `\N{…}`, `\U` beyond the BMP,
// lookbehinds that are not plainly fixed-width (Python refuses variable width, JS accepts it), escapes
// Python itself rejects (`\e`, `\B` in a class …). Unicode shorthand classes (\d \w \s \b) and `.`
// are exact for ASCII and BMP names; a name outside ASCII matched by a pattern that uses them is
// refused at match time (Python's Unicode classes differ from JS's) — PyTorch module names are ASCII.
import { PeftRegexError } from './errors.js';

export interface PyRegex {
  /** The Python pattern as written. */
  pattern: string;
  /** JS RegExp source (unanchored) with the same meaning. */
  source: string;
  /** Uses `.`, a class or \d \w \s \b: exact only on ASCII subjects (checked at match time). */
  asciiOnly: boolean;
}

const S_CLASS = ' \\t\\n\\r\\f\\v\\x1c-\\x1f';
const SIMPLE_ESCAPES = new Set(['n', 't', 'r', 'f', 'v']);
const isHex = (s: string): boolean => /^[0-9A-Fa-f]+$/.test(s);
const isAsciiLetterOrDigit = (c: string): boolean => /^[A-Za-z0-9]$/.test(c);

/** Translates a Python `re` pattern; throws PeftRegexError when it cannot be translated exactly. */
export function translatePyRegex(pattern: string, field: string): PyRegex {
  const refuse = (reason: string): never => {
    throw new PeftRegexError(field, pattern, reason);
  };
  let out = '';
  let asciiOnly = false;
  let i = 0;
  // depth of each open group; lookbehind groups record their depth to check fixed width inside
  const groups: Array<'plain' | 'lookbehind'> = [];
  const inLookbehind = (): boolean => groups.includes('lookbehind');
  const n = pattern.length;

  /** One escape at pattern[i] === '\\'; returns JS text and advances i. */
  const readEscape = (inClass: boolean): string => {
    const c = pattern[i + 1];
    if (c === undefined) return refuse('it ends with a lone backslash (Python: bad escape (end of pattern))');
    i += 2;
    if (c === 'd' || c === 'D' || c === 'w' || c === 'W') {
      asciiOnly = true;
      return `\\${c}`;
    }
    if (c === 's') {
      asciiOnly = true;
      return inClass ? S_CLASS : `[${S_CLASS}]`;
    }
    if (c === 'S') {
      asciiOnly = true;
      if (inClass) return refuse('\\S inside a [class] has no exact JS equivalent');
      return `[^${S_CLASS}]`;
    }
    if (c === 'b') {
      if (inClass) return '\\x08';
      asciiOnly = true;
      return '\\b';
    }
    if (c === 'B') {
      if (inClass) return refuse('\\B inside a [class] (Python: bad escape)');
      asciiOnly = true;
      return '\\B';
    }
    if (c === 'A' || c === 'Z') {
      if (inClass) return refuse(`\\${c} inside a [class] (Python: bad escape)`);
      return c === 'A' ? '^' : '$';
    }
    if (SIMPLE_ESCAPES.has(c)) return `\\${c}`;
    if (c === 'a') return '\\x07';
    if (c === 'x') {
      const h = pattern.slice(i, i + 2);
      if (h.length !== 2 || !isHex(h)) return refuse('\\x needs exactly two hex digits (Python: incomplete escape)');
      i += 2;
      return `\\x${h}`;
    }
    if (c === 'u' || c === 'U') {
      const len = c === 'u' ? 4 : 8;
      const h = pattern.slice(i, i + len);
      if (h.length !== len || !isHex(h)) return refuse(`\\${c} needs exactly ${len} hex digits`);
      i += len;
      const cp = Number.parseInt(h, 16);
      if (cp > 0xffff) return refuse(`\\${c}${h} is outside the Basic Multilingual Plane`);
      return `\\u${cp.toString(16).padStart(4, '0')}`;
    }
    if (c >= '0' && c <= '9')
      return refuse(`\\${c}: backreferences and octal escapes are not supported (write \\xNN for a character)`);
    if (isAsciiLetterOrDigit(c)) return refuse(`\\${c} is not an escape Python's re accepts (bad escape)`);
    // any other character escaped stands for itself in both engines
    return `\\${c}`;
  };

  const quantifierInLookbehind = (): void => {
    if (inLookbehind()) refuse('a lookbehind must be plainly fixed-width (no quantifiers or |) to mean the same in JS');
  };

  let prevQuant: 'none' | 'greedy' | 'lazy' = 'none';
  while (i < n) {
    const c = pattern[i]!;
    const wasQuant = prevQuant;
    prevQuant = 'none';
    if (c === '\\') {
      out += readEscape(false);
      continue;
    }
    if (c === '[') {
      asciiOnly = true;
      out += '[';
      i++;
      if (pattern[i] === '^') {
        out += '^';
        i++;
      }
      if (pattern[i] === ']') {
        out += '\\]';
        i++;
      }
      let closed = false;
      while (i < n) {
        const d = pattern[i]!;
        if (d === '\\') {
          out += readEscape(true);
          continue;
        }
        if (d === ']') {
          out += ']';
          i++;
          closed = true;
          break;
        }
        if (d === '[') out += '\\[';
        else out += d;
        i++;
      }
      if (!closed) refuse('unterminated character set [');
      continue;
    }
    if (c === '.') {
      asciiOnly = true;
      out += '[^\\n]';
      i++;
      continue;
    }
    if (c === '$') {
      out += '(?:$|(?=\\n$))';
      i++;
      continue;
    }
    if (c === '(') {
      if (pattern[i + 1] !== '?') {
        groups.push('plain');
        out += '(';
        i++;
        continue;
      }
      const rest = pattern.slice(i + 2);
      if (rest.startsWith('P<')) {
        const m = /^P<([A-Za-z_][A-Za-z0-9_]*)>/.exec(rest);
        if (!m) refuse('bad group name in (?P<…>)');
        groups.push('plain');
        out += `(?<${m![1]}>`;
        i += 2 + m![0].length;
        continue;
      }
      if (rest.startsWith('P=')) {
        if (inLookbehind()) refuse('group references inside a lookbehind are not supported');
        const m = /^P=([A-Za-z_][A-Za-z0-9_]*)\)/.exec(rest);
        if (!m) refuse('bad group reference (?P=…)');
        out += `\\k<${m![1]}>`;
        i += 2 + m![0].length;
        continue;
      }
      if (rest.startsWith('#')) {
        const end = pattern.indexOf(')', i);
        if (end < 0) refuse('missing ) after comment');
        i = end + 1;
        continue;
      }
      if (rest.startsWith(':') || rest.startsWith('=') || rest.startsWith('!')) {
        groups.push('plain');
        out += `(?${rest[0]}`;
        i += 3;
        continue;
      }
      if (rest.startsWith('<=') || rest.startsWith('<!')) {
        groups.push('lookbehind');
        out += `(?${rest.slice(0, 2)}`;
        i += 4;
        continue;
      }
      if (rest.startsWith('(')) refuse('conditional groups (?(…)…) are not supported');
      if (rest.startsWith('>')) refuse('atomic groups (?>…) are not supported');
      if (/^[aiLmsux-]/.test(rest)) refuse('inline flags such as (?i) are not supported (they change the whole match)');
      refuse(`unknown group extension (?${rest[0] ?? ''}`);
    }
    if (c === ')') {
      groups.pop();
      out += ')';
      i++;
      continue;
    }
    if (c === '|') {
      quantifierInLookbehind();
      prevQuant = 'none';
      out += c;
      i++;
      continue;
    }
    if (c === '*' || c === '+' || c === '?') {
      prevQuant = wasQuant;
      if (prevQuant === 'greedy' && c === '+') refuse('possessive quantifiers (*+, ++, ?+, {m,n}+) are not supported');
      if (prevQuant === 'greedy' && c === '?') {
        prevQuant = 'lazy';
      } else {
        quantifierInLookbehind();
        prevQuant = 'greedy';
      }
      out += c;
      i++;
      continue;
    }
    if (c === '{') {
      // Python's quantifier grammar: {digits?(,digits?)?}; anything else is a literal "{"
      const m = /^\{(\d*)(,(\d*))?\}/.exec(pattern.slice(i));
      if (m && pattern[i + 1] !== '}') {
        quantifierInLookbehind();
        const lo = m[1] === '' ? '0' : m[1]!;
        out += m[2] === undefined ? `{${lo}}` : `{${lo},${m[3]}}`;
        i += m[0].length;
        prevQuant = 'greedy';
        continue;
      }
      out += '\\{';
      i++;
      continue;
    }
    if (c === '}') {
      out += '\\}';
      i++;
      continue;
    }
    if (c === ']') {
      out += '\\]';
      i++;
      continue;
    }
    if (c === '/') {
      out += '\\/';
      i++;
      continue;
    }
    out += c;
    i++;
  }
  try {
    new RegExp(out);
  } catch (e) {
    refuse(`it does not compile (${(e as Error).message.replace(/^Invalid regular expression: \/.*\/: /, '')})`);
  }
  return { pattern, source: out, asciiOnly };
}

const cache = new Map<string, { re: PyRegex; anchored: RegExp }>();
const isAscii = (s: string): boolean => {
  for (let k = 0; k < s.length; k++) if (s.charCodeAt(k) > 0x7f) return false;
  return true;
};

function compiled(pattern: string, field: string, mode: 'match' | 'fullmatch'): { re: PyRegex; anchored: RegExp } {
  const key = `${mode}\u0000${pattern}`;
  let hit = cache.get(key);
  if (hit === undefined) {
    const re = translatePyRegex(pattern, field);
    hit = { re, anchored: new RegExp(mode === 'fullmatch' ? `^(?:${re.source})$` : `^(?:${re.source})`) };
    if (cache.size > 4096) cache.clear();
    cache.set(key, hit);
  }
  return hit;
}

function subjectCheck(re: PyRegex, field: string, subject: string): void {
  if (re.asciiOnly && !isAscii(subject))
    throw new PeftRegexError(
      field,
      re.pattern,
      `it uses ., [classes] or \\d \\w \\s \\b, whose Unicode meaning differs between Python and JS, and the module name ${JSON.stringify(subject)} is not ASCII`,
    );
}

/** Python's `re.fullmatch(pattern, subject) is not None`, exactly (or PeftRegexError). */
export function pyFullmatch(pattern: string, subject: string, field: string): boolean {
  const { re, anchored } = compiled(pattern, field, 'fullmatch');
  subjectCheck(re, field, subject);
  return anchored.test(subject);
}

/** Python's `re.match(pattern, subject)` (anchored at the start only): the match groups, or null. */
export function pyMatch(pattern: string, subject: string, field: string): RegExpExecArray | null {
  const { re, anchored } = compiled(pattern, field, 'match');
  subjectCheck(re, field, subject);
  return anchored.exec(subject);
}

/** Throws PeftRegexError when `pattern` is not a regex we can apply exactly as Python would. */
export function checkPyRegex(pattern: string, field: string): void {
  compiled(pattern, field, 'fullmatch');
}

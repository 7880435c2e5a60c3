// JSON as Python's json module reads and writes it, so that adapter_config.json round-trips byte
// for byte: `json.dumps(obj, indent=2, sort_keys=True)` layout, ensure_ascii escaping, float
// literals kept as floats (0.0 stays 0.0, not 0), NaN/Infinity accepted as Python emits them.

export type PyJson = null | boolean | number | string | PyJson[] | { [key: string]: PyJson };

/** Paths (joined with \u0000) of numbers that were written as floats in the parsed text. */
const floatPaths = new WeakMap<object, Set<string>>();

class Parser {
  i = 0;
  readonly floats = new Set<string>();
  constructor(readonly s: string) {}

  fail(what: string): never {
    throw new SyntaxError(`${what} at position ${this.i}`);
  }
  ws(): void {
    while (this.i < this.s.length && ' \t\n\r'.includes(this.s[this.i]!)) this.i++;
  }
  value(path: string): PyJson {
    this.ws();
    const c = this.s[this.i];
    if (c === '{') return this.object(path);
    if (c === '[') return this.array(path);
    if (c === '"') return this.string();
    if (this.s.startsWith('true', this.i)) return ((this.i += 4), true);
    if (this.s.startsWith('false', this.i)) return ((this.i += 5), false);
    if (this.s.startsWith('null', this.i)) return ((this.i += 4), null);
    if (this.s.startsWith('NaN', this.i)) return (this.floats.add(path), (this.i += 3), NaN);
    if (this.s.startsWith('Infinity', this.i)) return (this.floats.add(path), (this.i += 8), Infinity);
    if (this.s.startsWith('-Infinity', this.i)) return (this.floats.add(path), (this.i += 9), -Infinity);
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(this.s.slice(this.i, this.i + 400));
    if (!m) this.fail('unexpected character');
    this.i += m[0].length;
    if (m[2] !== undefined || m[3] !== undefined) this.floats.add(path);
    return Number(m[0]);
  }
  string(): string {
    const start = this.i;
    this.i++;
    while (this.i < this.s.length) {
      const c = this.s[this.i];
      if (c === '\\') this.i += 2;
      else if (c === '"') {
        this.i++;
        return JSON.parse(this.s.slice(start, this.i)) as string;
      } else this.i++;
    }
    return this.fail('unterminated string');
  }
  object(path: string): { [key: string]: PyJson } {
    this.i++;
    const out: { [key: string]: PyJson } = {};
    this.ws();
    if (this.s[this.i] === '}') return (this.i++, out);
    for (;;) {
      this.ws();
      if (this.s[this.i] !== '"') this.fail('expected a key');
      const key = this.string();
      this.ws();
      if (this.s[this.i] !== ':') this.fail('expected ":"');
      this.i++;
      Object.defineProperty(out, key, {
        value: this.value(`${path}\u0000${key}`),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      this.ws();
      if (this.s[this.i] === ',') {
        this.i++;
        continue;
      }
      if (this.s[this.i] === '}') return (this.i++, out);
      this.fail('expected "," or "}"');
    }
  }
  array(path: string): PyJson[] {
    this.i++;
    const out: PyJson[] = [];
    this.ws();
    if (this.s[this.i] === ']') return (this.i++, out);
    for (;;) {
      out.push(this.value(`${path}\u0000${out.length}`));
      this.ws();
      if (this.s[this.i] === ',') {
        this.i++;
        continue;
      }
      if (this.s[this.i] === ']') return (this.i++, out);
      this.fail('expected "," or "]"');
    }
  }
}

/** Parses JSON text (plus Python's NaN/Infinity), remembering which numbers were floats. */
export function parsePyJson(text: string): PyJson {
  const p = new Parser(text);
  const v = p.value('');
  p.ws();
  if (p.i !== text.length) p.fail('trailing characters');
  if (v !== null && typeof v === 'object') floatPaths.set(v, p.floats);
  return v;
}

/** Marks paths (from the root) whose numbers must be written as floats even when integral. */
export function markFloats(root: object, paths: string[][]): void {
  const set = floatPaths.get(root) ?? new Set<string>();
  for (const p of paths) set.add(`\u0000${p.join('\u0000')}`);
  floatPaths.set(root, set);
}

/** Python's repr(float). */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mant, expStr] = x.toExponential().split('e') as [string, string];
  const exp = Number(expStr);
  const neg = mant.startsWith('-');
  const digits = mant.replace('-', '').replace('.', '');
  let out: string;
  if (exp >= -4 && exp < 16) {
    if (exp < 0) out = `0.${'0'.repeat(-exp - 1)}${digits}`;
    else if (digits.length <= exp + 1) out = `${digits}${'0'.repeat(exp + 1 - digits.length)}.0`;
    else out = `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
  } else {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    out = `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  return neg ? `-${out}` : out;
}

function pyString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ch = s[i]!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (c < 0x20 || c > 0x7e) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** `json.dumps(value, indent=2, sort_keys=True)` (ensure_ascii, floats as Python writes them). */
export function dumpPyJson(value: unknown, opts: { sortKeys?: boolean; indent?: number } = {}): string {
  const root = value !== null && typeof value === 'object' ? value : undefined;
  const floats = root ? (floatPaths.get(root) ?? new Set<string>()) : new Set<string>();
  const indent = opts.indent ?? 2;
  const sortKeys = opts.sortKeys ?? true;
  const walk = (v: unknown, path: string, depth: number): string => {
    if (v === null || v === undefined) return 'null';
    if (typeof v === 'boolean') return v ? 'true' : 'false';
    if (typeof v === 'number') {
      if (!Number.isFinite(v) || !Number.isInteger(v) || floats.has(path)) return pyFloatRepr(v);
      return String(v);
    }
    if (typeof v === 'bigint') return v.toString();
    if (typeof v === 'string') return pyString(v);
    const pad = '\n' + ' '.repeat(indent * (depth + 1));
    const end = '\n' + ' '.repeat(indent * depth);
    if (Array.isArray(v)) {
      if (v.length === 0) return '[]';
      return `[${v.map((x, i) => pad + walk(x, `${path}\u0000${i}`, depth + 1)).join(',')}${end}]`;
    }
    if (typeof v === 'object') {
      const o = v as Record<string, unknown>;
      let keys = Object.keys(o).filter((k) => o[k] !== undefined);
      if (sortKeys) keys = keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      if (keys.length === 0) return '{}';
      return `{${keys.map((k) => `${pad}${pyString(k)}: ${walk(o[k], `${path}\u0000${k}`, depth + 1)}`).join(',')}${end}}`;
    }
    throw new TypeError(`cannot write ${typeof v} as JSON`);
  };
  return walk(value, '', 0);
}

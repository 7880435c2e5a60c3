// Python's str.strip() with no argument removes the characters for which str.isspace() is true.
// That set differs from JavaScript's String.prototype.trim(): Python strips U+001C..U+001F and
// U+0085 (JS does not) and keeps U+FEFF (JS trims it). This is the set of Python 3.11 (Unicode
// 14), checked against Debian's /usr/bin/python3 by this package's tests.
const PY_WHITESPACE = new Set<number>([
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003,
  0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
]);

/** True where Python's `str.isspace()` is true for the one-code-point string. */
export function isPythonWhitespace(codePoint: number): boolean {
  return PY_WHITESPACE.has(codePoint);
}

/** Python's `s.strip()`. All the whitespace code points are in the BMP, so UTF-16 units suffice. */
export function pythonStrip(s: string): string {
  let i = 0;
  let j = s.length;
  while (i < j && PY_WHITESPACE.has(s.charCodeAt(i))) i++;
  while (j > i && PY_WHITESPACE.has(s.charCodeAt(j - 1))) j--;
  return s.slice(i, j);
}

/** openpi's pi0 prompt cleaning: `prompt.strip().replace("_", " ").replace("\n", " ")`. */
export function cleanPrompt(prompt: string): string {
  return pythonStrip(prompt).replaceAll('_', ' ').replaceAll('\n', ' ');
}

/** Python's `f"{n:,d}"` for a non-negative integer. */
export function formatThousands(n: number): string {
  if (!Number.isSafeInteger(n)) return n.toLocaleString('en-US', { maximumFractionDigits: 0 });
  return n.toLocaleString('en-US');
}

/**
 * Python's `f"{x:.{digits}f}"`: the exact binary value of `x` rounded half-to-even. JavaScript's
 * toFixed rounds exact ties away from zero (0.03125 → "0.0313" where Python prints "0.0312").
 */
export function formatFixedLikePython(x: number, digits: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf';
  const neg = x < 0 || Object.is(x, -0);
  const ax = Math.abs(x);
  // exact value of the double as mant * 2^exp
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, ax);
  const hi = buf.getUint32(0);
  const lo = buf.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exp: number;
  if (biased === 0) exp = -1074;
  else {
    mant |= 1n << 52n;
    exp = biased - 1075;
  }
  // scaled = ax * 10^digits = mant * 10^digits * 2^exp, rounded half-even to an integer
  let num = mant * 10n ** BigInt(digits);
  let den = 1n;
  if (exp >= 0) num <<= BigInt(exp);
  else den <<= BigInt(-exp);
  let q = num / den;
  const rem2 = (num % den) * 2n;
  if (rem2 > den || (rem2 === den && q % 2n === 1n)) q += 1n;
  let s = q.toString();
  if (digits > 0) {
    s = s.padStart(digits + 1, '0');
    s = `${s.slice(0, -digits)}.${s.slice(-digits)}`;
  }
  return neg ? `-${s}` : s;
}

/** PEFT's `print_trainable_parameters` line, character for character. */
export function peftTrainableLine(trainable: number, total: number): string {
  return `trainable params: ${formatThousands(trainable)} || all params: ${formatThousands(total)} || trainable%: ${formatFixedLikePython((100 * trainable) / total, 4)}`;
}

// Option parsers and collectors shared by the @vla-lora CLIs (commander's `.option(flags, description, parser)`).
// cli-kit does not depend on commander: each parser throws the error class its CLI passes (a usage error of the CLI,
// or commander's InvalidArgumentError, which commander prefixes with the option's name).

/** Builds an error from its message: a CLI's usage-error class, or commander's InvalidArgumentError. */
export type MessageError = new (message: string) => Error;

/** The collector of a repeatable option, e.g. `.option('--set <key=value>', '…', collect, [])`. */
export const collect = (value: string, previous: readonly string[] = []): string[] => [...previous, value];

/** Parses a positive integer; anything else throws `new Err('<name> must be a positive integer, got "<value>"')`. */
export function positiveInt(name: string, Err: MessageError): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1)
      throw new Err(`${name} must be a positive integer, got ${JSON.stringify(value)}`);
    return n;
  };
}

/** Parses a number > 0 (fractions allowed); anything else throws `new Err('<name> must be > 0, got "<value>"')`. */
export function positiveNumber(name: string, Err: MessageError): (value: string) => number {
  return (value) => {
    const x = Number(value);
    if (!(x > 0)) throw new Err(`${name} must be > 0, got ${JSON.stringify(value)}`);
    return x;
  };
}

/** Parses decimal digits naming an integer in [lo, hi]; anything else throws `new Err('<name> must be an integer in [lo, hi]')`. */
export function intInRange(name: string, lo: number, hi: number, Err: MessageError): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < lo || n > hi)
      throw new Err(`${name} must be an integer in [${lo}, ${hi}]`);
    return n;
  };
}

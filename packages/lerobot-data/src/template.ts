// Python str.format templates as LeRobot writes them: "data/chunk-{episode_chunk:03d}/episode_{episode_index:06d}.parquet".

/** Formats `{name}` and `{name:0Nd}` fields; throws on an unknown field name. */
export function formatTemplate(template: string, values: Record<string, number | string>): string {
  return template.replace(
    /\{([a-zA-Z_][a-zA-Z0-9_]*)(?::(0?)(\d*)d)?\}/g,
    (_m, name: string, zero: string, width: string) => {
      const v = values[name];
      if (v === undefined)
        throw new Error(`template field "{${name}}" has no value (known: ${Object.keys(values).join(', ')})`);
      const s = String(v);
      const w = width ? Number(width) : 0;
      return s.length >= w ? s : (zero === '0' ? '0' : ' ').repeat(w - s.length) + s;
    },
  );
}

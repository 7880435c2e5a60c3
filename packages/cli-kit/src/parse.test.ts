import { Command, InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { UsageError } from './errors.js';
import { intInRange } from './options.js';
import { captureParse } from './parse.js';

function program() {
  const ran: string[] = [];
  const cmd = new Command('tool').version('1.2.3').showSuggestionAfterError(true);
  const parse = captureParse(cmd);
  cmd
    .command('plan <config>')
    .option('--port <n>', 'port', intInRange('--port', 0, 65535, InvalidArgumentError))
    .action((config: string) => {
      if (config === 'bad') throw new UsageError('bad config');
      ran.push(config);
    });
  return { cmd, parse, ran };
}

describe('captureParse', () => {
  it('runs the actions and prints nothing', () => {
    const { parse, ran } = program();
    expect(parse(['plan', 'a', '--port', '80'])).toEqual({ kind: 'parsed' });
    expect(ran).toEqual(['a']);
  });
  it('--help, help <command> and --version come back as the text commander printed', () => {
    const { cmd, parse } = program();
    expect(parse(['--help'])).toEqual({ kind: 'help', text: cmd.helpInformation() });
    const sub = parse(['help', 'plan']);
    expect(sub.kind === 'help' && sub.text).toMatch(/^Usage: tool plan \[options\] <config>/);
    expect(parse(['--version'])).toEqual({ kind: 'help', text: '1.2.3\n' });
  });
  it("parse errors come back with commander's message and what it printed (subcommands inherit the capture)", () => {
    const { parse } = program();
    expect(parse(['plan', 'a', '--port', '70000'])).toEqual({
      kind: 'error',
      message: "error: option '--port <n>' argument '70000' is invalid. --port must be an integer in [0, 65535]",
      printed: "error: option '--port <n>' argument '70000' is invalid. --port must be an integer in [0, 65535]\n",
    });
    const r = parse(['plna']);
    expect(r.kind === 'error' && r.printed).toMatch(/unknown command 'plna'\n\(Did you mean plan\?\)/);
  });
  it("other errors (an action's, an option parser's) propagate", () => {
    const { parse } = program();
    expect(() => parse(['plan', 'bad'])).toThrow(UsageError);
  });
});

/**
 * Parses command lines against the real command tree without running anything: each line either
 * parses (its action would run) or gets commander's own error (unknown command or option, missing
 * argument). The docs test feeds it every `portcullis …` line the README and docs/ show, so a
 * documented command cannot rot.
 */
import { CommanderError, type Command } from 'commander';

export interface ParseVerdict {
  line: string[];
  ok: boolean;
  error?: string;
}

const PARSED = new Error('parsed');

function quiet(command: Command): void {
  command.exitOverride();
  command.configureOutput({ writeOut: () => undefined, writeErr: () => undefined });
  for (const sub of command.commands) quiet(sub);
}

export async function checkCommandLines(program: Command, lines: readonly string[][]): Promise<ParseVerdict[]> {
  quiet(program);
  program.hook('preAction', () => {
    throw PARSED;
  });
  const verdicts: ParseVerdict[] = [];
  for (const line of lines) {
    try {
      await program.parseAsync([...line], { from: 'user' });
      verdicts.push({ line: [...line], ok: false, error: 'no action ran (a command group without a subcommand?)' });
    } catch (error) {
      if (error === PARSED) verdicts.push({ line: [...line], ok: true });
      else if (error instanceof CommanderError && (error.code === 'commander.helpDisplayed' || error.code === 'commander.version')) verdicts.push({ line: [...line], ok: true });
      else verdicts.push({ line: [...line], ok: false, error: (error as Error).message });
    }
  }
  return verdicts;
}

/** Every command that runs something (`audit query`, `serve`…) with its options (`-c, --config`), for the docs test. */
export function listOptions(program: Command, prefix: string[] = []): Array<{ command: string; options: Array<{ long?: string; short?: string }> }> {
  return program.commands.flatMap((command) => {
    const path = [...prefix, command.name()];
    const own = command.commands.length === 0 ? [{ command: path.join(' '), options: command.options.map((o) => ({ ...(o.long ? { long: o.long } : {}), ...(o.short ? { short: o.short } : {}) })) }] : [];
    return [...own, ...listOptions(command, path)];
  });
}

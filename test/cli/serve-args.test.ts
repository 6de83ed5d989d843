import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { plainServeArgs, SERVE_OPTIONS } from '../../src/cli/serve-args.ts';

/** What commander makes of `serve …` with the same option table (as main.ts declares it). */
function commanderOptions(args: string[]): Record<string, unknown> {
  let seen: Record<string, unknown> = {};
  const program = new Command('portcullis').exitOverride();
  const serve = program.command('serve');
  for (const option of SERVE_OPTIONS) serve.option(option.flags, option.description);
  serve.action((options: Record<string, unknown>) => void (seen = { ...options }));
  program.parse(args, { from: 'user' });
  return seen;
}

describe('a plain serve command line, read without commander', () => {
  it('gives exactly the options commander gives', () => {
    for (const args of [
      ['serve'],
      ['serve', '--port', '0'],
      ['serve', '-c', 'portcullis.yaml', '--no-reload'],
      ['serve', '--config', '/etc/p.yaml', '--host', '0.0.0.0', '--port', '8787', '--reload-settle-ms', '200'],
      ['serve', '--data-dir', '/tmp/d', '--port', '0', '--no-reload'],
    ]) {
      assert.deepEqual(plainServeArgs(args), commanderOptions(args), args.join(' '));
    }
  });

  it('leaves to commander whatever it does not read exactly: help, unknown or repeated options, missing values, other spellings, other commands', () => {
    for (const args of [
      ['serve', '--help'],
      ['serve', '-h'],
      ['serve', '--port'],
      ['serve', '--port', '--no-reload'],
      ['serve', '--port=0'],
      ['serve', '-cportcullis.yaml'],
      ['serve', '--port', '1', '--port', '2'],
      ['serve', '--verbose'],
      ['serve', 'extra'],
      ['stdio'],
      ['--version'],
      [],
    ]) {
      assert.equal(plainServeArgs(args), undefined, args.join(' '));
    }
  });
});

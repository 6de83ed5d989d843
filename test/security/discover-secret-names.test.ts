/**
 * Secrets a value's shape does not give away, only its name or its place: flags (`--pass`, `--pwd`,
 * `--auth`, `--access-key`, `-p`, `--passphrase`, `--key`, `--bearer`, `--session`), `-u user:password`,
 * `NAME=value` arguments, connection strings (`Password=…;`), environment variables named so
 * (`SMTP_PASS`, `MYSQL_PWD`, `AUTH_HEADER`) and URLs with a password but no user (`redis://:pw@host`).
 * None may come out of `discover` (text and JSON) or `import` (stdout and the file written), and import
 * makes each a variable to set (or disables the server whose argument held one).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { runCli } from '../helpers/gateway.ts';

const secret = (n: number): string => `Hx${n}q7Ve${n}Lm`;

describe('discover and import: secrets known by their name or place', () => {
  const home = realpathSync(mkdtempSync(join(tmpdir(), 'pc-secret-names-')));
  mkdirSync(join(home, '.cursor'));
  let n = 0;
  const values: string[] = [];
  const s = (): string => {
    const value = secret(++n);
    values.push(value);
    return value;
  };
  const args = [
    '--pass', s(), '--pwd', s(), '--auth', s(), '--access-key', s(), '-p', s(), '--passphrase', s(), '--key', s(),
    '-u', `admin:${s()}`, '--bearer', s(), '--session', s(), `PASSWORD=${s()}`, '--conn', `Server=x;Password=${s()};`, `--user-password=${s()}`,
  ];
  const env = { SMTP_PASS: s(), MYSQL_PWD: s(), REDIS_URL: `redis://:${s()}@host:6379`, AUTH_HEADER: s(), DB_PASSPHRASE: s(), SESSION_ID: s() };
  writeFileSync(join(home, '.cursor', 'mcp.json'), JSON.stringify({ mcpServers: { cli: { command: '/bin/echo', args }, envs: { command: '/bin/echo', env } } }));
  // Not secrets: kept as they are.
  const plain = { PORT: '8080', LOG_LEVEL: 'debug' };
  writeFileSync(join(home, '.cursor', 'mcp.json'), JSON.stringify({ mcpServers: { cli: { command: '/bin/echo', args: [...args, '-p', '8080'] }, envs: { command: '/bin/echo', env: { ...env, ...plain } } } }));

  const leaked = (output: string): string[] => values.filter((v) => output.includes(v));

  it('discover never prints them, as text or JSON', async () => {
    const text = await runCli(['discover', '--home', home]);
    assert.deepEqual(leaked(text.stdout + text.stderr), []);
    const json = await runCli(['discover', '--home', home, '--json']);
    assert.deepEqual(leaked(json.stdout + json.stderr), []);
    const report = JSON.parse(json.stdout) as { clients: Array<{ servers: Array<{ name: string; env: Record<string, string>; credentials: Array<{ where: string; literal: boolean }> }> }> };
    const envs = report.clients.flatMap((c) => c.servers).find((x) => x.name === 'envs')!;
    assert.equal(envs.env.PORT, '8080');
    assert.equal(envs.env.LOG_LEVEL, 'debug');
    for (const key of Object.keys(env)) assert.ok(envs.credentials.some((c) => c.where === `env.${key}` && c.literal), key);
  });

  it('import writes none of them, makes the variables references and disables the server whose arguments held them', async () => {
    const out = join(home, 'portcullis.yaml');
    const imported = await runCli(['import', '--home', home, '-o', out]);
    assert.equal(imported.code, 0, imported.stderr);
    const text = readFileSync(out, 'utf8');
    assert.deepEqual(leaked(text + imported.stdout + imported.stderr), []);
    const config = parse(text) as { servers: Record<string, { env?: Record<string, string>; disabled?: boolean }> };
    for (const key of Object.keys(env)) assert.match(config.servers.envs!.env![key]!, /^env:/, key);
    assert.equal(config.servers.envs!.env!.PORT, '8080');
    assert.equal(config.servers.cli!.disabled, true);
  });
});

/**
 * A hostile client file names a server `z\e[2K\e[1A\e[2K\rok` and passes `\e[8m` (conceal) and an OSC
 * title sequence as arguments, to hide its own findings from whoever runs discover on a terminal. No
 * escape or control character reaches the terminal from discover, import (stdout and the comments of
 * the file it writes) or install: each is shown escaped, and the findings stay readable.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../helpers/gateway.ts';

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe('discover, import, install: no terminal escapes from client files', () => {
  const home = realpathSync(mkdtempSync(join(tmpdir(), 'pc-escapes-')));
  mkdirSync(join(home, '.cursor'));
  writeFileSync(
    join(home, '.cursor', 'mcp.json'),
    JSON.stringify({
      mcpServers: {
        gh: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-github', '\u001b[8m'] },
        'z\u001b[2K\u001b[1A\u001b[2K\rok': { command: '/bin/echo', args: ['\u001b]0;pwned\u0007', '\u202eevil'] },
      },
    }),
  );

  it('discover shows them escaped, and its findings', async () => {
    const text = await runCli(['discover', '--home', home]);
    assert.ok(!CONTROL.test(text.stdout), JSON.stringify(text.stdout));
    assert.match(text.stdout, /\\u001b\[8m/);
    assert.match(text.stdout, /unpinned-package/);
  });

  it('import writes and prints none of them', async () => {
    const out = join(home, 'portcullis.yaml');
    const imported = await runCli(['import', '--home', home, '-o', out]);
    assert.equal(imported.code, 0, imported.stderr);
    assert.ok(!CONTROL.test(imported.stdout + imported.stderr), JSON.stringify(imported.stdout));
    const comments = readFileSync(out, 'utf8').split('\n').filter((line) => line.trimStart().startsWith('#')).join('\n');
    assert.ok(!CONTROL.test(comments), JSON.stringify(comments));
  });

  it('install prints none of them', async () => {
    const installed = await runCli(['install', '--home', home, '--client', 'cursor', '--gateway', 'http://127.0.0.1:8787', '--dry-run']);
    assert.ok(!CONTROL.test(installed.stdout + installed.stderr), JSON.stringify(installed.stdout + installed.stderr));
  });
});

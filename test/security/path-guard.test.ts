/**
 * The path guard under attack, through the real gateway to the real filesystem server: every way of
 * writing "outside the root" — traversal in every encoding and Unicode look-alike, Windows separators,
 * file URLs, home directories, symlinks (dangling ones included), NUL bytes, lists and non-strings —
 * is refused before the server sees it, the refusal is in the audit trail without the value, and with
 * `forward: resolved` the server receives exactly the canonical path the guard judged.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FILESYSTEM, legacyClient, modernClient, type TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { auditTrail, callsReceived, recordedServer } from '../helpers/recorded.ts';

type Rejection = { data?: { code?: string; rule?: string; reason?: string } };
const refusedBy = (rule: string) => (error: Rejection) => {
  assert.equal(error.data?.code, 'PC_POLICY_GUARD', JSON.stringify(error.data));
  assert.equal(error.data?.rule, rule);
  return true;
};

/** Ways of writing `..` and `/` that some server, decoder or file system reads as such. */
const DOTDOT = ['..', '%2e%2e', '%2E%2e', '.%2e', '%252e%252e', '%25252e%25252e', '．．', '‥', '․․', '%EF%BC%8E%EF%BC%8E', '%e2%80%a5', '%c0%ae%c0%ae', '%uff0e%uff0e'];
const SLASH = ['/', '%2f', '%2F', '%252f', '／', '\\', '%5c', '%255C', '＼', '%ef%bc%8f'];

describe('path guard attacks', () => {
  let gw: TestGateway;
  let base: string;
  let sandbox: string;
  let outside: string;
  let filesLog: string;
  let canonLog: string;

  before(async () => {
    base = realpathSync(mkdtempSync(join(tmpdir(), 'pc-pathguard-')));
    sandbox = join(base, 'sandbox');
    outside = join(base, 'outside');
    mkdirSync(join(sandbox, 'sub'), { recursive: true });
    mkdirSync(outside);
    writeFileSync(join(sandbox, 'notes.txt'), 'inside the sandbox\n');
    writeFileSync(join(outside, 'secret.txt'), 'outside the sandbox\n');
    symlinkSync(outside, join(sandbox, 'escape-dir'));
    symlinkSync(join(outside, 'created.txt'), join(sandbox, 'new-file')); // dangling, absolute target
    symlinkSync('../outside/rel-created.txt', join(sandbox, 'rel-link')); // dangling, relative target
    symlinkSync(join(base, 'no-such-dir'), join(sandbox, 'dangling-dir')); // dangling directory
    symlinkSync('notes.txt', join(sandbox, 'alias.txt')); // stays inside
    filesLog = join(base, 'files.log');
    canonLog = join(base, 'canon.log');
    const guard = { args: ['path', 'paths', 'source', 'destination'], roots: [sandbox] };
    gw = await startSecureGateway({
      servers: {
        files: { ...recordedServer(filesLog, FILESYSTEM, [sandbox]), auditArguments: 'hash' },
        canon: { ...recordedServer(canonLog, FILESYSTEM, [sandbox]), auditArguments: 'full' },
      },
      policy: {
        rules: [
          { name: 'files-in-sandbox', effect: 'allow', servers: ['files'], guards: { paths: guard } },
          { name: 'canon-in-sandbox', effect: 'allow', servers: ['canon'], guards: { paths: { ...guard, forward: 'resolved' } } },
        ],
      },
    });
  });
  after(async () => gw?.close());

  const attacks = (): string[] => {
    const out: string[] = [];
    for (const dd of DOTDOT) for (const sl of SLASH) out.push(`${sandbox}/${dd}${sl}outside/secret.txt`);
    for (const sl of SLASH) out.push(`${sandbox}${sl}..${sl}outside${sl}secret.txt`);
    out.push(
      `${sandbox}/../outside/secret.txt`,
      `${sandbox}/sub/../../outside/secret.txt`,
      `${sandbox}/./../outside/secret.txt`,
      `${sandbox}//..//outside/secret.txt`,
      `${sandbox}/escape-dir/secret.txt`,
      `${sandbox}/escape-dir`,
      `${sandbox}/dangling-dir/x.txt`,
      `${sandbox}/new-file`,
      `${sandbox}/rel-link`,
      `${sandbox}/sub/../escape-dir/../outside/secret.txt`,
      join(outside, 'secret.txt'),
      '/etc/passwd',
      '/ETC/PASSWD',
      'outside/secret.txt',
      '../outside/secret.txt',
      `file://${sandbox}/../outside/secret.txt`,
      `FILE://${outside}/secret.txt`,
      `file://localhost${outside}/secret.txt`,
      `file:///etc/passwd`,
      `file://${sandbox}/%2e%2e/outside/secret.txt`,
      `file%3a//${outside}/secret.txt`,
      '~/.bashrc',
      '~root/.ssh/id_rsa',
      '～/.bashrc',
      `${sandbox}/%00/../outside/secret.txt`,
      `${sandbox}\\..\\outside\\secret.txt`,
      'C:\\Windows\\win.ini',
      '\\\\server\\share\\secret.txt',
      `${sandbox}/%2e%2e%2F%2e%2e%2F%2e%2e%2F%2e%2e%2Fetc%2Fpasswd`,
      `${sandbox}/%25${'25'.repeat(4)}2e%25${'25'.repeat(4)}2e/outside/secret.txt`, // `..` encoded six times over
    );
    return out;
  };

  it('refuses every encoded, look-alike, symlinked or foreign form of leaving the root; nothing reaches the server', async () => {
    const client = await legacyClient(`${gw.url}/mcp/files`);
    const list = attacks();
    try {
      const ok = await client.callTool({ name: 'read_text_file', arguments: { path: join(sandbox, 'notes.txt') } });
      assert.match(JSON.stringify(ok.content), /inside the sandbox/, 'a path inside the root is served');
      for (const path of list) {
        await assert.rejects(client.callTool({ name: 'read_text_file', arguments: { path } }), refusedBy('files-in-sandbox'), JSON.stringify(path));
      }
      // A raw NUL is refused in any argument before the guard is asked (validate/unambiguous-values.ts).
      await assert.rejects(client.callTool({ name: 'read_text_file', arguments: { path: `${sandbox}\u0000/../outside/secret.txt` } }), (error: Rejection) => error.data?.code === 'PC_ARGS_INVALID');
      // Writes through dangling symlinks would create files outside.
      for (const path of [`${sandbox}/new-file`, `${sandbox}/rel-link`, `${sandbox}/dangling-dir/x.txt`]) {
        await assert.rejects(client.callTool({ name: 'write_file', arguments: { path, content: 'pwned' } }), refusedBy('files-in-sandbox'), path);
      }
      await assert.rejects(client.callTool({ name: 'move_file', arguments: { source: join(sandbox, 'notes.txt'), destination: `${sandbox}/new-file` } }), refusedBy('files-in-sandbox'));
      await assert.rejects(client.callTool({ name: 'read_multiple_files', arguments: { paths: [join(sandbox, 'notes.txt'), `${sandbox}/%252e%252e/outside/secret.txt`] } }), refusedBy('files-in-sandbox'));
      for (const path of [[`${sandbox}/../outside/secret.txt`], { 0: '/etc/passwd' }, 7]) {
        await assert.rejects(client.callTool({ name: 'read_text_file', arguments: { path } as never }), refusedBy('files-in-sandbox'), JSON.stringify(path));
      }
    } finally {
      await client.close();
    }
    const reached = callsReceived(filesLog);
    assert.deepEqual(reached.map((c) => c.arguments.path), [join(sandbox, 'notes.txt')], 'only the allowed call reached the server');
    assert.equal(existsSync(join(outside, 'created.txt')), false, 'no file was created through the dangling symlink');
    assert.equal(existsSync(join(outside, 'rel-created.txt')), false);

    const refusals = auditTrail(gw.gateway.config.dataDir!).filter((r) => r.server === 'files' && r.decision === 'denied');
    assert.equal(refusals.length, list.length + 9, 'every refusal is recorded');
    assert.equal(refusals.filter((r) => r.code === 'PC_ARGS_INVALID').length, 1, 'the NUL refusal');
    for (const record of refusals) {
      if (record.code === 'PC_ARGS_INVALID') continue;
      assert.equal(record.code, 'PC_POLICY_GUARD');
      assert.equal(record.rule, 'files-in-sandbox');
      assert.ok(record.argsHash, 'arguments are kept as a hash only');
      assert.equal(record.args, undefined);
      assert.doesNotMatch(JSON.stringify(record), /secret|passwd|\/outside|bashrc|win\.ini|created|%2e|\.\.\//i, 'the refused value is not quoted into the record');
    }
  });

  it('refuses the same attacks on the aggregated endpoint in the modern era', async () => {
    const before = callsReceived(filesLog).length;
    const client = await modernClient(`${gw.url}/mcp`);
    try {
      for (const path of [`${sandbox}/%252e%252e%252foutside/secret.txt`, `${sandbox}/．．／outside/secret.txt`, `${sandbox}/new-file`, `${sandbox}/..%5coutside/secret.txt`]) {
        await assert.rejects(client.callTool({ name: 'files__write_file', arguments: { path, content: 'pwned' } }), refusedBy('files-in-sandbox'), path);
      }
    } finally {
      await client.close();
    }
    assert.equal(callsReceived(filesLog).length, before, 'nothing reached the server');
    assert.equal(existsSync(join(outside, 'created.txt')), false);
  });

  it('with forward: resolved, the server receives exactly the canonical path the guard judged', async () => {
    const client = await legacyClient(`${gw.url}/mcp/canon`);
    try {
      const read = await client.callTool({ name: 'read_text_file', arguments: { path: `${sandbox}/sub/../alias.txt` } });
      assert.match(JSON.stringify(read.content), /inside the sandbox/);
      await client.callTool({ name: 'read_multiple_files', arguments: { paths: [`${sandbox}/alias.txt`, `${sandbox}/./sub/../notes.txt`] } });
      await client.callTool({ name: 'write_file', arguments: { path: `${sandbox}/sub/./new.txt`, content: 'new' } });
      await assert.rejects(client.callTool({ name: 'read_text_file', arguments: { path: `${sandbox}/escape-dir/secret.txt` } }), refusedBy('canon-in-sandbox'));
    } finally {
      await client.close();
    }
    const notes = join(sandbox, 'notes.txt');
    const calls = callsReceived(canonLog);
    assert.deepEqual(
      calls.map((c) => c.arguments.path ?? c.arguments.paths),
      [notes, [notes, notes], join(sandbox, 'sub', 'new.txt')],
      'the server received the resolved paths, not what was sent',
    );
    const records = auditTrail(gw.gateway.config.dataDir!).filter((r) => r.server === 'canon' && r.decision === 'allowed');
    assert.deepEqual(
      records.map((r) => (r.args as Record<string, unknown>).path ?? (r.args as Record<string, unknown>).paths),
      [notes, [notes, notes], join(sandbox, 'sub', 'new.txt')],
      'the audit trail records what was forwarded',
    );
  });
});

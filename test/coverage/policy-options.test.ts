/**
 * Policy options not exercised elsewhere, attacked against recorded servers: `guards.paths.allowRelative`
 * (with `forward: as-sent`), `guards.urls.schemes` and `allowPrivate`, `guards.values.*.minLength`, and
 * annotations — `idempotent` / `openWorld` attested in `policy.tools` and required by a rule's
 * `annotations`. Each refusal is PC_POLICY_GUARD or PC_POLICY_DENIED and the server received nothing of it.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { legacyClient, startGateway, type TestGateway } from '../helpers/gateway.ts';
import { callsReceived } from '../helpers/recorded.ts';
import { recordedServer } from '../helpers/security.ts';

const DNS: Record<string, string[]> = {
  'files.example.com': ['93.184.216.34'],
  'internal.example.com': ['10.0.0.7'],
};
// Two rules share a server where they can, one per tool (echo, delete_record), to start fewer processes.
const SERVERS = ['paths', 'urls', 'values', 'annotated'] as const;

describe('policy guards and annotations', () => {
  let gw: TestGateway;
  let sandbox: string;
  const logs: Record<string, string> = {};

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-cov-policy-'));
    sandbox = join(dir, 'sandbox');
    mkdirSync(sandbox);
    writeFileSync(join(sandbox, 'notes.txt'), 'x');
    for (const s of SERVERS) logs[s] = join(dir, `${s}.log`);
    gw = await startGateway(
      {
        servers: Object.fromEntries(SERVERS.map((s) => [s, recordedServer(logs[s]!)])),
        policy: {
          rules: [
            { name: 'relative-paths', effect: 'allow', servers: ['paths'], tools: ['echo'], guards: { paths: { args: ['path'], roots: [sandbox], allowRelative: true, forward: 'as-sent' } } },
            { name: 'absolute-paths', effect: 'allow', servers: ['paths'], tools: ['delete_record'], guards: { paths: { args: ['path'], roots: [sandbox] } } },
            { name: 'urls-ftp-private', effect: 'allow', servers: ['urls'], tools: ['echo'], guards: { urls: { args: ['url'], schemes: ['https', 'ftp'], allowPrivate: true } } },
            { name: 'urls-public', effect: 'allow', servers: ['urls'], tools: ['delete_record'], guards: { urls: { args: ['url'], schemes: ['https'], allowPrivate: false } } },
            { name: 'sized-text', effect: 'allow', servers: ['values'], guards: { values: { text: { type: 'string', minLength: 3, maxLength: 8 } } } },
            { name: 'safe-tools', effect: 'allow', servers: ['annotated'], annotations: { idempotent: true, openWorld: false } },
          ],
          tools: [{ server: 'annotated', tool: 'echo', annotations: { idempotent: true, openWorld: false } }],
          // Said explicitly: every refusal below is enforced, not only recorded (monitor).
          mode: 'enforce',
        },
      },
      undefined,
      {
        resolveHost: async (host) => {
          const found = DNS[host.toLowerCase()];
          if (!found) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
          return found;
        },
      },
    );
  });
  after(async () => gw.close());

  /** Calls `tool` on `server`; the refusal code, or undefined when it ran. */
  async function attempt(server: string, args: Record<string, unknown>, tool = 'echo'): Promise<string | undefined> {
    const client = await legacyClient(`${gw.url}/mcp/${server}`);
    try {
      await client.callTool({ name: tool, arguments: args });
      return undefined;
    } catch (error) {
      return (error as { data?: { code?: string } }).data?.code ?? 'no-code';
    } finally {
      await client.close();
    }
  }
  const reached = (server: string, tool?: string) => callsReceived(logs[server]!).filter((c) => tool === undefined || c.name === tool).map((c) => c.arguments);

  it('resolves a relative path against the first root with allowRelative, forwarding the absolute path it judged (the server\'s own base may differ); refuses it without', async () => {
    assert.equal(await attempt('paths', { text: 'a', path: 'notes.txt' }), undefined);
    assert.equal(await attempt('paths', { text: 'b', path: '../outside.txt' }), 'PC_POLICY_GUARD');
    assert.equal(await attempt('paths', { text: 'c', path: 'sub/../../outside.txt' }), 'PC_POLICY_GUARD');
    assert.deepEqual(reached('paths', 'echo'), [{ text: 'a', path: join(sandbox, 'notes.txt') }], 'even with forward: as-sent, a relative path goes out as the absolute path judged');
    assert.equal(await attempt('paths', { id: 'd', path: 'notes.txt' }, 'delete_record'), 'PC_POLICY_GUARD');
    assert.equal(await attempt('paths', { id: 'e', path: join(sandbox, 'notes.txt') }, 'delete_record'), undefined);
    assert.deepEqual(reached('paths', 'delete_record').map((a) => a.id), ['e']);
  });

  it('accepts only the listed URL schemes, and private addresses only with allowPrivate', async () => {
    assert.equal(await attempt('urls', { text: 'ftp', url: 'ftp://files.example.com/a' }), undefined);
    assert.equal(await attempt('urls', { text: 'private', url: 'https://internal.example.com/' }), undefined);
    assert.equal(await attempt('urls', { text: 'loopback', url: 'https://127.0.0.1:8443/' }), undefined);
    for (const url of ['http://files.example.com/', 'file:///etc/passwd', 'gopher://files.example.com/', 'sftp://files.example.com/a']) {
      assert.equal(await attempt('urls', { text: `bad-${url}`, url }), 'PC_POLICY_GUARD', url);
    }
    assert.deepEqual(reached('urls', 'echo').map((a) => a.text), ['ftp', 'private', 'loopback']);
    assert.equal(await attempt('urls', { id: 'pub', url: 'https://files.example.com/' }, 'delete_record'), undefined);
    for (const url of ['https://internal.example.com/', 'https://127.0.0.1/', 'https://[::1]/', 'https://169.254.169.254/latest/meta-data', 'ftp://files.example.com/']) {
      assert.equal(await attempt('urls', { id: `bad-${url}`, url }, 'delete_record'), 'PC_POLICY_GUARD', url);
    }
    assert.deepEqual(reached('urls', 'delete_record').map((a) => a.id), ['pub']);
  });

  it('holds a value to minLength and maxLength', async () => {
    for (const text of ['', 'ab', 'abcdefghi']) assert.equal(await attempt('values', { text }), 'PC_POLICY_GUARD', JSON.stringify(text));
    assert.equal(await attempt('values', { text: 'abc' }), undefined);
    assert.equal(await attempt('values', { text: 'abcdefgh' }), undefined);
    assert.deepEqual(reached('values').map((a) => a.text), ['abc', 'abcdefgh']);
  });

  it('allows by attested annotations: idempotent and closed-world echo runs, the unattested tool does not', async () => {
    assert.equal(await attempt('annotated', { text: 'safe' }), undefined);
    assert.equal(await attempt('annotated', { id: 'r-1' }, 'delete_record'), 'PC_POLICY_DENIED');
    assert.deepEqual(reached('annotated'), [{ text: 'safe' }]);
  });
});

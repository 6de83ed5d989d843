/**
 * A kill that no running gateway reads is not reported as done (redteam-g F5). `portcullis kill` with a
 * configuration (or none: the embedded default) whose data dir no running gateway uses exits 3 and says
 * NOT IN EFFECT, naming the data dir — a record left by a gateway that died does not count — while the
 * live gateway keeps serving, as the operator is now told. Given the running gateway's configuration,
 * it reports the gateway that reads the switch, and on the server's side the next call does not arrive.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, type TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { callTool, recordedEverything } from '../helpers/oauth.ts';
import { identityDbPath } from '../../src/auth/identity.ts';
import { IdentityStore } from '../../src/auth/store.ts';

describe('security: kill says whether a running gateway reads the switch', () => {
  let gw: TestGateway;
  let live: string;
  let key: string;
  const upstream = recordedEverything();
  const echoed = () => upstream.received().filter((m) => m.method === 'tools/call').map((m) => String((m.params?.arguments as { message?: string }).message));
  const document = (dataDir: string) => ({ dataDir, identity: { apiKeys: {} }, servers: { everything: upstream.server }, policy: { rules: [{ name: 'echo', effect: 'allow', servers: ['everything'], tools: ['echo'] }] } });

  before(async () => {
    gw = await startSecureGateway(document(mkdtempSync(join(tmpdir(), 'pc-kill-live-'))));
    live = join(gw.gateway.config.dataDir!, 'portcullis.json');
    writeFileSync(live, JSON.stringify(document(gw.gateway.config.dataDir!)));
    const store = new IdentityStore(identityDbPath(gw.gateway.config.dataDir!));
    key = store.createKey('worker', [], new Date(Date.now() + 86_400_000)).key;
    store.close();
  });
  after(async () => {
    await gw?.close();
  });

  it('another data dir (a wrong -c, or none): exit 3, NOT IN EFFECT, and the gateway indeed still serves', async () => {
    const other = mkdtempSync(join(tmpdir(), 'pc-kill-other-'));
    // A record left by a gateway that died (no such process) does not make the data dir live.
    mkdirSync(join(other, 'running'), { recursive: true });
    writeFileSync(join(other, 'running', '999999999.json'), JSON.stringify({ pid: 999_999_999, startedAt: new Date().toISOString(), instanceId: 'dead' }));
    // Nor does one whose pid the system gave to another process since (here: a live pid, another start time).
    writeFileSync(join(other, 'running', `${process.ppid}.json`), JSON.stringify({ pid: process.ppid, startedAt: new Date().toISOString(), instanceId: 'reused', processStart: '1' }));
    const wrong = join(other, 'portcullis.json');
    writeFileSync(wrong, JSON.stringify(document(other)));
    const killed = await runCli(['kill', '--all', '--reason', 'incident', '-c', wrong]);
    assert.equal(killed.code, 3, killed.stdout + killed.stderr);
    assert.match(killed.stderr, /NOT IN EFFECT: no running gateway uses data dir/);
    assert.ok(killed.stderr.includes(other), killed.stderr);
    assert.doesNotMatch(killed.stdout, /^killed/m);
    const still = await callTool(`${gw.url}/mcp`, key, 'everything__echo', { message: 'after-wrong-kill' });
    assert.equal(still.json.error, undefined, still.text);
    // Without -c: the embedded default's data dir (PORTCULLIS_DATA_DIR), where nothing runs either.
    const bare = await runCli(['kill', '--all', '--reason', 'incident'], { PORTCULLIS_DATA_DIR: mkdtempSync(join(tmpdir(), 'pc-kill-default-')), HOME: other });
    assert.equal(bare.code, 3, bare.stdout + bare.stderr);
  });

  it('the running gateway\'s configuration: reported as read by it, and the next call does not reach the server', async () => {
    const killed = await runCli(['kill', '--all', '--reason', 'incident', '-c', live]);
    assert.equal(killed.code, 0, killed.stderr);
    assert.match(killed.stdout, new RegExp(`read by 1 running gateway \\(pid ${process.pid}\\)`));
    const stopped = await callTool(`${gw.url}/mcp`, key, 'everything__echo', { message: 'after-real-kill' });
    assert.equal(stopped.json.error?.data?.code, 'PC_KILL_SWITCH', stopped.text);
    assert.ok(!echoed().includes('after-real-kill'), 'the killed call never reached the server');
    assert.equal((await runCli(['unkill', '--all', '-c', live])).code, 0);
  });
});

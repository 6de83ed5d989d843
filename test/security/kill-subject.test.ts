/**
 * Containment per user: an agent switch names one agent, and a user who can make agents at will (a
 * new OAuth client under open registration, another client name) walks around it. `portcullis kill
 * --subject <user>` stops every call made for that user, by any of its agents, on both endpoints and
 * in both eras; another user's switch stops none of them; `unkill --subject` lifts it. The server
 * receives nothing while the switch is on.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, type TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { codeOf, forwarded, legacySession, modernSession, recordedServer, type RawSession } from '../helpers/security.ts';

describe('kill switch per subject', () => {
  let gw: TestGateway;
  let log: string;
  let config: string;
  let callers: Record<string, RawSession> = {};
  // Without identity, local principals are the OS user, each client naming its own agent.
  const subject = userInfo().username;

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-kill-subject-'));
    log = join(dir, 'gov.log');
    gw = await startSecureGateway({ servers: { gov: recordedServer(log) }, policy: { rules: [{ name: 'echo-only', effect: 'allow', servers: ['gov'], tools: ['echo'] }] } });
    config = join(dir, 'portcullis.yaml');
    writeFileSync(config, `dataDir: ${JSON.stringify(gw.gateway.config.dataDir)}\nservers: {}\n`);
    callers = {
      'agent-one on /mcp/gov': await legacySession(`${gw.url}/mcp/gov`, '2025-11-25', 'agent-one'),
      'agent-two on /mcp': await legacySession(`${gw.url}/mcp`, '2025-11-25', 'agent-two'),
      'a modern caller on /mcp/gov': modernSession(`${gw.url}/mcp/gov`),
    };
  });
  after(async () => gw?.close());

  const echo = (label: string, session: RawSession) =>
    session.send({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: label.includes('on /mcp/gov') ? 'echo' : 'gov__echo', arguments: { text: label } } });

  it('stops every agent of the subject, and only while the switch is on', async () => {
    const other = await runCli(['kill', '--subject', `not-${subject}`, '-c', config]);
    assert.equal(other.code, 0, other.stderr);
    for (const [label, session] of Object.entries(callers)) assert.equal(codeOf(await echo(label, session)), undefined, `${label}: another user's switch stops nothing`);

    const killed = await runCli(['kill', '--subject', subject, '--reason', 'incident 12', '-c', config]);
    assert.equal(killed.code, 0, killed.stderr);
    assert.match(killed.stdout, new RegExp(`killed: subject "${subject}"`));
    const before = forwarded(log).length;
    for (const [label, session] of Object.entries(callers)) {
      assert.equal(codeOf(await echo(label, session)), 'PC_KILL_SWITCH', label);
      const listed = await session.send({ jsonrpc: '2.0', id: 4, method: 'tools/list' });
      assert.equal(codeOf(listed), 'PC_KILL_SWITCH', `${label}: tools/list`);
    }
    assert.deepEqual(forwarded(log).slice(before), [], 'nothing reached the server while the subject was stopped');

    const lifted = await runCli(['unkill', '--subject', subject, '-c', config]);
    assert.equal(lifted.code, 0, lifted.stderr);
    for (const [label, session] of Object.entries(callers)) assert.equal(codeOf(await echo(label, session)), undefined, `${label}: lifted`);
  });

  it('refuses an empty subject and a second target', async () => {
    assert.equal((await runCli(['kill', '--subject', ' ', '-c', config])).code, 2);
    const both = await runCli(['kill', '--subject', subject, '--agent', 'x', '-c', config]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /exactly one of .*--subject USER/);
  });

  it('a tool switch given by the name clients of /mcp see (gov__echo) stops that tool everywhere', async () => {
    const named = join(gw.gateway.config.dataDir!, 'with-servers.yaml');
    writeFileSync(named, `dataDir: ${JSON.stringify(gw.gateway.config.dataDir)}\nservers: { gov: { url: "http://127.0.0.1:1/mcp" } }\n`);
    const killed = await runCli(['kill', '--tool', 'gov__echo', '-c', named]);
    assert.equal(killed.code, 0, killed.stderr);
    assert.match(killed.stdout, /gov\.echo/, 'the switch holds the server.tool form');
    const before = forwarded(log).length;
    for (const [label, session] of Object.entries(callers)) assert.equal(codeOf(await echo(label, session)), 'PC_KILL_SWITCH', `${label}: stopped`);
    assert.deepEqual(forwarded(log).slice(before), [], 'nothing reached the server while the tool was stopped');
    assert.equal((await runCli(['unkill', '--tool', 'gov__echo', '-c', named])).code, 0);
    for (const [label, session] of Object.entries(callers)) assert.equal(codeOf(await echo(label, session)), undefined, `${label}: lifted`);
  });
});

/**
 * Red team C (C1, C6, C7, C8, C11): every message a server sends toward a client passes DLP before it
 * is written, whatever its method and whichever stream carries it — list_changed, resources/updated,
 * tasks/status, log, progress, roots/list_changed, custom notifications, during a call and after it
 * ended — on /mcp/<server>, /mcp and the stdio front. A hostile raw-JSON-RPC server
 * (test/fixtures/notifying-server.ts) puts secrets in values, `_meta` keys and values, cursors, extra
 * params and a method name; its list `nextCursor` holds a secret too (the client gets the gateway's own
 * cursor instead). Asserted on the client's side (no secret arrived) and in the audit trail.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { MAIN, waitFor, type TestGateway } from '../helpers/gateway.ts';
import { pinned, startSecureGateway } from '../helpers/secure.ts';
import { auditTrail } from '../helpers/recorded.ts';
import { fakeSecrets } from '../helpers/secrets.ts';
import { openLegacySession, type LegacySession } from '../helpers/sessions.ts';

const NOTIFYING = new URL('../fixtures/notifying-server.ts', import.meta.url).pathname;
const secrets = fakeSecrets();
const VALUES = [secrets.github, secrets.aws];
type Message = Record<string, any>;
const isMarker = (m: Message) => m.method === 'notifications/tools/list_changed' && m.params?.marker === true;
const server = () => pinned({ command: process.execPath, args: [NOTIFYING] });
const policy = { rules: [{ name: 'notes', effect: 'allow', servers: ['notes'] }] };

function assertClean(payload: unknown, where: string): void {
  const text = JSON.stringify(payload);
  for (const value of VALUES) assert.ok(!text.includes(value), `${where} holds a secret value`);
}

/** What a client must have been sent: each kind of notification, during the call and after it, masked. */
function assertEveryKindMasked(received: readonly Message[], where: string): void {
  assertClean(received, where);
  const kinds = ['notifications/tools/list_changed', 'notifications/prompts/list_changed', 'notifications/resources/list_changed', 'notifications/message', 'notifications/custom/leak', 'notifications/roots/list_changed'];
  for (const kind of kinds) {
    for (const when of ['during', 'after']) {
      const found = received.filter((m) => m.method === kind && JSON.stringify(m).includes(when));
      assert.ok(found.length > 0, `${where}: ${kind} (${when} the call) was delivered`);
      assert.match(JSON.stringify(found), /\[REDACTED:/, `${where}: ${kind} (${when}) was masked`);
    }
  }
  assert.ok(!received.some((m) => typeof m.method === 'string' && /notifications\/ghp_/.test(m.method)), `${where}: a notification whose method name is a secret was dropped`);
}

describe('DLP on every server notification', () => {
  let gw: TestGateway;
  let dataDir: string;
  const sessions: LegacySession[] = [];

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'pc-dlp-notes-'));
    gw = await startSecureGateway({ dataDir, servers: { notes: server() }, policy, dlp: { results: { secrets: 'mask', pii: 'mask' } } });
  });
  after(async () => {
    await Promise.all(sessions.map((s) => s.close()));
    await gw.close();
  });

  for (const [path, tool] of [['/mcp/notes', 'burst'], ['/mcp', 'notes__burst']] as const) {
    it(`masks list_changed, resources/updated, tasks/status, log, progress and custom notifications on ${path}, during a call and after it`, async () => {
      const session = await openLegacySession(`${gw.url}${path}`);
      sessions.push(session);
      assert.deepEqual((await session.request('resources/subscribe', { uri: 'note://doc' })).result, {});
      const task = await session.request('tools/call', { name: tool, arguments: {}, task: { ttl: 60_000 }, _meta: { progressToken: 'p1' } });
      assert.match(String(task.result?.task?.taskId), /^task-\d+$/, JSON.stringify(task));
      await session.until(isMarker, `the marker on ${path}`);
      assertEveryKindMasked(session.received, path);
      const updates = session.received.filter((m) => m.method === 'notifications/resources/updated');
      assert.ok(updates.length >= 2, `${path}: resources/updated delivered (${updates.length})`);
      assert.match(JSON.stringify(updates), /\[REDACTED:/);
      const statuses = session.received.filter((m) => m.method === 'notifications/tasks/status');
      assert.ok(statuses.some((m) => /after/.test(JSON.stringify(m))), `${path}: the late tasks/status was delivered`);
      assert.match(JSON.stringify(statuses), /\[REDACTED:/);
      const progress = session.received.filter((m) => m.method === 'notifications/progress');
      assert.ok(progress.length > 0 && progress.every((m) => m.params.progressToken === 'p1'), `${path}: progress kept the client's token`);
      // The audit trail keeps none of it either.
      assertClean(auditTrail(dataDir), `${path}: the audit trail`);
    });
  }

  it('hands the client a cursor of its own instead of the server\'s nextCursor (C8), and pages with it', async () => {
    const session = await openLegacySession(`${gw.url}/mcp/notes`);
    sessions.push(session);
    const first = await session.request('resources/list', {});
    assertClean(first, 'the list result');
    const cursor = first.result.nextCursor as string;
    assert.match(cursor, /^pc-/);
    const second = await session.request('resources/list', { cursor });
    assert.ok(second.result, JSON.stringify(second.error));
    assertClean(second, 'the second page');
  });

  it('masks every notification on the stdio front', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-dlp-notes-stdio-'));
    const file = join(dir, 'portcullis.yaml');
    writeFileSync(file, `dataDir: ${JSON.stringify(dir)}\npolicy: ${JSON.stringify(policy)}\nservers:\n  notes: ${JSON.stringify(server())}\n`);
    const child = spawn(process.execPath, [MAIN, 'stdio', '-c', file], { stdio: ['pipe', 'pipe', 'ignore'] });
    const received: Message[] = [];
    createInterface({ input: child.stdout }).on('line', (line) => {
      try {
        received.push(JSON.parse(line));
      } catch {
        received.push({ unparsed: line });
      }
    });
    const send = (m: Message) => child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', ...m })}\n`);
    try {
      send({ id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'stdio-notes', version: '1' } } });
      await waitFor(() => received.find((m) => m.id === 1), 20_000, 'initialize answer');
      send({ method: 'notifications/initialized' });
      send({ id: 3, method: 'tools/call', params: { name: 'notes__burst', arguments: {}, _meta: { progressToken: 'p1' } } });
      await waitFor(() => received.find(isMarker), 10_000, 'the marker on stdio');
      assertEveryKindMasked(received, 'stdio');
    } finally {
      child.kill();
    }
  });
});

describe('DLP on attacker-sized arrays (C12)', () => {
  let gw: TestGateway;
  let dataDir: string;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'pc-dlp-many-'));
    gw = await startSecureGateway({ dataDir, servers: { notes: server() }, policy, dlp: { results: { secrets: 'mask' } } });
  });
  after(() => gw.close());

  it('masks a secret after 200 000 array elements in a result instead of failing with an internal error', async () => {
    const session = await openLegacySession(`${gw.url}/mcp/notes`);
    try {
      const answer = await session.request('tools/call', { name: 'many', arguments: { n: 200_000 } });
      assert.ok(answer.result, JSON.stringify(answer.error));
      assert.equal(answer.result.structuredContent.arr.length, 200_001);
      assert.match(answer.result.structuredContent.arr[200_000], /^\[REDACTED:/);
      assertClean(answer, 'the result');
      // An array of 200 000 character codes in a client's `_meta` is read too: refused, not an internal error.
      const codes = Array.from({ length: 200_000 }, (_, i) => 0x61 + (i % 26));
      const refused = await session.request('tools/call', { name: 'burst', arguments: {}, _meta: { codes: [...codes, ...[...secrets.github].map((c) => c.charCodeAt(0))] } });
      assert.notEqual(refused.error?.data?.code, 'PC_INTERNAL', JSON.stringify(refused.error));
      assertClean(auditTrail(dataDir), 'the audit trail');
    } finally {
      await session.close();
    }
  });
});

describe('DLP on a secret cut over the content items of one result (C10)', () => {
  let gw: TestGateway;
  let dataDir: string;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'pc-dlp-split-'));
    gw = await startSecureGateway({ dataDir, servers: { notes: server() }, policy, dlp: { results: { secrets: 'mask' } } });
  });
  after(() => gw.close());

  for (const layout of ['txt3', 'txtgap', 'txtimg', 'txtres']) {
    it(`masks a secret cut over content items (${layout}) in every piece`, async () => {
      const session = await openLegacySession(`${gw.url}/mcp/notes`);
      try {
        const answer = await session.request('tools/call', { name: 'split', arguments: { v: layout } });
        assert.ok(answer.result, JSON.stringify(answer.error));
        // What a reader makes of the items: their texts one after the other.
        const read = answer.result.content.map((c: Message) => c.text ?? c.resource?.text ?? '').join('');
        assert.ok(!read.replace(/\s+/g, '').includes(secrets.github.slice(4, 30)), read);
        assert.match(read, /\[REDACTED:github/);
      } finally {
        await session.close();
      }
    });
  }
});

describe('DLP on a PEM private key in a result (C9)', () => {
  let gw: TestGateway;

  before(async () => {
    gw = await startSecureGateway({ servers: { notes: server() }, policy });
  });
  after(() => gw.close());

  it('masks the key instead of withholding the result as encoded too deep', async () => {
    const session = await openLegacySession(`${gw.url}/mcp/notes`);
    try {
      const answer = await session.request('tools/call', { name: 'pem', arguments: {} });
      assert.ok(answer.result, JSON.stringify(answer.error));
      const text = answer.result.content[0].text as string;
      assert.match(text, /^your key:\n\[REDACTED:private-key#1\]/);
      assert.doesNotMatch(text, /[A-Za-z0-9+/]{40}/, 'no line of the key body is left');
    } finally {
      await session.close();
    }
  });
});

/**
 * A modern (2026-07-28) server's `requestState` never reaches the client: the client holds a handle
 * of the gateway's own (routing/request-states.ts), which its retry exchanges for the server's value.
 * Before, the server's state travelled as is: a server that signs its state (an HS256 JWT here) had
 * every `input_required` answer blocked under the default `secrets: mask`, and a state the client
 * made up went to the server. Now a handle stolen by another caller, one used with other arguments,
 * forged, replayed, or the server's own value sent raw is refused (PC_INPUT_STATE_INVALID) and nothing
 * reaches the server; a caller holding too many is refused (PC_INPUT_PARKED_LIMIT).
 *
 * One real gateway (HTTP front, API keys for alice and bob), the modern fixture on the official v2 SDK
 * (test/fixtures/modern-server.ts, which records every request body it receives), raw modern requests.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { auditTrail } from '../helpers/audit.ts';
import { waitFor, type TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { dataDirWithKeys, modernRequest } from '../helpers/sessions.ts';
import { startModernServer, type ModernServer } from '../fixtures/modern-server.ts';

const MAX_PER_PRINCIPAL = 4;
const yes = { sign_off: { action: 'accept', content: { ok: true } } };
const codeOf = (body: Record<string, any>): string | undefined => body.error?.data?.code;

describe("a modern server's requestState: the client holds only the gateway's handle", () => {
  let modern: ModernServer;
  let gw: TestGateway;
  let dataDir: string;
  let keys: Record<string, string>;

  before(async () => {
    modern = await startModernServer();
    ({ dataDir, keys } = dataDirWithKeys(['alice', 'bob']));
    gw = await startSecureGateway({
      dataDir,
      identity: { apiKeys: {} },
      servers: { modern: { url: modern.url } },
      policy: { rules: [{ name: 'both', effect: 'allow', principal: { agents: ['alice', 'bob'] }, servers: ['modern'] }] },
      routing: { inputRequired: { maxPerPrincipal: MAX_PER_PRINCIPAL } },
    });
  });
  after(async () => {
    await gw?.close();
    await modern?.close();
  });

  const call = (who: string, action: string, extra: Record<string, unknown> = {}) =>
    modernRequest(`${gw.url}/mcp/modern`, 'tools/call', { name: 'sign_off', arguments: { action }, ...extra }, { authorization: `Bearer ${keys[who]}` });

  /** What reached the server that carries a requestState. */
  const retriesReceived = (): string[] => modern.bodies().filter((b) => b.includes('"requestState"'));

  async function handleFor(who: string, action: string): Promise<string> {
    const first = await call(who, action);
    const said = JSON.stringify(first.body);
    assert.equal(first.body.result?.resultType, 'input_required', said);
    for (const token of modern.issuedTokens()) assert.ok(!said.includes(token) && !said.includes(token.split('.')[2]!), `the server's token reached the client: ${said}`);
    const handle = first.body.result.requestState as string;
    assert.match(handle, /^pcs1\.[A-Za-z0-9_-]{22}$/, said);
    return handle;
  }

  it("gives the client a handle, not the server's signed token, and restores the token on the retry", async () => {
    const handle = await handleFor('alice', 'deploy');
    const done = await call('alice', 'deploy', { requestState: handle, inputResponses: yes });
    assert.match(JSON.stringify(done.body), /signed off deploy: \{\\"ok\\":true\}/, JSON.stringify(done.body));
    const token = modern.issuedTokens().at(-1)!;
    assert.ok(retriesReceived().some((b) => b.includes(token)), 'the server got its own token back');
    assert.ok(!retriesReceived().some((b) => b.includes(handle)), 'the handle never reached the server');
    assert.ok(!JSON.stringify(auditTrail(dataDir)).includes(token), 'the audit trail does not hold the token');
  });

  it("refuses bob's retry with alice's handle, and one with other arguments, leaving it to alice", async () => {
    const handle = await handleFor('alice', 'release');
    const before = retriesReceived().length;
    assert.equal(codeOf((await call('bob', 'release', { requestState: handle, inputResponses: yes })).body), 'PC_INPUT_STATE_INVALID', 'stolen by bob');
    assert.equal(codeOf((await call('alice', 'release-all', { requestState: handle, inputResponses: yes })).body), 'PC_INPUT_STATE_INVALID', 'other arguments');
    assert.equal(retriesReceived().length, before, 'nothing reached the server');
    const done = await call('alice', 'release', { requestState: handle, inputResponses: yes });
    assert.match(JSON.stringify(done.body), /signed off release/, JSON.stringify(done.body));
  });

  it("refuses a forged, altered, replayed or raw server state, and nothing reaches the server", async () => {
    const handle = await handleFor('alice', 'rotate');
    const used = await call('alice', 'rotate', { requestState: handle, inputResponses: yes });
    assert.match(JSON.stringify(used.body), /signed off rotate/, JSON.stringify(used.body));
    const fresh = await handleFor('alice', 'rotate');
    const flip = (s: string, at: number) => s.slice(0, at) + (s[at] === 'A' ? 'B' : 'A') + s.slice(at + 1);
    const token = modern.issuedTokens().at(-1)!;
    const before = retriesReceived().length;
    const forged: unknown[] = [handle, 'pcs1.', `pcs1.${'A'.repeat(22)}`, flip(fresh, fresh.length - 1), `${fresh}x`, ` ${fresh}`, token, 'forged', { state: fresh }, 7];
    for (const requestState of forged) {
      const refused = await call('alice', 'rotate', { requestState, inputResponses: yes });
      const expected = typeof requestState === 'string' ? 'PC_INPUT_STATE_INVALID' : undefined;
      // A state that is not a string fails the revision's params schema before any look-up.
      if (expected) assert.equal(codeOf(refused.body), expected, `${JSON.stringify(requestState)}: ${JSON.stringify(refused.body)}`);
      else assert.ok(refused.body.error, `${JSON.stringify(requestState)}: ${JSON.stringify(refused.body)}`);
    }
    assert.equal(retriesReceived().length, before, 'no forged, altered, replayed or raw state reached the server');
    await waitFor(() => auditTrail(dataDir).filter((r) => r.code === 'PC_INPUT_STATE_INVALID').length >= forged.length - 2 || undefined, 5000, 'the refusals recorded');
    const done = await call('alice', 'rotate', { requestState: fresh, inputResponses: yes });
    assert.match(JSON.stringify(done.body), /signed off rotate/, JSON.stringify(done.body));
  });

  it('refuses a state beyond routing.inputRequired.maxPerPrincipal without giving out the server token', async () => {
    for (let i = 0; i < MAX_PER_PRINCIPAL; i++) await handleFor('bob', `hold-${i}`);
    const over = await call('bob', 'one-too-many');
    assert.equal(codeOf(over.body), 'PC_INPUT_PARKED_LIMIT', JSON.stringify(over.body));
    for (const token of modern.issuedTokens()) assert.ok(!JSON.stringify(over.body).includes(token));
    // Another caller's handles are not forgotten to make room.
    await handleFor('alice', 'still-mine');
  });
});

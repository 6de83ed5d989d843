/**
 * What the approval tests share: a real gateway (identity on, API keys; with `users`, the embedded
 * authorization server's users signed in through a real browser) in front of server-everything
 * behind the recording wrapper, a policy holding `echo`, `get-sum` and `get-annotated-message` for
 * approval, keys for callers and approvers, raw modern calls, the admin endpoint, the real command line.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { identityDbPath } from '../../src/auth/identity.ts';
import { IdentityStore } from '../../src/auth/store.ts';
import { processSecretSource } from '../../src/config/secrets.ts';
import { auditTrail } from '../helpers/audit.ts';
import { runCli, startGateway, type TestGateway } from '../helpers/gateway.ts';
import { authorizeUrl, pkcePair, recordedEverything, register, tokenRequest } from '../helpers/oauth.ts';
import { authorizeWithBrowser, launchBrowser, startCallback, type TestBrowser } from '../helpers/browser.ts';
import { modernRequest } from '../helpers/sessions.ts';

export const APPROVER_SCOPE = 'portcullis:approvals';

export const APPROVAL_POLICY = {
  rules: [
    { name: 'allow-rest', effect: 'allow' },
    { name: 'echo-needs-approval', effect: 'approve', tools: ['echo'], reason: 'echo sends a message out', approval: { ttl: '60s', remember: '60s', mode: 'either' } },
    { name: 'env-in-band-only', effect: 'approve', tools: ['get-env'], approval: { mode: 'in-band' } },
    { name: 'sum-needs-approval', effect: 'approve', tools: ['get-sum'], reason: 'sums are sensitive here', approval: { ttl: '1s', mode: 'out-of-band' } },
    { name: 'elicit-needs-approval', effect: 'approve', tools: ['trigger-elicitation-request'], reason: 'it asks the user things' },
    { name: 'second-person', effect: 'approve', tools: ['get-annotated-message'], reason: 'a second person decides', approval: { approvers: ['security'] } },
  ],
};

/** Key holders: callers alice and bob; `officer` may decide approvals; `alice-admin` is alice's agent holding the approver scope too; `robot` an unattended script. */
const HOLDERS: Record<string, { agent: string; scopes: string[] }> = {
  alice: { agent: 'alice', scopes: [] },
  bob: { agent: 'bob', scopes: [] },
  officer: { agent: 'officer', scopes: [APPROVER_SCOPE] },
  'alice-admin': { agent: 'alice', scopes: [APPROVER_SCOPE] },
  /** An unattended caller: nobody stands behind its key. */
  robot: { agent: 'robot', scopes: [] },
};

export interface ApprovalHarness {
  readonly gw: TestGateway;
  /**
   * Signs `who` in as a user of the embedded server (a real browser on the sign-in and consent pages,
   * authorization code with PKCE) for /mcp/everything; from then on `call` and `keys[who]` use that
   * access token instead of the API key. Needs the harness started with `{ users: true }`.
   */
  signIn(who: string): Promise<string>;
  /** Closes the gateway and starts a new one on the same data dir and server log. */
  restart(): Promise<void>;
  /** Closes the gateway only (restart() starts it again). */
  stop(): Promise<void>;
  dataDir: string;
  keys: Record<string, string>;
  /** A modern-era tools/call on /mcp/everything as `who` (no elicitation capability unless given). */
  call(who: string, name: string, args: Record<string, unknown>, options?: { capabilities?: Record<string, unknown>; extra?: Record<string, unknown> }): Promise<{ status: number; body: Record<string, any> }>;
  /** The arguments of every tools/call of `name` the server received. */
  received(name: string): Array<Record<string, unknown>>;
  /** The whole params (`_meta` included) of every tools/call of `name` the server received. */
  receivedParams(name: string): Array<Record<string, unknown>>;
  /** Every tools/call the server received, as tool names. */
  calls(): string[];
  admin(who: string | undefined, method: 'GET' | 'POST', path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any }>;
  cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  /** The waiting approvals, as the command line lists them. */
  pending(): Promise<Array<Record<string, any>>>;
  /** The waiting approvals as the gateway's queue holds them (no process spawned: for polling). */
  waiting(): Array<{ id: string; name: string; subject: string; argsHash: string }>;
  trail(): ReturnType<typeof auditTrail>;
  close(): Promise<void>;
}

/** The users of the embedded server a harness with `users: true` configures (their password: USER_PASSWORD). */
const USERS = ['alice', 'bob'];
const USER_PASSWORD = randomBytes(12).toString('base64url');

export async function approvalHarness(document: Record<string, unknown> = {}, env: Record<string, string> = {}, options: { users?: boolean } = {}): Promise<ApprovalHarness> {
  const dataDir = mkdtempSync(join(tmpdir(), 'pc-appr-'));
  const store = new IdentityStore(identityDbPath(dataDir));
  const keys: Record<string, string> = {};
  for (const [holder, { agent, scopes }] of Object.entries(HOLDERS)) keys[holder] = store.createKey(agent, scopes, new Date(Date.now() + 86_400_000)).key;
  store.close();
  const everything = recordedEverything();
  const identity = options.users
    ? { apiKeys: {}, scopes: ['mcp'], embedded: { users: USERS.map((username) => ({ username, password: 'env:PC_TEST_USER_PASSWORD', roles: ['member'] })), roles: { member: ['mcp'] } } }
    : { apiKeys: {} };
  const start = () =>
    startGateway({
      dataDir,
      identity,
      servers: { everything: everything.server },
      policy: APPROVAL_POLICY,
      approvals: { waitMs: 1500, pollMs: 25 },
      ...document,
    }, processSecretSource({ ...process.env, PC_TEST_USER_PASSWORD: USER_PASSWORD, ...env }));
  let gw = await start();
  let stopped = false;
  const cli = (args: string[]) => runCli([...args, '--data-dir', dataDir]);
  let browser: TestBrowser | undefined;
  let callback: Awaited<ReturnType<typeof startCallback>> | undefined;
  const closeSignIn = async () => {
    await browser?.close();
    await callback?.close();
  };
  return {
    async signIn(who) {
      if (!options.users) throw new Error('approvalHarness: start it with { users: true } to sign users in');
      browser ??= await launchBrowser();
      callback ??= await startCallback();
      const resource = `${gw.url}/mcp/everything`;
      const client = (await register(gw.url, { client_name: `approval-test-${who}`, redirect_uris: [callback.url], grant_types: ['authorization_code', 'refresh_token'] })).body.client_id as string;
      const { verifier, challenge } = pkcePair();
      const context = await browser.context();
      try {
        const url = await authorizeWithBrowser(context, authorizeUrl(gw.url, { client_id: client, redirect_uri: callback.url, resource, scope: 'mcp', prompt: 'consent', code_challenge: challenge, code_challenge_method: 'S256' }), { username: who, password: USER_PASSWORD, redirect: callback.url });
        const token = await tokenRequest(gw.url, { grant_type: 'authorization_code', client_id: client, code: url.searchParams.get('code')!, code_verifier: verifier, redirect_uri: callback.url, resource });
        if (token.status !== 200) throw new Error(`sign-in of ${who} failed: ${JSON.stringify(token.body)}`);
        keys[who] = token.body.access_token as string;
        return keys[who]!;
      } finally {
        await context.close();
      }
    },
    get gw() {
      return gw;
    },
    async restart() {
      if (!stopped) await gw.close();
      gw = await start();
      stopped = false;
    },
    dataDir,
    keys,
    call: (who, name, args, options = {}) =>
      modernRequest(`${gw.url}/mcp/everything`, 'tools/call', { name, arguments: args, ...options.extra }, { authorization: `Bearer ${keys[who]}` }, options.capabilities ?? {}),
    received: (name) => everything.received().filter((m) => m.method === 'tools/call' && m.params?.name === name).map((m) => (m.params?.arguments ?? {}) as Record<string, unknown>),
    receivedParams: (name) => everything.received().filter((m) => m.method === 'tools/call' && m.params?.name === name).map((m) => (m.params ?? {}) as Record<string, unknown>),
    calls: everything.calls,
    async admin(who, method, path, body, headers = {}) {
      const response = await fetch(`${gw.url}${path}`, {
        method,
        headers: { ...(who ? { authorization: `Bearer ${keys[who]}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
        ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
      });
      const text = await response.text();
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
      return { status: response.status, body: parsed };
    },
    cli,
    async pending() {
      const listed = await cli(['approvals', 'list', '--json']);
      if (listed.code !== 0) throw new Error(`approvals list failed: ${listed.stderr}`);
      return JSON.parse(listed.stdout) as Array<Record<string, any>>;
    },
    waiting: () => gw.gateway.approvals.queue.store.list('pending'),
    trail: () => auditTrail(dataDir),
    close: async () => {
      if (!stopped) await gw.close();
      stopped = true;
      await closeSignIn();
    },
    async stop() {
      await gw.close();
      stopped = true;
    },
  };
}

/** The gateway error code of a JSON-RPC answer. */
export const codeOf = (answer: { body: Record<string, any> }): string | undefined => answer.body.error?.data?.code;

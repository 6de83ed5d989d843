/**
 * Redteam-b B4: open registration (RFC 7591) had no rate or bound — one local process grew identity.db
 * by ~5.6 KB a registration, 60 a second. Now registrations are limited per client address per minute
 * (`identity.embedded.registrationsPerMinute`, 429 with Retry-After past it) and the self-registered
 * clients stored are bounded (`maxRegisteredClients`: the oldest one without a grant makes room; when every
 * stored client holds a grant, 429). Asserted on the server's side: the rows in identity.db, the
 * refusals in /metrics.
 */
import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, it } from 'node:test';
import { identityDbPath } from '../../src/auth/identity.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { register } from '../helpers/oauth.ts';

const metadata = (n: number) => ({ client_name: `flood-${n}-${'x'.repeat(80)}`, redirect_uris: Array.from({ length: 5 }, (_, i) => `https://flood${i}.example.com/${'p'.repeat(200)}/${n}`) });

describe('open registration is rate-limited and bounded (redteam-b B4)', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startGateway({ listen: { port: 0, metrics: 'open' }, servers: {}, identity: { scopes: ['mcp'], embedded: { registration: 'open', registrationsPerMinute: 5, maxRegisteredClients: 3 } } });
  });
  after(async () => {
    await gw?.close();
  });
  const storedClients = (): string[] => {
    const db = new DatabaseSync(identityDbPath(gw.gateway.config.dataDir!), { readOnly: true });
    try {
      return (db.prepare("SELECT id FROM oauth WHERE model = 'Client'").all() as Array<{ id: string }>).map((r) => r.id);
    } finally {
      db.close();
    }
  };

  it('answers 429 past registrationsPerMinute from one address, and keeps at most maxRegisteredClients', async () => {
    const statuses: number[] = [];
    const ids: string[] = [];
    let retryAfter: string | null = null;
    for (let n = 0; n < 12; n++) {
      const response = await fetch(`${gw.url}/oauth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(metadata(n)) });
      statuses.push(response.status);
      const body = (await response.json()) as { client_id?: string; error?: string };
      if (response.status === 201) ids.push(body.client_id!);
      else retryAfter ??= response.headers.get('retry-after');
    }
    assert.deepEqual(statuses, [201, 201, 201, 201, 201, 429, 429, 429, 429, 429, 429, 429]);
    assert.ok(Number(retryAfter) >= 1, 'the 429 says when to retry');
    const stored = storedClients();
    assert.equal(stored.length, 3, 'no more than maxRegisteredClients stored');
    assert.deepEqual(stored.sort(), ids.slice(-3).sort(), 'the newest are kept; the oldest without a grant made room');
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    assert.match(metrics, /^portcullis_registrations_refused_total\{reason="rate"\} 7$/m);
    assert.match(metrics, /^portcullis_registrations_evicted_total 2$/m);
  });

  it('a refused registration stores nothing', async () => {
    const before = storedClients().length;
    assert.equal((await register(gw.url, metadata(99))).status, 429);
    assert.equal(storedClients().length, before);
  });
});

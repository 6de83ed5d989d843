/**
 * The URL guard under attack, through the real gateway to server-everything's `echo` (which returns
 * what it received, and whose recorder shows it): URLs that parsers read differently, internal
 * addresses in every notation (IPv4 shorthand, IPv6 embeddings of IPv4), names that resolve inside,
 * and schemes — refused before the server sees them, recorded without the value; an allowed URL
 * reaches the server in the serialized form the guard judged.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EVERYTHING, legacyClient, modernClient, type TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { auditTrail, callsReceived, recordedServer } from '../helpers/recorded.ts';

const DNS: Record<string, string[]> = {
  'public.example': ['93.184.216.34'],
  'internal.example': ['127.0.0.1'],
  'metadata.example': ['169.254.169.254'],
  'split.example': ['93.184.216.34', '10.0.0.7'],
  'nat64.example': ['64:ff9b::a9fe:a9fe'],
};

type Rejection = { data?: { code?: string; rule?: string } };
const refusedBy = (rule: string) => (error: Rejection) => {
  assert.equal(error.data?.code, 'PC_POLICY_GUARD', JSON.stringify(error.data));
  assert.equal(error.data?.rule, rule);
  return true;
};

/** Internal targets in every notation a parser or resolver accepts. */
const INTERNAL_HOSTS = [
  '169.254.169.254', '127.0.0.1', '2130706433', '0x7f.1', '0177.0.0.1', '127.1', '0', '0x7f000001', '017700000001',
  '[::1]', '[::]', '[::ffff:127.0.0.1]', '[::ffff:a9fe:a9fe]', '[::ffff:0:a9fe:a9fe]', '[::a9fe:a9fe]', '[::127.0.0.1]',
  '[64:ff9b::a9fe:a9fe]', '[64:ff9b::127.0.0.1]', '[64:ff9b:1::a9fe:a9fe]', '[64:ff9b:1:a9fe:a9:fe00::]',
  '[2002:7f00:1::]', '[2002:a9fe:a9fe::1]', '[2001:0:a9fe:a9fe::1]', '[2001:0:808:808::80ff:fffe]',
  '[fe80::1]', '[fc00::1]', '[fec0::1]', 'internal.example', 'metadata.example', 'split.example', 'nat64.example', 'INTERNAL.EXAMPLE',
  'internal.example.', 'localhost', 'unknown.example',
];

/** Strings that parsers disagree on, each aimed at the metadata service. */
const AMBIGUOUS = [
  'https://8.8.8.8\\@169.254.169.254/latest/meta-data/',
  'https://public.example\\@169.254.169.254/',
  'https://public.example\\.169.254.169.254/',
  'https://user@169.254.169.254/',
  'https://public.example@169.254.169.254/',
  'https://a@public.example@169.254.169.254/',
  'https://public.example:443@169.254.169.254/',
  'https://public.example%40169.254.169.254/',
  'https://%31%36%39.254.169.254/',
  'https://public.example/\t@169.254.169.254/',
  'https://169.254.169.254\n.public.example/',
  'https://169.254.169.254\r\n/',
  'https://public.example /@169.254.169.254/',
  ' https://169.254.169.254/',
  'https://public.example\u00a0@169.254.169.254/',
  'https://public.example\u200b@169.254.169.254/',
  'https://169.254.169.254\u0000.public.example/',
  'https:/169.254.169.254/',
  'https:169.254.169.254/',
  '//169.254.169.254/',
  'https:\\\\169.254.169.254\\',
  'https://１６９．２５４．１６９．２５４/',
  'https://169。254。169。254/',
  'https://169．254．169．254/',
  'https://ｐｕｂｌｉｃ.example/',
  'http://public.example/',
  'file:///etc/passwd',
  'gopher://public.example/',
  'javascript:alert(1)',
  'data:text/plain,hi',
  'not a url',
];

describe('URL guard attacks', () => {
  let gw: TestGateway;
  let log: string;
  let userinfoLog: string;
  const message = (url: string) => ({ name: 'echo', arguments: { message: url } });

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-urlguard-'));
    log = join(dir, 'everything.log');
    userinfoLog = join(dir, 'userinfo.log');
    gw = await startSecureGateway(
      {
        servers: {
          web: { ...recordedServer(log, EVERYTHING, ['stdio']), auditArguments: 'hash' },
          creds: recordedServer(userinfoLog, EVERYTHING, ['stdio']),
        },
        policy: {
          rules: [
            { name: 'public-https', effect: 'allow', servers: ['web'], tools: ['echo'], guards: { urls: { args: ['message'] } } },
            { name: 'with-userinfo', effect: 'allow', servers: ['creds'], tools: ['echo'], guards: { urls: { args: ['message'], allowUserinfo: true } } },
          ],
        },
      },
      undefined,
      {
        resolveHost: async (host) => {
          const found = DNS[host.toLowerCase().replace(/\.$/, '')];
          if (!found) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
          return found;
        },
      },
    );
  });
  after(async () => gw?.close());

  it('refuses ambiguous URLs and internal addresses in every notation; nothing reaches the server', async () => {
    const legacy = await legacyClient(`${gw.url}/mcp/web`);
    const modern = await modernClient(`${gw.url}/mcp`);
    const tried: string[] = [...AMBIGUOUS];
    for (const host of INTERNAL_HOSTS) tried.push(`https://${host}/latest/meta-data/`, `HTTPS://${host}:443/x?y=1#z`);
    try {
      for (const [i, url] of tried.entries()) {
        const call = i % 2 === 0 ? legacy.callTool(message(url)) : modern.callTool({ ...message(url), name: 'web__echo' });
        // A NUL or a lone surrogate is refused before any rule reads the arguments (parser differentials).
        const early = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(url);
        await assert.rejects(call, early ? (e: Rejection) => e.data?.code === 'PC_ARGS_INVALID' : refusedBy('public-https'), JSON.stringify(url));
      }
      for (const bad of [['https://public.example/'], { href: 'https://169.254.169.254/' }, 42]) {
        await assert.rejects(legacy.callTool({ name: 'echo', arguments: { message: bad } as never }), (e: Rejection) => ['PC_POLICY_GUARD', 'PC_ARGS_INVALID'].includes(e.data?.code ?? ''), JSON.stringify(bad));
      }
    } finally {
      await legacy.close();
      await modern.close();
    }
    assert.deepEqual(callsReceived(log), [], 'nothing reached the server');
    const refusals = auditTrail(gw.gateway.config.dataDir!).filter((r) => r.server === 'web' && r.decision === 'denied');
    assert.ok(refusals.length >= tried.length, `every refusal is recorded (${refusals.length} of ${tried.length})`);
    for (const record of refusals.filter((r) => r.code === 'PC_POLICY_GUARD')) {
      assert.equal(record.rule, 'public-https');
      // Ids and hashes are random hex and may contain "ff9b"; what could quote the URL is checked.
      const { correlationId: _c, gatewayId: _g, argsHash: _a, prevHash: _p, hash: _h, session: _s, requestId: _r, ...quotable } = record as unknown as Record<string, unknown>;
      assert.doesNotMatch(JSON.stringify(quotable), /169\.254|127\.0|internal\.example|metadata\.example|meta-data|8\.8\.8\.8|ff9b|2002:/i, 'the refused URL is not quoted into the record');
    }
  });

  it('forwards the serialized URL the guard judged, not the raw string', async () => {
    const client = await legacyClient(`${gw.url}/mcp/web`);
    try {
      for (const raw of ['HTTPS://Public.Example:443/a/./b/../c?q=1#f', 'https://public.example', 'https://public.example/%7Euser/ä']) {
        const result = await client.callTool(message(raw));
        assert.match(JSON.stringify(result.content), /public\.example/);
      }
    } finally {
      await client.close();
    }
    assert.deepEqual(
      callsReceived(log).map((c) => c.arguments.message),
      ['https://public.example/a/c?q=1#f', 'https://public.example/', 'https://public.example/~user/%C3%A4'],
    );
  });

  it('accepts user information only where the rule allows it, and never a second @ or a backslash', async () => {
    const client = await legacyClient(`${gw.url}/mcp/creds`);
    try {
      await client.callTool(message('https://reader@public.example/repo'));
      for (const url of ['https://a@b@169.254.169.254/', 'https://public.example\\@169.254.169.254/', 'https://user@169.254.169.254/']) {
        await assert.rejects(client.callTool(message(url)), refusedBy('with-userinfo'), url);
      }
    } finally {
      await client.close();
    }
    assert.deepEqual(callsReceived(userinfoLog).map((c) => c.arguments.message), ['https://reader@public.example/repo']);
  });
});

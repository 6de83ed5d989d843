/**
 * Red team E9, E10, E7 — a deny rule must hold for every form of an argument the server may read.
 * E9: a path guard judges a path percent-decoded, in NFKC and with backslashes as separators, but deny
 * rules saw only the resolved form: `%2eenv`, `．env` and `%73ub/x` walked past `.env` and `sub/` rules.
 * Now every such form is decided on, with and without `forward: resolved`.
 * E10: the URL guard forwarded `/%61dmin` and `//admin` as spelled, past a deny rule on `/admin`; the
 * path is now judged and forwarded in normal form. E7: 5f00::/16 (SRv6) and other IANA special-purpose
 * IPv6 blocks outside 2000::/3 passed as public. Asserted on the servers' side (recorders): only the
 * allowed calls arrive, in the form judged.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EVERYTHING, FILESYSTEM, legacyClient, modernClient, type TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { callsReceived, recordedServer } from '../helpers/recorded.ts';

type Rejection = { data?: { code?: string; rule?: string } };

describe('deny rules hold for every form a server may read', () => {
  let gw: TestGateway;
  let sandbox: string;
  let filesLog: string;
  let resolvedLog: string;
  let webLog: string;

  before(async () => {
    const base = realpathSync(mkdtempSync(join(tmpdir(), 'pc-everyform-')));
    sandbox = join(base, 'sandbox');
    mkdirSync(join(sandbox, 'sub'), { recursive: true });
    mkdirSync(join(sandbox, 'x'), { recursive: true });
    writeFileSync(join(sandbox, '.env'), ['DB', 'PASSWORD=hunter2'].join('_') + '\n');
    writeFileSync(join(sandbox, 'sub', 'x'), 'sub secret\n');
    writeFileSync(join(sandbox, 'a.txt'), 'public\n');
    filesLog = join(base, 'files.log');
    resolvedLog = join(base, 'resolved.log');
    webLog = join(base, 'web.log');
    const denies = (server: string) => [
      { name: `${server}-no-dotenv`, effect: 'deny', servers: [server], when: 'has(args.path) && args.path.endsWith(".env")' },
      { name: `${server}-no-sub`, effect: 'deny', servers: [server], when: `has(args.path) && args.path.startsWith("${sandbox}/sub/")` },
    ];
    gw = await startSecureGateway({
      servers: {
        files: recordedServer(filesLog, FILESYSTEM, [sandbox]),
        filesr: recordedServer(resolvedLog, FILESYSTEM, [sandbox]),
        web: recordedServer(webLog, EVERYTHING, ['stdio']),
      },
      policy: {
        rules: [
          { name: 'files-in-sandbox', effect: 'allow', servers: ['files'], guards: { paths: { args: ['path'], roots: [sandbox] } } },
          { name: 'filesr-in-sandbox', effect: 'allow', servers: ['filesr'], guards: { paths: { args: ['path'], roots: [sandbox], forward: 'resolved' } } },
          ...denies('files'),
          ...denies('filesr'),
          { name: 'public-https', effect: 'allow', servers: ['web'], tools: ['echo'], guards: { urls: { args: ['message'] } } },
          { name: 'no-admin', effect: 'deny', servers: ['web'], when: 'has(args.message) && args.message.startsWith("https://1.1.1.1/admin")' },
        ],
      },
    });
  });
  after(async () => gw?.close());

  const spellings = (): string[] => [
    `${sandbox}/%2eenv`,
    `${sandbox}/%2Eenv`,
    `${sandbox}/.en%76`,
    `${sandbox}/%252eenv`, // decoded twice
    `${sandbox}/x/../%2eenv`,
    `${sandbox}/\uff0eenv`, // full-width full stop: NFKC `.`
    `${sandbox}/.\uff45nv`,
    `${sandbox}/%EF%BC%8Eenv`,
    `${sandbox}/%73ub/x`,
    `${sandbox}/s%75b/x`,
    `${sandbox}/\uff53ub/x`,
    `${sandbox}/sub\\x`,
    `${sandbox}/sub%5cx`,
    `${sandbox}/sub%2fx`,
    `${sandbox}/x\\..\\sub\\x`,
  ];

  it('refuses every spelling the guard says a server may read, with and without forward: resolved', async () => {
    for (const server of ['files', 'filesr']) {
      const legacy = await legacyClient(`${gw.url}/mcp/${server}`);
      const modern = await modernClient(`${gw.url}/mcp`);
      try {
        const ok = await legacy.callTool({ name: 'read_text_file', arguments: { path: `${sandbox}/a.txt` } });
        assert.match(JSON.stringify(ok.content), /public/);
        for (const path of spellings()) {
          for (const [client, tool] of [[legacy, 'read_text_file'], [modern, `${server}__read_text_file`]] as const) {
            await assert.rejects(
              client.callTool({ name: tool, arguments: { path } }),
              (error: Rejection) => error.data?.code === 'PC_POLICY_DENIED' && [`${server}-no-dotenv`, `${server}-no-sub`].includes(error.data?.rule ?? ''),
              `${server} ${JSON.stringify(path)}`,
            );
          }
        }
      } finally {
        await legacy.close();
        await modern.close();
      }
    }
    assert.deepEqual(callsReceived(filesLog).map((c) => c.arguments.path), [`${sandbox}/a.txt`], 'only the allowed read reached the server');
    assert.deepEqual(callsReceived(resolvedLog).map((c) => c.arguments.path), [`${sandbox}/a.txt`], 'only the allowed read reached the server (forward: resolved)');
  });

  it('judges and forwards URL paths in normal form, and refuses special-purpose IPv6 blocks', async () => {
    const client = await legacyClient(`${gw.url}/mcp/web`);
    const echo = (message: string) => client.callTool({ name: 'echo', arguments: { message } });
    try {
      for (const url of ['https://1.1.1.1/%61dmin/users', 'https://1.1.1.1//admin/users', 'https://1.1.1.1/%2fadmin/../admin/x', 'https://1.1.1.1/./%41/../admin', 'https://1.1.1.1///%61%64min']) {
        await assert.rejects(echo(url), (e: Rejection) => (e.data?.code === 'PC_POLICY_DENIED' && e.data.rule === 'no-admin') || e.data?.code === 'PC_POLICY_GUARD', url);
      }
      // Readings that differ by server (`..` after an empty segment) are refused, not guessed.
      await assert.rejects(echo('https://1.1.1.1/x//../admin'), (e: Rejection) => e.data?.code === 'PC_POLICY_GUARD');
      // Double encoding: `/admin` to a server or proxy that decodes twice (or thrice); refused as ambiguous,
      // also when the encoded `%` only appears once the path is normalised (`%2%3561` → `%2561`).
      for (const url of ['https://1.1.1.1/%2561dmin/users', 'https://1.1.1.1/%252561dmin', 'https://1.1.1.1/x/%2e%2e/%2561dmin', 'https://1.1.1.1/%2%3561dmin', 'https://1.1.1.1/%2541dmin']) {
        await assert.rejects(echo(url), (e: Rejection) => e.data?.code === 'PC_POLICY_GUARD' && /%25XX/.test(JSON.stringify(e.data)), url);
      }
      // Encoded separators, path parameters and overlong escapes: `/admin` to a server that decodes before
      // routing or cuts `;…` off (red team I, F3); refused, never forwarded.
      for (const url of ['https://1.1.1.1/%2Fadmin', 'https://1.1.1.1/x/..%2Fadmin', 'https://1.1.1.1/x/..%2fadmin', 'https://1.1.1.1/x/..%5Cadmin', 'https://1.1.1.1/admin;x', 'https://1.1.1.1/x/..;/admin', 'https://1.1.1.1/x/%C0%AF../admin', 'https://1.1.1.1/%E0%80%AFadmin']) {
        await assert.rejects(echo(url), (e: Rejection) => e.data?.code === 'PC_POLICY_GUARD' || (e.data?.code === 'PC_POLICY_DENIED' && e.data.rule === 'no-admin'), url);
      }
      for (const host of ['[5f00::1]', '[5f00:1234::7]', '[100:0:0:1::1]', '[2001:1::1]', '[2001:4:112::1]', '[1::1]', '[4000::1]', '255.255.255.255']) {
        await assert.rejects(echo(`https://${host}/`), (e: Rejection) => e.data?.code === 'PC_POLICY_GUARD' && e.data.rule === 'public-https', host);
      }
      await echo('https://1.1.1.1/%7Edocs//guide/%3a');
      await echo('https://1.1.1.1/sale/100%25/off%25');
      await echo('https://[2606:4700:4700::1111]/');
    } finally {
      await client.close();
    }
    assert.deepEqual(callsReceived(webLog).map((c) => c.arguments.message), ['https://1.1.1.1/~docs/guide/%3A', 'https://1.1.1.1/sale/100%25/off%25', 'https://[2606:4700:4700::1111]/']);
  });
});

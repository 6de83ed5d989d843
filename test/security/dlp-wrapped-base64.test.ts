/**
 * Red-team finding F6 — base64 as the `base64` command writes it (76-column lines) evaded the
 * decoded:base64 view whenever the token's encoding straddled a line break (13 of 20 layouts): each
 * line was decoded on its own. The line breaks inside wrapped base64 are now removed before decoding.
 * Asserted on the server's side: none of the layouts reaches an open-world tool's server.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type TestGateway } from '../helpers/gateway.ts';
import { fakeSecrets } from '../helpers/secrets.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { codeOf, forwarded, legacySession, recordedServer, type RawSession } from '../helpers/security.ts';

const secrets = fakeSecrets();

/** `base64 FILE` (76 columns, `\n`), or wrapped at `width` with `eol`: how tools and MIME write it. */
const wrapped = (text: string, width = 76, eol = '\n'): string => `${Buffer.from(text).toString('base64').replace(new RegExp(`(.{${width}})`, 'g'), `$1${eol}`)}${eol}`;
/** A gh CLI hosts file; `pad` shifts where the token falls against the line breaks of its encoding. */
const hostsFile = (pad: number, token: string): string => `github.com:\n${' '.repeat(pad)}    user: octo\n    oauth_token: ${token}\n    git_protocol: https\n`;

describe('wrapped base64 is decoded across its line breaks', () => {
  let gw: TestGateway;
  let log: string;
  let session: RawSession;

  before(async () => {
    log = join(mkdtempSync(join(tmpdir(), 'pc-b64-wrap-')), 'gov.log');
    gw = await startSecureGateway({ servers: { gov: recordedServer(log) }, policy: { rules: [{ name: 'echo-only', effect: 'allow', servers: ['gov'], tools: ['echo'] }] } });
    session = await legacySession(`${gw.url}/mcp/gov`);
  });
  after(async () => gw?.close());

  it('refuses a token in base64 wrapped at 76 or 64 columns, with LF or CRLF, in every alignment; nothing reaches the server', async () => {
    const seen = forwarded(log).length;
    let sent = 0;
    for (const [width, eol] of [[76, '\n'], [64, '\r\n']] as const) {
      for (let pad = 0; pad < 20; pad++) {
        for (const token of [secrets.github, secrets.aws]) {
          const answer = await session.send({ jsonrpc: '2.0', id: ++sent, method: 'tools/call', params: { name: 'echo', arguments: { text: wrapped(hostsFile(pad, token), width, eol) } } });
          assert.equal(codeOf(answer), 'PC_DLP_EXFILTRATION', `width ${width}, pad ${pad}: ${JSON.stringify(answer.json).slice(0, 200)}`);
        }
      }
    }
    assert.deepEqual(forwarded(log).slice(seen), [], 'no layout reached the server');
  });

  it('lets wrapped base64 without a secret through', async () => {
    const text = wrapped(hostsFile(3, 'not-a-token-at-all'));
    const answer = await session.send({ jsonrpc: '2.0', id: 99, method: 'tools/call', params: { name: 'echo', arguments: { text } } });
    assert.equal(answer.json.error, undefined, JSON.stringify(answer.json));
    assert.deepEqual(forwarded(log).at(-1)?.params, { name: 'echo', arguments: { text } });
  });
});

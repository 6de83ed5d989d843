/**
 * Server pins of kinds the end-to-end suite did not start: `pin.image` (the args must run the pinned
 * digest) and `pin.pypi` with an explicit `pin.venv` (the installed files must match their RECORD). A
 * server whose pin holds is started and serves; one whose pin fails is never started — its recorder
 * never receives a byte — and a call to it is refused with PC_SUPPLY_PIN_FAILED.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { legacyClient, post, startGateway, type TestGateway } from '../helpers/gateway.ts';
import { callsReceived } from '../helpers/recorded.ts';
import { GOVERNED, RECORDER } from '../helpers/security.ts';

const IMAGE = `ghcr.io/acme/weather-mcp@sha256:${'b'.repeat(64)}`;
const OTHER_IMAGE = `ghcr.io/acme/weather-mcp@sha256:${'c'.repeat(64)}`;

/** A virtualenv holding weather-mcp 1.4.2 as pip leaves it: the files and a RECORD of their hashes. */
function venv(dir: string, name: string): { path: string; tamper: () => void } {
  const path = join(dir, name);
  const site = join(path, 'lib', 'python3.12', 'site-packages');
  mkdirSync(join(site, 'weather_mcp'), { recursive: true });
  mkdirSync(join(site, 'weather_mcp-1.4.2.dist-info'));
  const files = { 'weather_mcp/__init__.py': 'print("weather")\n', 'weather_mcp/server.py': 'def main(): pass\n' };
  const b64 = (text: string) => createHash('sha256').update(text).digest('base64url');
  for (const [file, text] of Object.entries(files)) writeFileSync(join(site, file), text);
  writeFileSync(join(site, 'weather_mcp-1.4.2.dist-info', 'RECORD'), `${Object.entries(files).map(([f, t]) => `${f},sha256=${b64(t)},${t.length}`).join('\n')}\nweather_mcp-1.4.2.dist-info/RECORD,,\n`);
  return { path, tamper: () => writeFileSync(join(site, 'weather_mcp', 'server.py'), 'def main(): exfiltrate()\n') };
}

describe('image and virtualenv pins through the gateway', () => {
  let gw: TestGateway;
  const logs: Record<string, string> = {};

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-cov-pins-'));
    for (const name of ['imageOk', 'imageOther', 'venvOk', 'venvTampered']) logs[name] = join(dir, `${name}.log`);
    const good = venv(dir, 'venv-good');
    const bad = venv(dir, 'venv-bad');
    bad.tamper();
    // The governed fixture stands in for the packaged server; what is judged is what the pin names.
    const run = (log: string, ...extra: string[]) => ({ command: process.execPath, args: [RECORDER, log, process.execPath, GOVERNED, ...extra] });
    gw = await startGateway({
      supply: { allowUnpinned: false },
      servers: {
        imageOk: { ...run(logs.imageOk!, IMAGE), pin: { image: IMAGE } },
        imageOther: { ...run(logs.imageOther!, OTHER_IMAGE), pin: { image: IMAGE } },
        venvOk: { ...run(logs.venvOk!), pin: { pypi: 'weather-mcp==1.4.2', venv: good.path } },
        venvTampered: { ...run(logs.venvTampered!), pin: { pypi: 'weather-mcp==1.4.2', venv: bad.path } },
      },
    });
  });
  after(async () => gw.close());

  it('starts and serves the servers whose pins hold', async () => {
    for (const server of ['imageOk', 'venvOk']) {
      const client = await legacyClient(`${gw.url}/mcp/${server}`);
      await client.callTool({ name: 'echo', arguments: { text: `via-${server}` } });
      await client.close();
      assert.deepEqual(callsReceived(logs[server]!).map((c) => c.arguments.text), [`via-${server}`]);
    }
  });

  it('never starts a server whose image or installed files are not what the pin says', async () => {
    for (const server of ['imageOther', 'venvTampered']) {
      const answer = await post(`${gw.url}/mcp/${server}`, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } }));
      assert.equal(answer.json?.error?.data?.code, 'PC_SUPPLY_PIN_FAILED', `${server}: ${answer.text}`);
      assert.equal(existsSync(logs[server]!), false, `${server}: the server never ran`);
    }
  });
});

/**
 * The start-time pin check hashes the file, and the interpreter reads it a moment later: a pinned path
 * that is a symbolic link (re-pointed right after the hash, as red team A did with inotify) or a file
 * in a folder others may write (renamed over) could be swapped in that window. Such a pin is refused:
 * the server is not started, and the attacker's file never runs.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { serveChild } from '../helpers/gateway.ts';
import { HOSTILE, writeCatalog } from '../helpers/supply.ts';
import { cleanCatalog } from '../fixtures/hostile-catalog.ts';

describe('supply chain: a pinned file that can be swapped after the check', () => {
  for (const shape of ['a symbolic link', 'in a folder others may write'] as const) {
    it(`refuses ${shape}: the server never runs`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'pc-pin-swap-'));
      const ran = join(dir, 'ran.log');
      const state = join(dir, 'state.json');
      writeCatalog(state, cleanCatalog());
      const good = join(dir, 'good.mjs');
      writeFileSync(good, `import { appendFileSync } from 'node:fs';\nappendFileSync(${JSON.stringify(ran)}, 'ran\\n');\nconst { runStdio } = await import(${JSON.stringify(pathToFileURL(HOSTILE).href)});\nawait runStdio(${JSON.stringify(state)});\n`);
      let run = join(dir, 'run.mjs');
      if (shape === 'a symbolic link') symlinkSync(good, run);
      else {
        const shared = join(dir, 'shared');
        mkdirSync(shared);
        chmodSync(shared, 0o777);
        run = join(shared, 'run.mjs');
        writeFileSync(run, readFileSync(good));
      }
      const sha256 = createHash('sha256').update(readFileSync(good)).digest('hex');
      const config = join(dir, 'c.yaml');
      writeFileSync(config, `listen: { port: 0 }\ndataDir: ${JSON.stringify(join(dir, 'data'))}\npolicy: { rules: [{ name: all, effect: allow }] }\nservers:\n  r: { command: ${JSON.stringify(process.execPath)}, args: [${JSON.stringify(run)}], pin: { sha256: ${sha256}, file: ${JSON.stringify(run)} } }\n`);
      const served = await serveChild(config);
      try {
        const health = (await (await fetch(`${served.base}/healthz`)).json()) as { servers: Record<string, string> };
        assert.equal(health.servers.r, 'failed');
        assert.match(served.stderr(), shape === 'a symbolic link' ? /is a symbolic link/ : /a folder group or others may write/);
      } finally {
        await served.stop();
      }
      assert.equal(existsSync(ran), false, 'the server never ran');
    });
  }
});

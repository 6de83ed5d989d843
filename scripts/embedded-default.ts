/**
 * Generates schema/embedded-default.json: the embedded default validated with the configuration schema,
 * with its machine-specific strings as placeholders, so that `npm start` need not load the schema (see
 * src/config/embedded-config.ts). Two variants: with the bundled filesystem server pinned (a checkout
 * with its package-lock.json) and unpinned (an npm-installed copy). `npm run schema` runs it; a test
 * fails when the file is stale.
 *
 *   node scripts/embedded-default.ts [--check]
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundledFilesystemServer, embeddedDefault } from '../src/config/defaults.ts';
import { embeddedValues, generalize, SNAPSHOT_FILE, type EmbeddedVariant } from '../src/config/embedded-config.ts';
import { validateConfig } from '../src/config/load.ts';
import { processSecretSource } from '../src/config/secrets.ts';

export function embeddedVariants(): EmbeddedVariant[] {
  const dir = mkdtempSync(join(tmpdir(), 'pc-embedded-'));
  try {
    const pinned = bundledFilesystemServer();
    const fixedPin = { npm: pinned.pin?.npm ?? '@modelcontextprotocol/server-filesystem@0.0.0', integrity: pinned.pin?.integrity ?? 'sha512-placeholder' };
    return [{ ...pinned, pin: fixedPin }, { command: pinned.command, script: pinned.script }].map((fs) => {
      const document = embeddedDefault(dir, fs);
      const values = embeddedValues(document);
      if (!values) throw new Error('the embedded default is not shaped as src/config/embedded-config.ts expects (embeddedValues)');
      const loaded = validateConfig(document, processSecretSource(process.env));
      if (!loaded.ok) throw new Error(`the embedded default does not validate: ${JSON.stringify(loaded.problems)}`);
      const variant = { document: generalize(document, values), result: generalize({ config: loaded.config, warnings: loaded.warnings }, values) } as EmbeddedVariant;
      const text = JSON.stringify(variant);
      for (const [name, value] of Object.entries(values)) {
        if (name !== 'user' && text.includes(value)) throw new Error(`${name} (${value}) is left in the stored form: validation changed it`);
      }
      return variant;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function snapshotText(): string {
  return `${JSON.stringify({ generated: 'by scripts/embedded-default.ts (npm run schema); do not edit', variants: embeddedVariants() }, null, 1)}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const text = snapshotText();
  if (process.argv.includes('--check')) {
    const same = readFileSync(SNAPSHOT_FILE, 'utf8') === text;
    process.stdout.write(same ? 'schema/embedded-default.json is up to date\n' : 'schema/embedded-default.json is stale: run npm run schema\n');
    process.exitCode = same ? 0 : 1;
  } else {
    writeFileSync(SNAPSHOT_FILE, text);
    process.stdout.write(`wrote ${fileURLToPath(SNAPSHOT_FILE)}\n`);
  }
}

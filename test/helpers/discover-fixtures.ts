/**
 * The client-configuration fixture trees of test/fixtures/discover, copied to a temporary folder with
 * their placeholders filled in: `{{home}}`, `{{project}}`, and secret-shaped values made at run time
 * (test/helpers/secrets.ts), so no secret-shaped literal is ever committed.
 */
import { chmodSync, cpSync, mkdtempSync, readdirSync, readFileSync, realpathSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fakeSecrets } from './secrets.ts';

const FIXTURES = new URL('../fixtures/discover/', import.meta.url).pathname;
const DAY_MS = 86_400_000;

export interface FixtureTrees {
  root: string;
  home: string;
  project: string;
  system: string;
  /** Every secret value planted in the trees, by placeholder name. */
  secrets: Record<string, string>;
}

/** A JWT (unsigned, as a config would hold it) issued `days` ago. */
export function fakeJwt(days: number): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ sub: 'fixture-user-000', iat: Math.floor((Date.now() - days * DAY_MS) / 1000) })}.${'c2lnbmF0dXJlLW9mLWEtZml4dHVyZQ'}`;
}

function fill(dir: string, values: Record<string, string>): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) fill(path, values);
    else if (entry.isFile()) {
      const text = readFileSync(path, 'utf8');
      const filled = text.replace(/\{\{([a-z_]+)\}\}/g, (whole, name: string) => values[name] ?? whole);
      if (filled !== text) writeFileSync(path, filled);
      chmodSync(path, statSync(path).mode & 0o111 ? 0o700 : 0o600);
    }
  }
}

/** Copies the named fixture trees into a fresh temporary folder and fills them in. */
export function fixtureTrees(trees: readonly string[] = ['home', 'project', 'system']): FixtureTrees {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'pc-discover-')));
  for (const tree of trees) cpSync(join(FIXTURES, tree), join(root, tree), { recursive: true });
  const secrets = { ...fakeSecrets(), jwt_bearer: `Bearer ${fakeJwt(400)}` };
  const home = join(root, trees[0] ?? 'home');
  const project = join(root, 'project');
  for (const tree of trees) fill(join(root, tree), { ...secrets, home, project });
  return { root, home, project, system: join(root, 'system'), secrets };
}

/** Sets a file's modification time to `days` ago. */
export function age(path: string, days: number): void {
  const when = new Date(Date.now() - days * DAY_MS);
  utimesSync(path, when, when);
}

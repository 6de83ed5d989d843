/**
 * Names on the aggregated endpoint `/mcp`: each server's tools and prompts appear as
 * `<prefix><separator><name>` (prefix: the server name, the `namespace` string, or none with
 * `namespace: false`). Two servers must never be able to claim the same name there, or which one a call
 * reaches — and which policy rules govern it — would depend on list order.
 *
 * Statically (the config alone), a clash is possible when two servers share a prefix (two
 * `namespace: false` servers included) or one prefix plus separator begins another's: an error.
 * With tool and prompt names known (the pins of servers seen before), any exposed name two servers
 * claim is an error too. Names learnt only at runtime are checked by the catalog, which refuses a
 * clashing name on both servers (PC_ROUTE_AMBIGUOUS).
 */
import { exposedNameFor } from '../routing/catalog.ts';
import type { PinStore } from '../supply/pins.ts';
import type { ServerConfig } from './schema.ts';

export interface NamespaceProblem {
  path: string;
  message: string;
}

export function prefixOf(name: string, server: ServerConfig): string {
  return server.namespace === true ? name : server.namespace === false ? '' : server.namespace;
}

const enabled = (servers: Readonly<Record<string, ServerConfig>>): [string, ServerConfig][] => Object.entries(servers).filter(([, s]) => !s.disabled);
const shown = (prefix: string): string => (prefix === '' ? 'no prefix (namespace: false)' : `prefix "${prefix}"`);

/** Prefixes that can clash whatever the servers list. */
export function prefixClashes(servers: Readonly<Record<string, ServerConfig>>, separator: string): NamespaceProblem[] {
  const list = enabled(servers).map(([name, server]) => ({ name, prefix: prefixOf(name, server) }));
  const problems: NamespaceProblem[] = [];
  list.forEach((a, i) => {
    for (const b of list.slice(i + 1)) {
      const both = `servers "${a.name}" and "${b.name}"`;
      if (a.prefix === b.prefix) {
        problems.push({ path: `servers.${b.name}.namespace`, message: `${both} both use ${shown(a.prefix)} on /mcp, so a tool or prompt name both offer would be claimed twice; give them distinct namespaces` });
      } else if (a.prefix !== '' && b.prefix !== '' && (`${a.prefix}${separator}`.startsWith(`${b.prefix}${separator}`) || `${b.prefix}${separator}`.startsWith(`${a.prefix}${separator}`))) {
        problems.push({ path: `servers.${b.name}.namespace`, message: `${both} use prefixes "${a.prefix}" and "${b.prefix}": with separator "${separator}" one begins the other, so their names can clash on /mcp; choose prefixes where neither begins the other` });
      }
    }
  });
  return problems;
}

/** Exposed names two servers claim, given what each server lists (`namesOf` undefined: not known yet). */
export function nameClashes(
  servers: Readonly<Record<string, ServerConfig>>,
  separator: string,
  namesOf: (server: string) => { tools: Iterable<string>; prompts: Iterable<string> } | undefined,
): NamespaceProblem[] {
  const problems: NamespaceProblem[] = [];
  for (const kind of ['tools', 'prompts'] as const) {
    const owners = new Map<string, string>();
    for (const [name, server] of enabled(servers)) {
      const known = namesOf(name);
      if (!known) continue;
      for (const item of known[kind]) {
        const exposed = exposedNameFor(prefixOf(name, server), separator, item);
        const owner = owners.get(exposed);
        if (owner !== undefined && owner !== name) {
          problems.push({ path: `servers.${name}.namespace`, message: `servers "${owner}" and "${name}" both expose the ${kind === 'tools' ? 'tool' : 'prompt'} name "${exposed}" on /mcp; give them distinct namespaces` });
        }
        owners.set(exposed, owner ?? name);
      }
    }
  }
  return problems;
}

/** The tool and prompt names a server had approved (pinned), or undefined before it was first seen. */
export function pinnedNames(pins: PinStore, server: string): { tools: string[]; prompts: string[] } | undefined {
  if (!pins.seen(server, 'tools') && !pins.seen(server, 'prompts')) return undefined;
  const keys = Object.keys(pins.allPinned(server));
  const of = (kind: string): string[] => keys.filter((k) => k.startsWith(`${kind}:`)).map((k) => k.slice(kind.length + 1));
  return { tools: of('tools'), prompts: of('prompts') };
}

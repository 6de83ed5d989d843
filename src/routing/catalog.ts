/**
 * What each server offers (tools, prompts, resources, resource templates), fetched page by page and
 * cached, and the aggregated view that `/mcp` shows: names prefixed `<server><sep><name>` (unless a
 * server opts out), kept within 64 characters, and the reverse map that routes a call back.
 *
 * A list is cached until the server says it changed (`list_changed`) when it declares `listChanged`,
 * otherwise for a few seconds only, so a server that never notifies is not shown stale for long.
 */
import { createHash } from 'node:crypto';
import type { RE2JS } from 're2js';
import { re2 } from '../util/re2.ts';
import type { Logger } from 'pino';
import { GatewayError } from '../errors.ts';
import { isObject, type JsonObject } from '../protocol/jsonrpc.ts';
import type { Upstream } from '../upstream/types.ts';

export type ListKind = 'tools' | 'prompts' | 'resources' | 'resourceTemplates';

export const LIST_METHODS: Readonly<Record<ListKind, string>> = {
  tools: 'tools/list',
  prompts: 'prompts/list',
  resources: 'resources/list',
  resourceTemplates: 'resources/templates/list',
};

export const LIST_KIND_BY_METHOD: ReadonlyMap<string, ListKind> = new Map(
  Object.entries(LIST_METHODS).map(([kind, method]) => [method, kind as ListKind]),
);

const CAPABILITY: Readonly<Record<ListKind, string>> = {
  tools: 'tools',
  prompts: 'prompts',
  resources: 'resources',
  resourceTemplates: 'resources',
};

/** Tool names SHOULD be at most 64 characters for most clients (spec allows 128; many clients cut at 64). */
export const MAX_EXPOSED_NAME = 64;
const SHORT_TTL_MS = 5_000;
const MAX_PAGES = 100;

/** The name `/mcp` shows for a server's item: `<prefix><sep><name>` ('' prefix: bare), at most 64 characters. */
export function exposedNameFor(prefix: string, separator: string, name: string): string {
  if (prefix === '') return name;
  const full = `${prefix}${separator}${name}`;
  if (full.length <= MAX_EXPOSED_NAME) return full;
  // Too long: keep the readable start and make it unique with a short digest of the original name.
  const digest = createHash('sha256').update(name).digest('hex').slice(0, 8);
  const room = MAX_EXPOSED_NAME - prefix.length - separator.length - digest.length - 1;
  return `${prefix}${separator}${name.slice(0, Math.max(0, room))}-${digest}`;
}

export interface CatalogServer {
  upstream: Upstream;
  /** '' for no prefix. */
  prefix: string;
}

interface CacheEntry {
  /** What agents may see: the listing as the supply-chain guard let it through. */
  items: JsonObject[];
  /** Each item as the server listed it (canonical text), to tell a later listing that differs. */
  listed: ReadonlySet<string>;
  fetchedAt: number;
  sticky: boolean;
  /** The review generation the items were reviewed under. */
  generation: number;
}

export interface Resolved {
  server: string;
  name: string;
}

export class Catalog {
  readonly #servers: ReadonlyMap<string, CatalogServer>;
  readonly #separator: string;
  readonly #logger: Logger;
  readonly #cache = new Map<string, CacheEntry>();
  readonly #inflight = new Map<string, Promise<JsonObject[]>>();
  /** Bumped per list when it is dropped: a fetch that started before may not cache what it read. */
  readonly #epochs = new Map<string, number>();
  readonly #byExposedName: Record<'tools' | 'prompts', Map<string, Resolved>> = { tools: new Map(), prompts: new Map() };
  /** Exposed names several servers claim (refused), and the clashes already logged. */
  readonly #clashes: Record<'tools' | 'prompts', Map<string, string[]>> = { tools: new Map(), prompts: new Map() };
  readonly #reported = new Set<string>();
  #toolNames: ReadonlyMap<string, ReadonlySet<string>> | undefined;

  /** Reviews a full listing before it is cached (the supply-chain guard): every kind, resources included; returns what agents may see. */
  review: ((server: string, kind: ListKind, items: JsonObject[]) => JsonObject[]) | undefined;
  /** The review generation: cached listings from an older one are reviewed again. */
  reviewGeneration: (() => number) | undefined;

  constructor(servers: ReadonlyMap<string, CatalogServer>, separator: string, logger: Logger) {
    this.#servers = servers;
    this.#separator = separator;
    this.#logger = logger;
  }

  /**
   * Tool names per server from the cache (for shadowing checks). The same map until a tool list is
   * fetched or dropped, so that callers can tell by identity that nothing changed.
   */
  toolNames(): ReadonlyMap<string, ReadonlySet<string>> {
    if (this.#toolNames) return this.#toolNames;
    const out = new Map<string, Set<string>>();
    for (const [key, entry] of this.#cache) {
      const [server, kind] = key.split('\0');
      if (kind === 'tools' && server) out.set(server, new Set(entry.items.map((i) => String(i.name ?? ''))));
    }
    this.#toolNames = out;
    return out;
  }

  invalidate(server: string, kind?: ListKind): void {
    if (kind === undefined || kind === 'tools') this.#toolNames = undefined;
    const kinds = kind ? [kind] : (Object.keys(LIST_METHODS) as ListKind[]);
    if (kind === 'resources') kinds.push('resourceTemplates');
    for (const k of kinds) {
      const key = `${server}\0${k}`;
      this.#cache.delete(key);
      // A listing being fetched now may have been read before the change: the next caller fetches anew.
      this.#inflight.delete(key);
      this.#epochs.set(key, (this.#epochs.get(key) ?? 0) + 1);
    }
  }

  /**
   * A page a server listed straight to a client (`/mcp/<server>`). When it shows anything the cached
   * listing does not — a changed or new definition, or (a whole listing) one no longer there — the
   * cached listing is dropped, so that the next call, route or aggregated listing fetches and reviews
   * the server's list as it is now, instead of serving what was approved before. A page of a longer
   * listing cannot show what disappeared elsewhere, so it always drops the cache.
   */
  noteListed(server: string, kind: ListKind, page: readonly JsonObject[], whole: boolean): void {
    const cached = this.#cache.get(`${server}\0${kind}`);
    if (!cached) return;
    const same = whole && page.length === cached.listed.size && page.every((item) => cached.listed.has(JSON.stringify(item)));
    if (!same) this.invalidate(server, kind);
  }

  exposedName(server: string, name: string): string {
    return exposedNameFor(this.#servers.get(server)?.prefix ?? server, this.#separator, name);
  }

  /** Every item a server lists, across pages; an unavailable server yields an error. */
  async list(server: string, kind: ListKind, timeoutMs: number): Promise<JsonObject[]> {
    return this.listNow(server, kind, timeoutMs);
  }

  /**
   * `list`, answered synchronously when the reviewed listing is cached and fresh (the per-call hot
   * path: no promise, no microtask turn); a promise only when it must be fetched. An unknown server
   * throws.
   */
  listNow(server: string, kind: ListKind, timeoutMs: number): JsonObject[] | Promise<JsonObject[]> {
    const entry = this.#servers.get(server);
    if (!entry) throw new GatewayError('PC_ROUTE_UNKNOWN_SERVER', `no server named "${server}"`);
    const key = `${server}\0${kind}`;
    const cached = this.#cache.get(key);
    const generation = this.reviewGeneration?.() ?? 0;
    if (cached && cached.generation === generation && (cached.sticky || Date.now() - cached.fetchedAt < SHORT_TTL_MS)) return cached.items;
    const running = this.#inflight.get(key);
    if (running) return running;
    const fetch = this.#fetch(entry.upstream, kind, timeoutMs).finally(() => {
      if (this.#inflight.get(key) === fetch) this.#inflight.delete(key);
    });
    this.#inflight.set(key, fetch);
    return fetch;
  }

  /** Caches a reviewed listing unless the list was dropped while it was being fetched (it may be stale). */
  #store(key: string, epoch: number | undefined, listed: readonly JsonObject[], items: JsonObject[], sticky: boolean): void {
    if (this.#epochs.get(key) !== epoch) return;
    this.#cache.set(key, { items, listed: new Set(listed.map((item) => JSON.stringify(item))), fetchedAt: Date.now(), sticky, generation: this.reviewGeneration?.() ?? 0 });
  }

  async #fetch(upstream: Upstream, kind: ListKind, timeoutMs: number): Promise<JsonObject[]> {
    const key = `${upstream.name}\0${kind}`;
    const epoch = this.#epochs.get(key);
    const info = await upstream.ready(timeoutMs);
    const capability = info.capabilities[CAPABILITY[kind]];
    if (!isObject(capability)) {
      // Reviewed even when empty, so that the guard has seen the server without this kind: definitions
      // that appear later (the server gained the capability) are new, not a first sight.
      const none = this.review ? this.review(upstream.name, kind, []) : [];
      if (kind === 'tools') this.#toolNames = undefined;
      this.#store(key, epoch, [], none, false);
      return none;
    }
    const items: JsonObject[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const reply = await upstream.request(LIST_METHODS[kind], cursor ? { cursor } : undefined, { timeoutMs, caller: 'portcullis:catalog' });
      // Resource templates are optional within the resources capability: a server that does not
      // implement the list has none (nothing can be read through one), which is not a failure.
      if ('error' in reply && kind === 'resourceTemplates' && reply.error.code === -32601 && page === 0) break;
      if ('error' in reply) {
        throw new GatewayError('PC_UPSTREAM_PROTOCOL', `server "${upstream.name}" refused ${LIST_METHODS[kind]}: ${reply.error.message}`, {
          server: upstream.name,
        });
      }
      const list = reply.result[kind];
      if (Array.isArray(list)) for (const item of list) if (isObject(item)) items.push(item);
      cursor = typeof reply.result.nextCursor === 'string' && reply.result.nextCursor !== '' ? reply.result.nextCursor : undefined;
      if (!cursor) break;
    }
    const visible = this.review ? this.review(upstream.name, kind, items) : items;
    if (kind === 'tools') this.#toolNames = undefined;
    this.#store(key, epoch, items, visible, capability.listChanged === true);
    return visible;
  }

  /** The merged, namespaced list across servers. Servers that cannot answer are left out (and logged). */
  async aggregate(kind: ListKind, timeoutMs: number, keep?: (server: string, item: JsonObject) => boolean): Promise<JsonObject[]> {
    const names = [...this.#servers.keys()];
    const lists = await Promise.all(
      names.map((server) =>
        this.list(server, kind, timeoutMs).catch((error: unknown) => {
          this.#logger.warn({ server, kind, err: (error as Error).message }, 'server left out of the aggregated list');
          return [] as JsonObject[];
        }),
      ),
    );
    // Resources are routed by URI, so only tools and prompts can clash by name. A name two servers
    // claim is served by neither (never first-wins): which server a call reached would depend on list
    // order, and a policy written for one would govern the other.
    const byName = kind === 'tools' || kind === 'prompts';
    // Names that a person or a model reads as the same (case, compatibility forms, surrounding space)
    // are one name: `Good__add` from a bare server shadows `good__add` as much as an exact copy does.
    const owners = new Map<string, Set<string>>();
    const exposedNames = new Map<string, string>();
    const reverse = new Map<string, Resolved>();
    names.forEach((server, index) => {
      for (const item of lists[index] ?? []) {
        if (!byName || typeof item.name !== 'string') continue;
        const exposed = this.exposedName(server, item.name);
        const fold = foldName(exposed);
        const claimed = owners.get(fold) ?? new Set<string>();
        claimed.add(server);
        owners.set(fold, claimed);
        exposedNames.set(exposed, fold);
        if (!reverse.has(exposed)) reverse.set(exposed, { server, name: item.name });
      }
    });
    const clashes = new Map<string, string[]>();
    for (const [exposed, fold] of exposedNames) {
      const servers = owners.get(fold)!;
      // Only names of the spec's tool-name characters are served here: a name with anything else in it
      // (white space, invisible format characters such as U+200B or U+00AD, letters of other scripts
      // that look Latin) can read exactly like another server's name, whatever the pinning mode.
      if (servers.size > 1 || !MCP_NAME.test(exposed)) clashes.set(exposed, [...servers]);
    }
    const merged: JsonObject[] = [];
    names.forEach((server, index) => {
      for (const item of lists[index] ?? []) {
        const name = typeof item.name === 'string' ? item.name : undefined;
        if (name === undefined) continue;
        const exposed = this.exposedName(server, name);
        if (clashes.has(exposed)) continue;
        // Hidden items still claim their name above, so what a caller sees never depends on its policy.
        if (keep && !keep(server, item)) continue;
        merged.push({ ...item, name: exposed });
      }
    });
    if (byName) {
      for (const [exposed, servers] of clashes) {
        const key = `${kind}\0${exposed}\0${servers.join('\0')}`;
        if (this.#reported.has(key)) continue;
        this.#reported.add(key);
        if (servers.length === 1) this.#logger.error({ kind, name: exposed, servers }, `server "${servers[0]}" exposes ${JSON.stringify(exposed)}, a name with characters outside A-Z a-z 0-9 _ - . (it could read like another name); it is not served on /mcp, only on /mcp/${servers[0]}`);
        else this.#logger.error({ kind, name: exposed, servers }, `configuration error: servers ${servers.map((s) => `"${s}"`).join(' and ')} both expose "${exposed}" on /mcp; the name is refused (PC_ROUTE_AMBIGUOUS) until their namespaces differ`);
      }
      const map = this.#byExposedName[kind];
      map.clear();
      for (const [k, v] of reverse) if (!clashes.has(k)) map.set(k, v);
      this.#clashes[kind] = clashes;
    }
    return merged;
  }

  /**
   * Maps an aggregated tool or prompt name back to its server and original name; undefined when no
   * server offers it. Throws PC_ROUTE_AMBIGUOUS when several servers expose that name.
   */
  async resolveName(kind: 'tools' | 'prompts', exposed: string, timeoutMs: number): Promise<Resolved | undefined> {
    return this.resolveNameNow(kind, exposed, timeoutMs);
  }

  /** `resolveName`, synchronous when the name is already known from an aggregated listing. */
  resolveNameNow(kind: 'tools' | 'prompts', exposed: string, timeoutMs: number): Resolved | undefined | Promise<Resolved | undefined> {
    return this.#byExposedName[kind].get(exposed) ?? this.#resolveAfterListing(kind, exposed, timeoutMs);
  }

  async #resolveAfterListing(kind: 'tools' | 'prompts', exposed: string, timeoutMs: number): Promise<Resolved | undefined> {
    await this.aggregate(kind, timeoutMs);
    const clash = this.#clashes[kind].get(exposed);
    if (clash) {
      throw new GatewayError('PC_ROUTE_AMBIGUOUS', `"${exposed}" is exposed by several servers (${clash.join(', ')}) on /mcp, so it is refused; call it through /mcp/<server>, or give the servers distinct namespaces`, {
        servers: clash,
      });
    }
    return this.#byExposedName[kind].get(exposed);
  }

  /**
   * Finds the server that serves a resource URI: the server that listed it, else the one whose URI
   * template matches. URIs are not rewritten (clients may interpret them), so a URI that two servers
   * claim is refused as ambiguous.
   */
  async resolveUri(uri: string, timeoutMs: number): Promise<string> {
    const owners = new Set<string>();
    const servers = [...this.#servers.keys()];
    const listed = await Promise.all(servers.map((s) => this.list(s, 'resources', timeoutMs).catch(() => [] as JsonObject[])));
    servers.forEach((server, i) => {
      if ((listed[i] ?? []).some((r) => r.uri === uri)) owners.add(server);
    });
    if (owners.size === 0) {
      const templates = await Promise.all(servers.map((s) => this.list(s, 'resourceTemplates', timeoutMs).catch(() => [] as JsonObject[])));
      servers.forEach((server, i) => {
        if ((templates[i] ?? []).some((t) => typeof t.uriTemplate === 'string' && matchesTemplate(t.uriTemplate, uri))) owners.add(server);
      });
    }
    if (owners.size === 1) return [...owners][0]!;
    if (owners.size > 1) {
      throw new GatewayError('PC_ROUTE_AMBIGUOUS', `resource "${uri}" is offered by several servers (${[...owners].join(', ')}); read it through /mcp/<server>`, {
        servers: [...owners],
      });
    }
    throw new GatewayError('PC_ROUTE_UNKNOWN_RESOURCE', `no server offers resource "${uri}"`, { uri });
  }

  /** The server owning a URI template (for completion/complete with a ref/resource). */
  async resolveTemplate(uriTemplate: string, timeoutMs: number): Promise<string | undefined> {
    for (const server of this.#servers.keys()) {
      const templates = await this.list(server, 'resourceTemplates', timeoutMs).catch(() => [] as JsonObject[]);
      if (templates.some((t) => t.uriTemplate === uriTemplate)) return server;
    }
    return undefined;
  }
}

/** Compiled templates (a server's list is finite; bounded all the same). */
const TEMPLATES = new Map<string, RE2JS>();

/**
 * RFC 6570 level-1/2 matching, enough to route: `{var}` is one path segment, `{+var}` / `{#var}` anything.
 * The template comes from a server and the URI from a client, so the match runs on RE2 (linear time):
 * a template of many variables cannot make a long URI backtrack for seconds.
 */
export function matchesTemplate(template: string, uri: string): boolean {
  let re = TEMPLATES.get(template);
  if (!re) {
    const RE2 = re2();
    let pattern = '';
    let last = 0;
    for (const match of template.matchAll(/\{([^}]*)\}/g)) {
      pattern += RE2.quote(template.slice(last, match.index));
      const op = match[1]?.[0];
      pattern += op === '+' || op === '#' ? '.*' : op === '?' || op === '&' ? '(?:[?&].*)?' : '[^/?#]*';
      last = match.index + match[0].length;
    }
    pattern += RE2.quote(template.slice(last));
    re = RE2.compile(pattern);
    if (TEMPLATES.size >= 1000) TEMPLATES.clear();
    TEMPLATES.set(template, re);
  }
  return re.testExact(uri);
}

/**
 * The characters a name served on the aggregated `/mcp` may have: those the MCP specification
 * (2025-11-25, tools) says tool names should use. Anything else can imitate another server's name.
 */
const MCP_NAME = /^[A-Za-z0-9_.-]{1,128}$/;

/** A name as it reads: compatibility forms folded (NFKC), case folded, surrounding space removed. */
function foldName(name: string): string {
  return name.normalize('NFKC').toLowerCase().trim();
}

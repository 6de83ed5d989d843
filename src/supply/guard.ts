/**
 * The supply-chain guard: every text a server shows the model is reviewed before any agent sees it —
 * tool, prompt and resource-template definitions and the server's self-description (instructions,
 * serverInfo title and description) are checked against their pins and scanned; resources (data that
 * legitimately comes and goes: files, records) are scanned, and the guidance a model reads in one (its
 * title and description) is pinned per URI, so that a resource seen before cannot change what it says
 * about itself unreviewed (a new resource is data: pinned as first seen).
 *
 * - First sight of a server (no pins of that kind yet): its definitions are pinned as they are (trust
 *   on first use, recorded as `first-use`), except those the scanner rates high.
 * - Afterwards, a new definition or one whose hash changed (a rug pull: a description, a schema, an
 *   annotation, an added tool, changed instructions) is quarantined: hidden from lists, refused in
 *   calls, and instructions replaced by a short notice, until `portcullis pin approve` releases it; it
 *   is logged as an alert.
 * - A definition the scanner rates high is quarantined unless an admin approved exactly that version.
 * - While the pins file is untrusted (its MAC does not verify), nothing pinned is served.
 * Per server, `pinning: warn` only logs, `allow` skips the guard.
 */
import type { Logger } from 'pino';
import { scanDefinition, verdictOf, type Finding, type SignalLayer } from '../inspect/scanner.ts';
import type { JsonObject } from '../protocol/jsonrpc.ts';
import { definitionHash, pinKey, type DefinitionKind, type PinStore } from './pins.ts';

export type PinningMode = 'quarantine' | 'warn' | 'allow';

/** What a listing can hold: pinned kinds, and resources (scanned, not pinned). */
export type ReviewKind = DefinitionKind | 'resources';

/** What a client sees of a server before it lists anything. */
export interface ServerDescription {
  instructions: string | undefined;
  serverInfo: JsonObject;
}

const VERDICT_CACHE_MAX = 50_000;
/**
 * Resources whose guidance a server may have pinned. Beyond it a resource with a title or description
 * not yet pinned is withheld (fail closed) rather than served unpinned: a server cannot flood the pins
 * to get one resource past them.
 */
export const RESOURCE_PINS_MAX = 5_000;
const ALERTED_MAX = 10_000;
/** The pin key of a server's self-description. */
export const DESCRIPTION_KEY = pinKey('server', 'instructions');

export interface SupplyGuardOptions {
  pins: PinStore;
  modeFor: (server: string) => PinningMode;
  /** Tool names of every server, for shadowing. */
  toolNames: () => ReadonlyMap<string, ReadonlySet<string>>;
  logger: Logger;
  /** The scanner's statistical layer (`supply.scanner`); default: on, trained thresholds. */
  scanner?: SignalLayer;
  /** Told once each time a definition is newly held (quarantined, or flagged in warn mode): the monitor alerts on it. */
  onHold?: (event: HoldEvent) => void;
}

/** A definition newly held back: a rug pull, a new definition, a poisoned one or untrusted pins. */
export interface HoldEvent {
  server: string;
  /** The pin key (`tools:<name>`, `prompts:<name>`, `resources:<uri>`, `server:instructions`). */
  definition: string;
  reason: string;
  /** `warn` mode: only reported, still shown. */
  shown: boolean;
}

interface Judged {
  hash: string;
  findings: Finding[];
}

/** The name a listed item is known by: tools, prompts and templates by name, resources by URI. */
export function itemName(kind: ReviewKind, item: JsonObject): string | undefined {
  if (kind === 'resources') return typeof item.uri === 'string' ? item.uri : undefined;
  return typeof item.name === 'string' ? item.name : typeof item.uriTemplate === 'string' ? item.uriTemplate : undefined;
}

/**
 * The part of a listed resource a model reads as guidance about it — its title and description — and
 * the icons a client fetches for it, or undefined when it has none of them. Its name is a display name (a file name) and its annotations carry
 * data that changes (lastModified), so neither is pinned; both are scanned.
 */
export function resourceGuidance(item: JsonObject): JsonObject | undefined {
  const guidance: JsonObject = {};
  if (item.title !== undefined) guidance.title = item.title;
  if (item.description !== undefined) guidance.description = item.description;
  // Icons are fetched by clients: a swapped icon URL (a cloud metadata address) is a change too (red team I, L2).
  if (item.icons !== undefined) guidance.icons = item.icons;
  return Object.keys(guidance).length > 0 ? guidance : undefined;
}

/** The part of a server's self-description that is pinned and scanned (not its version, which changes on upgrade). */
export function descriptionDefinition(description: ServerDescription): JsonObject {
  const definition: JsonObject = {};
  if (description.instructions !== undefined) definition.instructions = description.instructions;
  const info: JsonObject = {};
  for (const field of ['name', 'title', 'description', 'websiteUrl'] as const) {
    const value = description.serverInfo[field];
    if (value !== undefined) info[field] = value;
  }
  definition.serverInfo = info;
  return definition;
}

function withheldNotice(server: string, reason: string): string {
  const why = reason.startsWith('poisoning')
    ? 'the definition scanner flagged them'
    : reason.startsWith('pins file')
      ? 'the pins file failed its integrity check'
      : reason.startsWith('new')
        ? 'they are new'
        : 'they changed since they were approved';
  return `Portcullis withheld the instructions of server "${server}" until an administrator reviews them (${why}).`;
}

export class SupplyGuard {
  readonly #options: SupplyGuardOptions;
  readonly #quarantined = new Map<string, string>();
  /**
   * Per server: hash and scan findings per exact definition text, so a server listed again (every
   * tools/list through /mcp/<server> is) costs a JSON.stringify per definition instead of a canonical
   * hash and a full scan. Dropped when the names shadowing is judged against change.
   */
  readonly #verdicts = new Map<string, { for: string; memo: Map<string, Judged> }>();
  /** Withheld resources already reported, so a server listed again does not repeat the alert. */
  readonly #alerted = new Set<string>();
  #pinsProblemLogged = '';
  readonly #described = new Map<string, { instructions: string | undefined; serverInfo: JsonObject; generation: number; names: unknown; mode: PinningMode; result: ServerDescription }>();

  constructor(options: SupplyGuardOptions) {
    this.#options = options;
  }

  mode(server: string): PinningMode {
    return this.#options.modeFor(server);
  }

  /** Changes when an admin approved something: reviewed listings cached before are stale. */
  generation(): number {
    this.#options.pins.reload();
    return this.#options.pins.generation;
  }

  /**
   * Why the pins cannot be relied on (the file failed its integrity check), or undefined. `fresh`
   * re-reads a changed file at once (before the guard may write, so that an approval made by the CLI
   * a moment ago is not written over); otherwise at most once a second.
   */
  pinsProblem(fresh = false): string | undefined {
    const { pins, logger } = this.#options;
    pins.reload(fresh ? 0 : 1000);
    const integrity = pins.integrity();
    if (integrity.ok) {
      this.#pinsProblemLogged = '';
      return undefined;
    }
    if (this.#pinsProblemLogged !== integrity.problem) {
      this.#pinsProblemLogged = integrity.problem;
      logger.error({ alert: 'supply-chain', pins: pins.path }, `pins file untrusted, nothing pinned is served until an admin runs \`portcullis pin verify\`: ${integrity.problem}`);
    }
    return integrity.problem;
  }

  /** Why a definition is quarantined, or undefined when it may be used (or was never listed). */
  quarantined(server: string, kind: ReviewKind, name: string): string | undefined {
    return this.#quarantined.get(`${server}\0${kind}:${name}`);
  }

  /** The scan memo of one server and kind, valid for the names shadowing is judged against (computed once per review). */
  #memo(server: string, kind: ReviewKind, siblings: ReadonlySet<string>, others: ReadonlyMap<string, ReadonlySet<string>>): Map<string, Judged> {
    const judgedAgainst = JSON.stringify([[...siblings], [...others].map(([s, names]) => [s, [...names]])]);
    const key = `${server}\0${kind}`;
    let cache = this.#verdicts.get(key);
    if (!cache || cache.for !== judgedAgainst || cache.memo.size > VERDICT_CACHE_MAX) {
      cache = { for: judgedAgainst, memo: new Map() };
      this.#verdicts.set(key, cache);
    }
    return cache.memo;
  }

  #judge(memo: Map<string, Judged>, server: string, kind: ReviewKind, item: JsonObject, siblings: ReadonlySet<string>, others: ReadonlyMap<string, ReadonlySet<string>>): Judged {
    const memoKey = JSON.stringify(item);
    let judged = memo.get(memoKey);
    if (!judged) {
      // Resource names are display names (file names in any script), not identifiers.
      const findings = scanDefinition(item, { server, siblings, others, identifierName: kind === 'tools' || kind === 'prompts', ...this.#options.scanner });
      judged = { hash: definitionHash(item), findings };
      memo.set(memoKey, judged);
    }
    return judged;
  }

  /**
   * Names a definition may mention without shadowing: the server's own tools — as listed now, as pinned,
   * and those held for review (a server's instructions may name a tool the gateway has not listed since
   * a restart, or one still waiting for approval, which is held itself) — and the names in this listing.
   */
  #siblings(server: string, items: readonly JsonObject[], others: ReadonlyMap<string, ReadonlySet<string>>): Set<string> {
    const siblings = new Set(others.get(server) ?? []);
    const { pins } = this.#options;
    for (const key of [...Object.keys(pins.allPinned(server)), ...Object.keys(pins.pending(server))]) if (key.startsWith('tools:')) siblings.add(key.slice('tools:'.length));
    for (const item of items) if (typeof item.name === 'string') siblings.add(item.name);
    return siblings;
  }

  /** Why a pinned kind of definition may not be served as is, or undefined; pins it on first sight. */
  #decide(server: string, key: string, item: JsonObject, judged: Judged, firstSight: boolean): { reason?: string; pinned?: boolean; keepPending?: boolean } {
    const pin = this.#options.pins.pinned(server, key);
    const approvedAsIs = pin !== undefined && pin.hash === judged.hash && pin.approvedBy !== 'first-use';
    if (verdictOf(judged.findings) === 'high' && !approvedAsIs) {
      return { reason: `poisoning: ${judged.findings.filter((f) => f.severity === 'high').map((f) => `${f.rule} in ${f.field}`).join('; ')}` };
    }
    // A server that showed a changed version and then the approved one again (flip-flopping: a two-faced
    // rug pull) stays held until the admin approves or rejects the changed version.
    const waiting = this.#options.pins.pending(server)[key];
    if (pin && pin.hash === judged.hash && waiting && waiting.hash !== judged.hash) {
      return { reason: `a changed version (${waiting.hash.slice(0, 12)}) was listed and waits for review (pin approve or pin reject)`, keepPending: true };
    }
    if (!pin && !firstSight) return { reason: 'new definition, not approved' };
    if (pin && pin.hash !== judged.hash) return { reason: 'definition changed since it was approved (rug pull?)' };
    if (!pin) {
      this.#options.pins.pin(server, key, item, 'first-use');
      return { pinned: true };
    }
    return {};
  }

  /**
   * Reviews what a server listed and returns what agents may see. `complete` is true for a full
   * listing (all pages), when definitions missing from it can be reported as removed.
   */
  review(server: string, kind: ReviewKind, items: readonly JsonObject[], complete: boolean): JsonObject[] {
    const mode = this.mode(server);
    if (mode === 'allow') return [...items];
    if (kind === 'resources') return this.#reviewResources(server, items, mode);
    const { pins, logger } = this.#options;
    const pinsProblem = this.pinsProblem(true);
    const firstSight = !pins.seen(server, kind);
    const others = this.#options.toolNames();
    // A tool listing replaces the server's known tool names; other kinds add theirs to them.
    const siblings = kind === 'tools' ? new Set(items.map((i) => String(i.name ?? ''))) : this.#siblings(server, items, others);
    const memo = this.#memo(server, kind, siblings, others);
    let changed = false;
    const visible: JsonObject[] = [];
    for (const item of items) {
      const name = itemName(kind, item);
      if (name === undefined) continue;
      const key = pinKey(kind, name);
      const id = `${server}\0${key}`;
      if (pinsProblem !== undefined) {
        // Nothing in an untrusted file is believed, and nothing is written over it.
        if (mode === 'warn') visible.push(item);
        else this.#quarantined.set(id, `pins file untrusted: ${pinsProblem}`);
        continue;
      }
      const decision = this.#decide(server, key, item, this.#judge(memo, server, kind, item, siblings, others), firstSight);
      if (decision.pinned) changed = true;
      if (decision.reason === undefined) {
        this.#quarantined.delete(id);
        visible.push(item);
        continue;
      }
      if (!decision.keepPending && pins.hold(server, key, item, decision.reason)) {
        changed = true;
        logger.warn({ alert: 'supply-chain', server, definition: key, reason: decision.reason }, mode === 'warn' ? 'definition not approved (warn mode: still shown)' : 'definition quarantined');
        this.#held(server, key, decision.reason, mode);
      }
      if (mode === 'warn') {
        visible.push(item);
        continue;
      }
      this.#quarantined.set(id, decision.reason);
    }
    if (pinsProblem !== undefined) return visible;
    if (complete && firstSight) {
      pins.markSeen(server, kind);
      changed = true;
    }
    if (complete) {
      const listed = new Set(items.map((i) => pinKey(kind, itemName(kind, i) ?? '')));
      for (const key of Object.keys(pins.allPinned(server))) {
        if (key.startsWith(`${kind}:`) && !listed.has(key)) logger.info({ alert: 'supply-chain', server, definition: key }, 'a pinned definition is no longer listed');
      }
    }
    if (changed) pins.save();
    return visible;
  }

  #held(server: string, definition: string, reason: string, mode: PinningMode): void {
    try {
      this.#options.onHold?.({ server, definition, reason, shown: mode === 'warn' });
    } catch (error) {
      this.#options.logger.error({ err: (error as Error).message, server, definition }, 'supply-chain hold could not be reported');
    }
  }

  /**
   * Resources are data that comes and goes (files, records): scanned at every listing; a new one is
   * pinned by its guidance (`resourceGuidance`) as first seen, and one whose guidance changed since is
   * held like a changed definition until `pin approve`.
   */
  #reviewResources(server: string, items: readonly JsonObject[], mode: PinningMode): JsonObject[] {
    const { pins } = this.#options;
    const others = this.#options.toolNames();
    const siblings = this.#siblings(server, items, others);
    const memo = this.#memo(server, 'resources', siblings, others);
    const pinsProblem = this.pinsProblem(true);
    let pinnedResources = Object.keys(pins.allPinned(server)).filter((key) => key.startsWith('resources:')).length;
    let changed = false;
    const visible: JsonObject[] = [];
    for (const item of items) {
      const uri = itemName('resources', item);
      if (uri === undefined) continue;
      const key = `resources:${uri}`;
      const id = `${server}\0${key}`;
      const judged = this.#judge(memo, server, 'resources', item, siblings, others);
      const guidance = resourceGuidance(item);
      let reason: string | undefined;
      let news = true;
      if (verdictOf(judged.findings) === 'high') reason = `poisoning: ${judged.findings.filter((f) => f.severity === 'high').map((f) => `${f.rule} in ${f.field}`).join('; ')}`;
      else if (guidance !== undefined && pinsProblem !== undefined) reason = `pins file untrusted: ${pinsProblem}`;
      else if (guidance !== undefined) {
        const first = pins.pinned(server, key) === undefined;
        if (first && pinnedResources >= RESOURCE_PINS_MAX) reason = `the server already has ${RESOURCE_PINS_MAX} resources pinned; a new one with a title or description is not served unpinned`;
        else {
          const decision = this.#decide(server, key, guidance, { hash: definitionHash(guidance), findings: judged.findings }, true);
          if (decision.pinned) {
            changed = true;
            pinnedResources++;
          }
          reason = decision.reason;
          if (reason !== undefined && !decision.keepPending) news = pins.hold(server, key, guidance, reason);
          else if (reason !== undefined) news = false;
          if (reason !== undefined && news) changed = true;
        }
      }
      if (reason === undefined) {
        this.#quarantined.delete(id);
        visible.push(item);
        continue;
      }
      const alert = `${id}\0${judged.hash}\0${reason}`;
      if (news && !this.#alerted.has(alert)) {
        if (this.#alerted.size >= ALERTED_MAX) this.#alerted.clear();
        this.#alerted.add(alert);
        this.#options.logger.warn({ alert: 'supply-chain', server, definition: key, reason }, mode === 'warn' ? 'resource flagged (warn mode: still shown)' : 'resource withheld');
        this.#held(server, key, reason, mode);
      }
      if (mode === 'warn') visible.push(item);
      else this.#quarantined.set(id, reason);
    }
    if (changed) pins.save();
    return visible;
  }

  /**
   * Reviews a server's self-description (initialize result, `server/discover`): pinned like a
   * definition. Changed, new or poisoned instructions are replaced by a short notice (and serverInfo by
   * the configured name) until approved.
   */
  reviewDescription(server: string, description: ServerDescription): ServerDescription {
    const mode = this.mode(server);
    if (mode === 'allow') return description;
    const { pins } = this.#options;
    // Asked on every initialize and for every modern result (its _meta serverInfo): the answer is
    // kept while the server's description, the pins and the other servers' names stay as they were.
    pins.reload();
    const names = this.#options.toolNames();
    const known = this.#described.get(server);
    if (known && known.instructions === description.instructions && known.serverInfo === description.serverInfo && known.generation === pins.generation && known.names === names && known.mode === mode) return known.result;
    const result = this.#reviewDescription(server, description, mode);
    this.#described.set(server, { instructions: description.instructions, serverInfo: description.serverInfo, generation: pins.generation, names, mode, result });
    return result;
  }

  #reviewDescription(server: string, description: ServerDescription, mode: PinningMode): ServerDescription {
    const { pins, logger } = this.#options;
    const definition = descriptionDefinition(description);
    const pinsProblem = this.pinsProblem(true);
    let reason: string | undefined;
    if (pinsProblem !== undefined) reason = `pins file untrusted: ${pinsProblem}`;
    else {
      const firstSight = !pins.seen(server, 'server');
      const others = this.#options.toolNames();
      // Instructions name the server's own tools ("call search first"): those are siblings, not shadowing.
      const siblings = this.#siblings(server, [], others);
      const judged = this.#judge(this.#memo(server, 'server', siblings, others), server, 'server', definition, siblings, others);
      const decision = this.#decide(server, DESCRIPTION_KEY, definition, judged, firstSight);
      reason = decision.reason;
      let changed = decision.pinned === true;
      if (firstSight) {
        pins.markSeen(server, 'server');
        changed = true;
      }
      if (reason !== undefined && pins.hold(server, DESCRIPTION_KEY, definition, reason)) {
        changed = true;
        logger.warn({ alert: 'supply-chain', server, definition: DESCRIPTION_KEY, reason }, mode === 'warn' ? 'server instructions not approved (warn mode: still shown)' : 'server instructions withheld');
        this.#held(server, DESCRIPTION_KEY, reason, mode);
      }
      if (changed) pins.save();
    }
    const id = `${server}\0${DESCRIPTION_KEY}`;
    if (reason === undefined || mode === 'warn') {
      this.#quarantined.delete(id);
      return description;
    }
    this.#quarantined.set(id, reason);
    const version = description.serverInfo.version;
    return {
      instructions: withheldNotice(server, reason),
      serverInfo: { name: server, version: typeof version === 'string' && /^[\w.+-]{1,64}$/.test(version) ? version : 'unknown' },
    };
  }
}

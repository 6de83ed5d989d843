/**
 * The supply-chain guard: every tool, prompt and resource-template definition a server lists is
 * checked against its pin and scanned for poisoning before any agent can see it.
 *
 * - First sight of a server (no pins yet): its definitions are pinned as they are (trust on first
 *   use, recorded as `first-use`), except those the scanner rates high.
 * - Afterwards, a new definition or one whose hash changed (a rug pull) is quarantined: hidden from
 *   lists and refused in calls until `portcullis pin approve` releases it; it is logged as an alert.
 * - A definition the scanner rates high is quarantined unless an admin approved exactly that version.
 * Per server, `pinning: warn` only logs, `allow` skips the guard.
 */
import type { Logger } from 'pino';
import { scanTool, verdictOf } from '../inspect/scanner.ts';
import type { JsonObject } from '../protocol/jsonrpc.ts';
import { definitionHash, pinKey, type DefinitionKind, type PinStore } from './pins.ts';

export type PinningMode = 'quarantine' | 'warn' | 'allow';

const VERDICT_CACHE_MAX = 50_000;

export interface SupplyGuardOptions {
  pins: PinStore;
  modeFor: (server: string) => PinningMode;
  /** Tool names of every server, for shadowing. */
  toolNames: () => ReadonlyMap<string, ReadonlySet<string>>;
  logger: Logger;
}

export class SupplyGuard {
  readonly #options: SupplyGuardOptions;
  readonly #quarantined = new Map<string, string>();
  /**
   * Per server: hash and scan findings per exact definition text, so a server listed again (every
   * tools/list through /mcp/<server> is) costs a JSON.stringify per definition instead of a canonical
   * hash and a full scan. Dropped when the names shadowing is judged against change.
   */
  readonly #verdicts = new Map<string, { for: string; memo: Map<string, { hash: string; findings: ReturnType<typeof scanTool> }> }>();

  constructor(options: SupplyGuardOptions) {
    this.#options = options;
  }

  /** Changes when an admin approved something: reviewed listings cached before are stale. */
  generation(): number {
    this.#options.pins.reload();
    return this.#options.pins.generation;
  }

  /** Why a definition is quarantined, or undefined when it may be used. */
  quarantined(server: string, kind: DefinitionKind, name: string): string | undefined {
    return this.#quarantined.get(`${server}\0${pinKey(kind, name)}`);
  }

  /**
   * Reviews what a server listed and returns what agents may see. `complete` is true for a full
   * listing (all pages), when definitions missing from it can be reported as removed.
   */
  review(server: string, kind: DefinitionKind, items: readonly JsonObject[], complete: boolean): JsonObject[] {
    const mode = this.#options.modeFor(server);
    if (mode === 'allow') return [...items];
    const { pins, logger } = this.#options;
    pins.reload();
    const firstSight = !pins.seen(server, kind);
    const others = this.#options.toolNames();
    const siblings = new Set(items.map((i) => String(i.name ?? '')));
    // Findings depend on the other servers' names and on this listing's own names (never flagged).
    const judgedAgainst = JSON.stringify([[...siblings], [...others].map(([s, names]) => [s, [...names]])]);
    let cache = this.#verdicts.get(server);
    if (!cache || cache.for !== judgedAgainst || cache.memo.size > VERDICT_CACHE_MAX) {
      cache = { for: judgedAgainst, memo: new Map() };
      this.#verdicts.set(server, cache);
    }
    let changed = false;
    const visible: JsonObject[] = [];
    for (const item of items) {
      const name = typeof item.name === 'string' ? item.name : typeof item.uriTemplate === 'string' ? item.uriTemplate : undefined;
      if (name === undefined) continue;
      const key = pinKey(kind, name);
      const memoKey = `${kind}\0${JSON.stringify(item)}`;
      let memo = cache.memo.get(memoKey);
      if (!memo) {
        memo = { hash: definitionHash(item), findings: scanTool(item, { server, siblings, others }) };
        cache.memo.set(memoKey, memo);
      }
      const { hash, findings } = memo;
      const pin = pins.pinned(server, key);
      const approvedAsIs = pin !== undefined && pin.hash === hash && pin.approvedBy !== 'first-use';
      let reason: string | undefined;
      if (verdictOf(findings) === 'high' && !approvedAsIs) {
        reason = `poisoning: ${findings.filter((f) => f.severity === 'high').map((f) => `${f.rule} in ${f.field}`).join('; ')}`;
      } else if (!pin && !firstSight) reason = 'new definition, not approved';
      else if (pin && pin.hash !== hash) reason = 'definition changed since it was approved (rug pull?)';
      const id = `${server}\0${key}`;
      if (!reason) {
        if (!pin) {
          pins.pin(server, key, item, 'first-use');
          changed = true;
        }
        this.#quarantined.delete(id);
        visible.push(item);
        continue;
      }
      if (pins.hold(server, key, item, reason)) {
        changed = true;
        logger.warn({ alert: 'supply-chain', server, definition: key, reason }, mode === 'warn' ? 'definition not approved (warn mode: still shown)' : 'definition quarantined');
      }
      if (mode === 'warn') {
        visible.push(item);
        continue;
      }
      this.#quarantined.set(id, reason);
    }
    if (complete && firstSight) {
      pins.markSeen(server, kind);
      changed = true;
    }
    if (complete) {
      const listed = new Set(items.map((i) => pinKey(kind, String(i.name ?? i.uriTemplate ?? ''))));
      for (const key of Object.keys(pins.allPinned(server))) {
        if (key.startsWith(`${kind}:`) && !listed.has(key)) logger.info({ alert: 'supply-chain', server, definition: key }, 'a pinned definition is no longer listed');
      }
    }
    if (changed) pins.save();
    return visible;
  }
}

/**
 * Toxic flows: which labels (`private`, `untrusted`, `egress`) the calls of a session have carried, so
 * that an egress call after private data was read can be alerted on or refused. Labels come from the
 * tool's annotations as the policy makes them effective (`policy.tools[].annotations`: attested
 * `private`, `untrusted`, `egress`; `untrusted` and `egress` default to `openWorldHint`); a resource or
 * prompt read is `private` when its server holds private data (one of its tools is attested `private`).
 *
 * A call belongs to two flows: its principal's and, in the legacy era, its session's (the audit
 * record's session hash); a label counts for `windowMs` after the last call that carried it. Bounded: at most MAX_FLOWS flows (expired ones forgotten first, then the oldest tenth).
 */
import { createHash } from 'node:crypto';

export type FlowLabel = 'private' | 'untrusted' | 'egress';

/**
 * The methods whose records carry a flow: tool calls, and the other ways data comes in from a server
 * (`resources/read`, `prompts/get`) or client data goes out to one (`prompts/get`, `completion/complete`).
 */
export const FLOW_METHODS: ReadonlySet<string> = new Set(['tools/call', 'resources/read', 'prompts/get', 'completion/complete']);

export interface LabelSeen {
  atMs: number;
  seq: number;
  /** `server.tool` of the call that carried it. */
  tool: string;
}

const MAX_FLOWS = 10_000;
/** Tools remembered per flow for `session.tools` (the most recent). */
const MAX_TOOLS = 64;

interface Flow {
  labels: Map<FlowLabel, LabelSeen>;
  tools: Map<string, number>;
}

/**
 * The flow keys of a call: its caller (within the window) and, in the legacy era, its session too —
 * so that opening a new session for the egress call does not leave the private read behind. `identity`:
 * the caller across its credentials (`callerIdentity`): a second API key or the agent's client
 * credentials do not leave the private read behind either.
 */
export function flowKeys(session: string | undefined, identity: string): string[] {
  const byPrincipal = `p:${identity}`;
  return session !== undefined ? [`s:${session}`, byPrincipal] : [byPrincipal];
}

/** The session hash the audit record carries for a client key (see audit/log.ts). */
export function sessionHashOf(clientKey: string): string | undefined {
  return clientKey.startsWith('modern:') ? undefined : createHash('sha256').update(clientKey).digest('hex').slice(0, 16);
}

export class FlowTracker {
  readonly windowMs: number;
  readonly #flows = new Map<string, Flow>();

  constructor(windowMs: number) {
    this.windowMs = windowMs;
  }

  /** The label as last seen in any of these flows, if within the window. */
  seen(keys: readonly string[], label: FlowLabel, nowMs: number): LabelSeen | undefined {
    for (const key of keys) {
      const seen = this.#flows.get(key)?.labels.get(label);
      if (seen && nowMs - seen.atMs < this.windowMs) return seen;
    }
    return undefined;
  }

  /**
   * A call's labels, and its tool among `session.tools`. `called: false` (a resource or prompt read) notes
   * the labels only: `session.tools` names tools called, and reads must not push them out of its 64.
   */
  note(keys: readonly string[], labels: readonly string[], tool: string, seq: number, nowMs: number, called = true): void {
    for (const key of keys) this.#note(key, labels, tool, seq, nowMs, called);
  }

  #note(key: string, labels: readonly string[], tool: string, seq: number, nowMs: number, called: boolean): void {
    let flow = this.#flows.get(key);
    if (!flow) {
      if (this.#flows.size >= MAX_FLOWS) this.#expire(nowMs);
      flow = { labels: new Map(), tools: new Map() };
      this.#flows.set(key, flow);
    }
    for (const label of labels) if (label === 'private' || label === 'untrusted' || label === 'egress') flow.labels.set(label, { atMs: nowMs, seq, tool });
    if (!called) return;
    flow.tools.delete(tool);
    flow.tools.set(tool, nowMs);
    if (flow.tools.size > MAX_TOOLS) flow.tools.delete(flow.tools.keys().next().value as string);
  }

  /** What CEL conditions see as `session`: labels and tools (`server.tool`) of these flows within the window. */
  session(keys: readonly string[], nowMs: number): { labels: string[]; tools: string[] } {
    const labels = new Set<string>();
    const tools = new Set<string>();
    for (const key of keys) {
      const flow = this.#flows.get(key);
      if (!flow) continue;
      for (const [label, seen] of flow.labels) if (nowMs - seen.atMs < this.windowMs) labels.add(label);
      for (const [tool, atMs] of flow.tools) if (nowMs - atMs < this.windowMs) tools.add(tool);
    }
    return { labels: [...labels], tools: [...tools] };
  }

  /** Drops flows whose labels are all past the window; if none are, the oldest tenth (by insertion). */
  #expire(nowMs: number): void {
    for (const [key, flow] of this.#flows) if ([...flow.tools.values()].every((atMs) => nowMs - atMs >= this.windowMs)) this.#flows.delete(key);
    let drop = this.#flows.size >= MAX_FLOWS ? MAX_FLOWS / 10 : 0;
    for (const key of this.#flows.keys()) {
      if (drop-- <= 0) break;
      this.#flows.delete(key);
    }
  }

  get size(): number {
    return this.#flows.size;
  }
}

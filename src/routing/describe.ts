/**
 * What a client sees of an endpoint before it calls anything: capabilities, server info and
 * instructions. `/mcp/<server>` shows the server's own; `/mcp` merges every server that answers in
 * time (a server still starting is left out rather than holding up `initialize`).
 *
 * Instructions are text a server writes for the model, like a result: a caller sees those of the
 * servers some rule lets it use (`mayUse`), after the supply-chain review and then DLP's screening
 * under the server's results actions (`screen`: masked, wrapped, or left out when blocked; red team
 * D6). Its `serverInfo` passes the same screening (`screenServerInfo`, red team J F2: name, version,
 * title, description, websiteUrl and icons are text of the server's choosing a client shows), then
 * `withPlainVersion`. A server's capabilities carry no text of the server's choosing past
 * `knownCapabilities`.
 */
import { GatewayError } from '../errors.ts';
import { isObject, type JsonObject } from '../protocol/jsonrpc.ts';
import type { Principal } from '../auth/principal.ts';
import type { Endpoint } from '../pipeline/context.ts';
import type { Description } from '../pipeline/stages/route.ts';
import type { Upstream, UpstreamInfo } from '../upstream/types.ts';
import { VERSION } from '../version.ts';

/** How long `initialize` on the aggregated endpoint waits for servers still starting. */
export const DESCRIBE_WAIT_MS = 10_000;

/**
 * Reviews a server's self-description before a client sees it (the supply-chain guard: instructions
 * are pinned and scanned like a definition); identity when absent.
 */
export type ReviewDescription = (server: string, description: { instructions: string | undefined; serverInfo: JsonObject }) => { instructions: string | undefined; serverInfo: JsonObject };

/** Capabilities a client acts on, carrying no text: flags and objects of flags; `experimental` and unknown keys dropped (reviewed by nothing). */
const CAPABILITY_KEYS = ['tools', 'prompts', 'resources', 'logging', 'completions', 'tasks'];

function flagsOnly(value: unknown): unknown {
  if (typeof value === 'boolean') return value;
  if (!isObject(value)) return undefined;
  const out: JsonObject = {};
  for (const [key, inner] of Object.entries(value)) {
    const kept = flagsOnly(inner);
    if (kept !== undefined) out[key] = kept as JsonObject[string];
  }
  return out;
}

export function knownCapabilities(capabilities: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const key of CAPABILITY_KEYS) if (isObject(capabilities[key])) out[key] = flagsOnly(capabilities[key]) as JsonObject;
  return out;
}

/**
 * The server's version is not pinned (it changes on every upgrade), so only a plain version string is
 * relayed: anything else (a sentence addressed to the model) becomes "unknown".
 */
export function withPlainVersion(serverInfo: JsonObject): JsonObject {
  const version = serverInfo.version;
  if (typeof version === 'string' && /^[0-9A-Za-z][0-9A-Za-z.+_~-]{0,63}$/.test(version)) return serverInfo;
  return { ...serverInfo, version: 'unknown' };
}

export interface DescribeOptions {
  /** The supply-chain review (identity when absent). */
  review?: ReviewDescription;
  /** Whether the caller may use anything of `server` (undefined caller: nobody's, the instructions are left out). */
  mayUse: (server: string, caller: Principal | undefined) => boolean;
  /** The instructions as DLP lets them reach a caller: masked or wrapped, undefined when blocked. */
  screen: (server: string, instructions: string) => string | undefined;
  /** The serverInfo as DLP lets it reach a caller (src/dlp/instructions.ts); identity when absent. */
  screenServerInfo?: (server: string, serverInfo: JsonObject) => JsonObject;
}

export type Describe = (endpoint: Endpoint, caller?: Principal) => Promise<Description>;

export function createDescribe(upstreams: ReadonlyMap<string, Upstream>, timeoutMsFor: (server: string | undefined) => number, options: DescribeOptions): Describe {
  const { review = (_server, description) => description, mayUse, screen, screenServerInfo = (_server, info) => info } = options;
  const reviewed = (name: string, info: UpstreamInfo, caller: Principal | undefined): UpstreamInfo => {
    const description = review(name, { instructions: info.instructions, serverInfo: info.serverInfo });
    // Reviewed first (pinned and judged on first sight whoever asks), then shown only to a caller of the server.
    const instructions = description.instructions !== undefined && mayUse(name, caller) ? screen(name, description.instructions) : undefined;
    return { ...info, instructions, serverInfo: withPlainVersion(screenServerInfo(name, description.serverInfo)), capabilities: knownCapabilities(info.capabilities) };
  };
  return async function describe(endpoint, caller) {
    if (endpoint.kind === 'server') {
      const upstream = upstreams.get(endpoint.server);
      if (!upstream) throw new GatewayError('PC_ROUTE_UNKNOWN_SERVER', `no server named "${endpoint.server}"`);
      const info = reviewed(endpoint.server, await upstream.ready(timeoutMsFor(endpoint.server)), caller);
      return { capabilities: info.capabilities, serverInfo: info.serverInfo, instructions: info.instructions };
    }
    const infos = await Promise.all(
      [...upstreams.values()].map((u) => u.ready(Math.min(DESCRIBE_WAIT_MS, timeoutMsFor(u.name))).then((info) => ({ name: u.name, info: reviewed(u.name, info, caller) }), () => undefined)),
    );
    const has = (key: string): boolean => infos.some((i) => i && isObject(i.info.capabilities[key]));
    const capabilities: JsonObject = {};
    if (has('tools')) capabilities.tools = { listChanged: true };
    if (has('prompts')) capabilities.prompts = { listChanged: true };
    if (has('resources')) {
      const subscribe = infos.some((i) => i && isObject(i.info.capabilities.resources) && (i.info.capabilities.resources as JsonObject).subscribe === true);
      capabilities.resources = { listChanged: true, ...(subscribe ? { subscribe: true } : {}) };
    }
    if (has('logging')) capabilities.logging = {};
    if (has('completions')) capabilities.completions = {};
    const instructions = infos
      .filter((i) => i?.info.instructions)
      .map((i) => `## ${i!.name}\n${i!.info.instructions}`)
      .join('\n\n');
    return { capabilities, serverInfo: { name: 'portcullis', version: VERSION }, instructions: instructions || undefined };
  };
}

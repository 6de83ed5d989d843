/**
 * A server's `instructions` (its initialize result) as DLP lets them reach a caller (red team D6). They
 * are text the server writes for the model, read before any call, so they are screened like a result:
 * every detector under the server's results actions, injected instructions included (the supply-chain
 * review judges them for poisoning first; this is the screen every result gets). A secret is masked
 * (`mask`), the text wrapped as untrusted data (`wrap`), or the instructions left out (`block`, or text
 * that cannot be inspected in full), with a log line saying why; `alert` and `flag` log and pass.
 * Who may see them at all is routing/describe.ts's to decide.
 */
import type { Logger } from 'pino';
import { isObject, type JsonObject } from '../protocol/jsonrpc.ts';
import type { Dlp } from './engine.ts';
import { withoutDataIcons } from './fetch-sinks.ts';

export type InstructionsScreen = (server: string, instructions: string) => string | undefined;

export function createInstructionsScreen(dlp: Dlp, logger: Logger): InstructionsScreen {
  return function screenInstructions(server, instructions) {
    const inspected = dlp.inspect({ instructions }, { server, tool: undefined, direction: 'initialize' });
    if ('refusal' in inspected) {
      logger.warn({ server, findings: inspected.findings }, `the server's instructions were left out of initialize: ${inspected.refusal.message}`);
      return undefined;
    }
    const out = inspected.value.instructions;
    return typeof out === 'string' ? out : undefined;
  };
}

/**
 * A server's `serverInfo` (name, version, title, description, websiteUrl, icons and whatever else it
 * puts there) as DLP lets it reach a caller: the same screening as its instructions, under the server's
 * results actions (red team J, F2). The gateway relays it in `initialize` on `/mcp/<server>` and the
 * stdio front, in `server/discover` and in the `_meta` serverInfo of modern results; each takes it from
 * here. Masked or wrapped values are kept (a masked version is then not a plain version any more and is
 * shown as `unknown`); on block, or what cannot be inspected in full, the gateway's own
 * `{ name: <configured server name>, version: "unknown" }` is shown instead, with a log line saying why.
 * An icon whose address carries data (fetch-sinks.ts) is left out.
 */
export type ServerInfoScreen = (server: string, serverInfo: JsonObject) => JsonObject;

export function createServerInfoScreen(dlp: Dlp, logger: Logger): ServerInfoScreen {
  // The reviewed description is the same object while nothing changes (src/supply/guard.ts): screened once.
  const screened = new WeakMap<JsonObject, JsonObject>();
  return function screenServerInfo(server, serverInfo) {
    const known = screened.get(serverInfo);
    if (known) return known;
    const inspected = dlp.inspect({ serverInfo }, { server, tool: undefined, direction: 'initialize' });
    let out: JsonObject;
    if ('refusal' in inspected) {
      logger.warn({ server, findings: inspected.findings }, `the server's serverInfo was replaced by its configured name: ${inspected.refusal.message}`);
      out = { name: server, version: 'unknown' };
    } else out = isObject(inspected.value.serverInfo) ? inspected.value.serverInfo : { name: server, version: 'unknown' };
    // An icon is fetched by the client on its own: one whose address carries data (a placeholder, a
    // long value: src/dlp/fetch-sinks.ts) is left out, as a zero-click image in a result is refused.
    out = withoutDataIcons(out);
    screened.set(serverInfo, out);
    return out;
  };
}

/**
 * Server→client traffic of a call, inspected message by message as it streams: notifications
 * (progress, log messages), and the server's requests to the client (sampling/createMessage,
 * elicitation/create) with the client's answers to them. Each message is inspected on its own as it
 * passes — nothing waits for the end of the stream.
 *
 * A blocked notification is dropped; a blocked request is refused to the server (the client never sees
 * it); a blocked answer is refused to the server in the client's place. Findings join the call's audit
 * record.
 */
import type { JsonObject } from '../protocol/jsonrpc.ts';
import type { ClientLink, MessageContext } from '../pipeline/context.ts';
import { ServerRequestRefused } from '../upstream/types.ts';
import { ERROR_MAP } from '../errors.ts';
import { MaskBook, type Direction, type Dlp, type Where } from './engine.ts';

/** Which server and tool the context's request is for (what the DLP actions are chosen by). */
export function dlpTarget(ctx: MessageContext): { server: string | undefined; tool: string | undefined } {
  const route = ctx.route;
  if (route?.kind === 'upstream') return { server: route.server, tool: route.method === 'tools/call' ? route.name : undefined };
  return { server: ctx.endpoint.kind === 'server' ? ctx.endpoint.server : undefined, tool: undefined };
}

export function guardClient(dlp: Dlp, client: ClientLink, context: () => MessageContext): ClientLink {
  const where = (direction: Direction): Where => ({ ...dlpTarget(context()), direction });
  const screen = (value: JsonObject, direction: Direction) => {
    const ctx = context();
    const outcome = dlp.inspect(value, where(direction), (ctx.maskBook ??= new MaskBook()));
    if (outcome.findings.length > 0) (ctx.dlp ??= []).push(...outcome.findings);
    return outcome;
  };
  const request = client.request;
  return {
    key: client.key,
    era: client.era,
    protocolVersion: client.protocolVersion,
    capabilities: client.capabilities,
    info: client.info,
    notify(notification) {
      if (!notification.params) return client.notify(notification);
      const outcome = screen(notification.params, 'notification');
      if ('refusal' in outcome) return;
      client.notify(outcome.changed ? { ...notification, params: outcome.value } : notification);
    },
    request: request
      ? async (method, params) => {
          let sent = params;
          if (params) {
            const outcome = screen(params, 'serverRequest');
            if ('refusal' in outcome) throw new ServerRequestRefused(ERROR_MAP.PC_DLP_BLOCKED.rpcCode, `${method} refused by the gateway: ${outcome.refusal.message}`);
            sent = outcome.value;
          }
          const answer = await request(method, sent);
          const outcome = screen(answer, 'answer');
          if ('refusal' in outcome) throw new ServerRequestRefused(ERROR_MAP.PC_DLP_BLOCKED.rpcCode, `the client's answer to ${method} was withheld by the gateway: ${outcome.refusal.message}`);
          return outcome.value;
        }
      : undefined,
  };
}

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
import { isObject, type JsonObject, type JsonRpcNotification } from '../protocol/jsonrpc.ts';
import type { ClientLink, MessageContext } from '../pipeline/context.ts';
import { ServerRequestRefused } from '../upstream/types.ts';
import { ERROR_MAP } from '../errors.ts';
import { storableText } from '../audit/storable.ts';
import { MaskBook, type Direction, type DlpFinding, type Dlp, type Where } from './engine.ts';

/** Which server and tool the context's request is for (what the DLP actions are chosen by). */
export function dlpTarget(ctx: MessageContext): { server: string | undefined; tool: string | undefined } {
  const route = ctx.route;
  if (route?.kind === 'upstream') return { server: route.server, tool: route.method === 'tools/call' ? route.name : undefined };
  return { server: ctx.endpoint.kind === 'server' ? ctx.endpoint.server : undefined, tool: undefined };
}

/** A server notification as it may be written to a client, or why it may not be (then it is dropped). */
export type ScreenedNotification = { notification: JsonRpcNotification; findings: DlpFinding[] } | { dropped: string; findings: DlpFinding[] };

/**
 * The one inspection every server notification passes before it is written to any client, whatever
 * its method (progress, log, list_changed, resources/updated, tasks/status, custom ones) and whichever
 * stream carries it (a call's own stream, a session's standalone stream, `subscriptions/listen`, the
 * stdio front). It is rebuilt from its method and params only (no other member of the server's
 * message reaches the client); the method name is read too, and params at every depth, keys, `_meta`
 * and cursors included. Only the progress token of `notifications/progress` is not read: it is the
 * client's own token, put back by the gateway (upstream/legacy-session.ts). What cannot be inspected
 * (params that are not an object) or holds a finding whose action is block is dropped, with the reason.
 */
export function screenNotification(dlp: Dlp, notification: JsonRpcNotification, where: Omit<Where, 'direction'>, book: MaskBook): ScreenedNotification {
  const { method, params } = notification;
  if (typeof method !== 'string') return { dropped: 'its method is not a string', findings: [] };
  if (params !== undefined && !isObject(params)) return { dropped: 'its params are not an object', findings: [] };
  const progress = method === 'notifications/progress' && params !== undefined && 'progressToken' in params;
  const { progressToken, ...readable } = progress ? params : { progressToken: undefined, ...params };
  const outcome = dlp.inspect({ method, ...(params !== undefined ? { params: readable } : {}) }, { ...where, direction: 'notification' }, book);
  if ('refusal' in outcome) return { dropped: outcome.refusal.message, findings: outcome.findings };
  const screened = outcome.value;
  if (screened.method !== method) return { dropped: 'its method name holds a finding', findings: outcome.findings };
  const out: JsonRpcNotification = { jsonrpc: '2.0', method };
  if (params !== undefined) out.params = progress ? { ...(screened.params as JsonObject), progressToken: progressToken as JsonObject[string] } : (screened.params as JsonObject);
  return { notification: out, findings: outcome.findings };
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
      const ctx = context();
      const screened = screenNotification(dlp, notification, dlpTarget(ctx), (ctx.maskBook ??= new MaskBook()));
      if (screened.findings.length > 0) (ctx.dlp ??= []).push(...screened.findings);
      if ('dropped' in screened) {
        const refused = (ctx.refusedServerRequests ??= []);
        if (refused.length < 16) refused.push(`${storableText(String(notification.method), 128)}: dropped by the gateway: ${screened.dropped}`);
        return;
      }
      client.notify(screened.notification);
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

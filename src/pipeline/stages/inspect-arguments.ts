/**
 * The `inspectArguments` stage (data-loss prevention, request side): a tools/call to a tool that can
 * reach outside (its effective `egress`: the attested annotation, else openWorldHint, which MCP
 * defaults to true) is refused with PC_DLP_EXFILTRATION when its arguments carry a secret-shaped value,
 * a configured sensitive field or an administrator pattern (dlp.arguments.secrets: block, the default).
 *
 * The same request's `params._meta` is inspected with the arguments. A prompt's arguments
 * (prompts/get) and a completion's argument value and context (completion/complete) are inspected the same way for every server: nothing says where a server sends
 * them. So is what the client puts in every other method bound for a server — `_meta`, a list cursor,
 * a resource URI, a custom method's params — one code path, `Dlp.inspectArguments`.
 *
 * Also here: a client's answers to a server's requests that travel as a new request in the modern era
 * (`inputResponses`, spec 2026-07-28 multi-round-trip) are inspected like the answers a legacy client
 * gives mid-call (src/dlp/client-guard.ts), and masked or refused the same way.
 */
import { MaskBook, type Dlp, type DlpFinding } from '../../dlp/engine.ts';
import { dlpTarget } from '../../dlp/client-guard.ts';
import type { GatewayError } from '../../errors.ts';
import type { PolicyRuntime } from '../../policy/runtime.ts';
import { isObject, type JsonObject } from '../../protocol/jsonrpc.ts';
import type { MessageContext } from '../context.ts';
import { governedCall } from './governed.ts';

export function createInspectArguments(dlp: Dlp, runtime: PolicyRuntime): (ctx: MessageContext) => GatewayError | undefined {
  const answers = (ctx: MessageContext, responses: JsonObject): JsonObject | GatewayError => {
    // Numbered apart from what the server sent (ctx.answerMaskBook): the number must not say which of its values matched.
    const outcome = dlp.inspect(responses, { ...dlpTarget(ctx), direction: 'answer' }, (ctx.answerMaskBook ??= new MaskBook()));
    if (outcome.findings.length > 0) (ctx.dlp ??= []).push(...outcome.findings);
    return 'refusal' in outcome ? outcome.refusal : outcome.value;
  };
  return function inspectArguments(ctx) {
    const route = ctx.route;
    if (route?.kind === 'upstream' && route.resume) {
      // A retry resuming a parked call (era translation): its answers go to the server mid-call.
      const checked = answers(ctx, route.resume.inputResponses);
      if (checked instanceof Error) return checked;
      ctx.route = { ...route, resume: { ...route.resume, inputResponses: checked } };
    } else if (route?.kind === 'upstream' && isObject(route.params?.inputResponses)) {
      const checked = answers(ctx, route.params.inputResponses);
      if (checked instanceof Error) return checked;
      ctx.route = { ...route, params: { ...route.params, inputResponses: checked } };
    }
    if (route?.kind === 'broadcast') {
      // logging/setLevel to every server the caller may use: what the client put in it goes to each.
      for (const server of route.servers) {
        const refused = record(ctx, dlp.inspectArguments({}, { server, what: `the server "${server}" (${route.method})` }, clientData(route.params)));
        if (refused) return refused;
      }
      return undefined;
    }
    if (route?.kind !== 'upstream') return undefined;
    const params = route.params;
    const call = governedCall(ctx);
    const completion = 'via' in route.target && route.target.via === 'completion';
    if (call?.kind === 'prompt' || completion) {
      // A prompt's arguments and a completion's value are data for the server like a tool's arguments,
      // with no annotation to say the server keeps them: inspected as if it could reach outside.
      const more = completion ? { 'params.argument': params?.argument, 'params.context': params?.context } : {};
      const args = call?.kind === 'prompt' ? call.args : {};
      const what = `the server "${route.server}" (${completion ? 'completion/complete' : `prompt "${call?.name}"`})`;
      return record(ctx, dlp.inspectArguments(args, { server: route.server, what }, { ...more, ...clientData(params) }));
    }
    if (call?.kind === 'tool') {
      const declared = isObject(ctx.tool?.annotations) ? ctx.tool.annotations : undefined;
      if (!runtime.current.policy.annotations(call.server, call.name, declared).egress) return undefined;
      return record(ctx, dlp.inspectArguments(call.args, { server: call.server, tool: call.name }, clientData(params)));
    }
    // Every other method bound for a server (resources, lists, task follow-ups, setLevel, custom
    // methods): no annotation says where the server sends what it is given, so the client's data in it
    // is inspected as if it went outside, like a prompt's arguments. A custom method's params are all
    // the client's.
    const args = call?.kind === 'method' ? call.args : {};
    return record(ctx, dlp.inspectArguments(args, { server: route.server, what: `the server "${route.server}" (${route.method})` }, call?.kind === 'method' ? {} : clientData(params)));
  };
}

/**
 * What of a request's params, besides a tool's or prompt's arguments, is the client's own data on its
 * way to the server: `_meta` (a compromised host can put anything there) and a resource URI — opaque
 * to the gateway, readable by the server. Not a list cursor nor a modern retry's `requestState`: the
 * client can only send one the gateway issued, which the route stage exchanged for the server's own
 * (routing/cursors.ts, routing/request-states.ts) — what travels is the server's value, not the
 * client's (a gateway state of the bridge or an approval never travels at all).
 */
function clientData(params: JsonObject | undefined): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  if (!params) return data;
  for (const field of ['_meta', 'uri']) if (params[field] !== undefined) data[`params.${field}`] = params[field];
  return data;
}

function record(ctx: MessageContext, outcome: { findings: DlpFinding[]; refusal?: GatewayError }): GatewayError | undefined {
  if (outcome.findings.length > 0) (ctx.dlp ??= []).push(...outcome.findings);
  return outcome.refusal;
}

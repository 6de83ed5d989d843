/**
 * The `inspectArguments` stage (data-loss prevention, request side): a tools/call to a tool that can
 * reach outside (its effective `egress`: the attested annotation, else openWorldHint, which MCP
 * defaults to true) is refused with PC_DLP_EXFILTRATION when its arguments carry a secret-shaped value,
 * a configured sensitive field or an administrator pattern (dlp.arguments.secrets: block, the default).
 *
 * Also here: a client's answers to a server's requests that travel as a new request in the modern era
 * (`inputResponses`, spec 2026-07-28 multi-round-trip) are inspected like the answers a legacy client
 * gives mid-call (src/dlp/client-guard.ts), and masked or refused the same way.
 */
import { MaskBook, type Dlp } from '../../dlp/engine.ts';
import { dlpTarget } from '../../dlp/client-guard.ts';
import type { GatewayError } from '../../errors.ts';
import type { PolicyRuntime } from '../../policy/runtime.ts';
import { isObject, type JsonObject } from '../../protocol/jsonrpc.ts';
import type { MessageContext } from '../context.ts';
import { governedCall } from './governed.ts';

export function createInspectArguments(dlp: Dlp, runtime: PolicyRuntime): (ctx: MessageContext) => GatewayError | undefined {
  const answers = (ctx: MessageContext, responses: JsonObject): JsonObject | GatewayError => {
    const outcome = dlp.inspect(responses, { ...dlpTarget(ctx), direction: 'answer' }, (ctx.maskBook ??= new MaskBook()));
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
    const call = governedCall(ctx);
    if (!call || call.kind !== 'tool') return undefined;
    const declared = isObject(ctx.tool?.annotations) ? ctx.tool.annotations : undefined;
    if (!runtime.current.policy.annotations(call.server, call.name, declared).egress) return undefined;
    const { findings, refusal } = dlp.inspectArguments(call.args, { server: call.server, tool: call.name });
    if (findings.length > 0) (ctx.dlp ??= []).push(...findings);
    return refusal;
  };
}

/**
 * The `toxicFlow` stage: labels a tools/call with its tool's toxic-flow labels (for the audit record,
 * which the monitor reads), and with `monitor.detectors.toxicFlow.enforce: block` refuses what would
 * carry the client's data to a server that can send it out when the same session or the same
 * principal (within the window) has read private data: PC_POLICY_TOXIC_FLOW. Only when the monitor
 * tracks flows. Judged by one rule, wherever client data travels to such a server:
 * - a call to an `egress` tool;
 * - `prompts/get` and `completion/complete` to a server with an `egress` tool (their arguments reach
 *   it verbatim);
 * - the client's answers to the server→client requests (sampling, elicitation) of an egress call that
 *   started before the private read: judged when the answer arrives (`ctx.judgeEgress`, used by forward).
 * Private reads: calls to tools attested `private`, and `resources/read` and `prompts/get` on a server
 * that holds private data (one of its tools is attested `private`).
 * A private read counts from when it starts (its intent record; see the monitor), not when it ends:
 * its data may reach the client in progress or log notifications before its result.
 *
 * Not judged: whether the data actually travels (the arguments are not compared with what was read);
 * the label sequence is the signal, as in the "lethal trifecta" of private data, untrusted content and
 * a way out.
 */
import { GatewayError } from '../../errors.ts';
import { flowKeys, sessionHashOf, type FlowTracker } from '../../monitor/flows.ts';
import { callerIdentity } from '../../auth/principal.ts';
import type { PolicyRuntime } from '../../policy/runtime.ts';
import { isObject, type JsonObject } from '../../protocol/jsonrpc.ts';
import type { MessageContext } from '../context.ts';
import { followUp, governedCall } from './governed.ts';

/** Methods other than tools/call whose params carry client data to the server verbatim. */
const CARRIES_CLIENT_DATA: ReadonlySet<string> = new Set(['prompts/get', 'completion/complete']);

export interface ToxicFlowDeps {
  runtime: PolicyRuntime;
  flows: FlowTracker | undefined;
  block: boolean;
  now: () => Date;
  /** The tools a server lists (reviewed catalog), to tell whether it has a way out. */
  serverTools?: ((server: string) => JsonObject[] | Promise<JsonObject[]>) | undefined;
}

export function createToxicFlow(deps: ToxicFlowDeps): (ctx: MessageContext) => GatewayError | undefined | Promise<GatewayError | undefined> {
  const { runtime, flows, block, now, serverTools } = deps;
  const annotationsOf = (server: string, tool: string, declared: unknown) => runtime.current.policy.annotations(server, tool, isObject(declared) ? declared : undefined);

  /** The refusal when this caller's flows read private data within the window; `what` is what would carry it out. */
  const judge = (ctx: MessageContext, what: string): GatewayError | undefined => {
    const read = flows!.seen(flowKeys(sessionHashOf(ctx.client.key), callerIdentity(ctx.principal)), 'private', now().getTime());
    if (!read) return undefined;
    return new GatewayError(
      'PC_POLICY_TOXIC_FLOW',
      `refused: ${what} can send data out, and this session read private data with ${read.tool} (monitor.detectors.toxicFlow.enforce: block)`,
      { after: read.tool },
    );
  };

  async function serverCanSendOut(server: string): Promise<boolean> {
    // Fail closed: a server whose tools cannot be listed is taken as one that can send data out.
    const tools = await Promise.resolve(serverTools?.(server)).catch(() => undefined);
    if (!tools) return true;
    return tools.some((tool) => typeof tool.name === 'string' && annotationsOf(server, tool.name, tool.annotations).egress);
  }

  return function toxicFlow(ctx) {
    if (!flows) return undefined;
    const call = governedCall(ctx);
    if (!call || call.kind !== 'tool') {
      const server = call?.server ?? followUp(ctx)?.server;
      // A resource or prompt of a server that holds private data reads that data as its tools do.
      if (call && (call.kind === 'resource' || call.kind === 'prompt') && runtime.current.policy.holdsPrivateData(call.server)) ctx.labels = ['private'];
      if (!block || server === undefined || !CARRIES_CLIENT_DATA.has(ctx.request.method)) return undefined;
      const refusal = judge(ctx, `${ctx.request.method} to server "${server}"`);
      if (!refusal) return undefined;
      return serverCanSendOut(server).then((out) => (out ? refusal : undefined));
    }
    const a = annotationsOf(call.server, call.name, ctx.tool?.annotations);
    const labels: string[] = [];
    if (a.private) labels.push('private');
    if (a.untrusted) labels.push('untrusted');
    if (a.egress) labels.push('egress');
    if (labels.length > 0) ctx.labels = labels;
    if (!block || !a.egress) return undefined;
    const what = `${call.server}.${call.name}`;
    // The call may outlive a private read that starts after it: what the client hands it later is judged then.
    ctx.judgeEgress = () => judge(ctx, what);
    return judge(ctx, what);
  };
}

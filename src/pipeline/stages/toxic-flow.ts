/**
 * The `toxicFlow` stage: labels a tools/call with its tool's toxic-flow labels (for the audit record,
 * which the monitor reads), and with `monitor.detectors.toxicFlow.enforce: block` refuses a call to a
 * tool that can send data out when the same session or the same principal (within the window) has
 * read private data: PC_POLICY_TOXIC_FLOW. Only when the monitor tracks flows.
 *
 * Not judged: whether the data actually travels (the arguments are not compared with what was read);
 * the label sequence is the signal, as in the "lethal trifecta" of private data, untrusted content and
 * a way out.
 */
import { GatewayError } from '../../errors.ts';
import { flowKeys, sessionHashOf, type FlowTracker } from '../../monitor/flows.ts';
import type { PolicyRuntime } from '../../policy/runtime.ts';
import { isObject } from '../../protocol/jsonrpc.ts';
import type { MessageContext } from '../context.ts';
import { governedCall } from './governed.ts';

export function createToxicFlow(deps: { runtime: PolicyRuntime; flows: FlowTracker | undefined; block: boolean; now: () => Date }): (ctx: MessageContext) => GatewayError | undefined {
  const { runtime, flows, block, now } = deps;
  return function toxicFlow(ctx) {
    if (!flows) return undefined;
    const call = governedCall(ctx);
    if (!call || call.kind !== 'tool') return undefined;
    const declared = isObject(ctx.tool?.annotations) ? ctx.tool.annotations : undefined;
    const a = runtime.current.policy.annotations(call.server, call.name, declared);
    const labels: string[] = [];
    if (a.private) labels.push('private');
    if (a.untrusted) labels.push('untrusted');
    if (a.egress) labels.push('egress');
    if (labels.length > 0) ctx.labels = labels;
    if (!block || !a.egress) return undefined;
    const read = flows.seen(flowKeys(sessionHashOf(ctx.client.key), ctx.principal), 'private', now().getTime());
    if (!read) return undefined;
    return new GatewayError(
      'PC_POLICY_TOXIC_FLOW',
      `refused: ${call.server}.${call.name} can send data out, and this session read private data with ${read.tool} (monitor.detectors.toxicFlow.enforce: block)`,
      { after: read.tool },
    );
  };
}

/** The `killSwitch` stage: a switch on everything, the server, the tool or the agent stops the call. */
import { GatewayError } from '../../errors.ts';
import type { KillSwitchStore } from '../../killswitch/store.ts';
import type { MessageContext } from '../context.ts';
import { governedCall } from './governed.ts';

export function createKillSwitch(store: KillSwitchStore): (ctx: MessageContext) => GatewayError | undefined {
  return function killSwitch(ctx) {
    const call = governedCall(ctx);
    if (!call) return undefined;
    const stop = store.stops(call.server, call.kind === 'tool' ? call.name : undefined, ctx.principal.agent);
    if (!stop) return undefined;
    return new GatewayError('PC_KILL_SWITCH', `stopped by the kill switch on ${stop.target}: ${stop.reason}`, { reason: stop.reason });
  };
}

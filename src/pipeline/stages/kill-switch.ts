/**
 * The `killSwitch` stage: a switch on everything, a server, a tool or an agent stops every message
 * bound for what it covers — calls, lists, completions, task follow-ups, custom methods, resumed
 * calls (a resume is an upstream route like the call it continues), `logging/setLevel` — not only tool calls. Only what the gateway answers itself (`ping`,
 * `server/discover`) goes on. It runs twice: before route (nothing, not even a catalog look-up, is
 * spent on a stopped agent or server) and after it (the tool the target names). A broadcast loses the servers that are stopped; an aggregated list is
 * stopped for a stopped agent or `--all`, and otherwise loses the stopped servers' items (authorize).
 */
import { GatewayError } from '../../errors.ts';
import type { Caller, KillSwitchStore } from '../../killswitch/store.ts';
import type { MessageContext } from '../context.ts';
import { STATE_PREFIX } from '../input-bridge.ts';

/** Requests the gateway answers itself (route makes them local), which no switch stops. */
const ANSWERED_LOCALLY: ReadonlySet<string> = new Set(['ping', 'server/discover']);

/**
 * Requests that only stop work already started: a switch must not keep a caller from cancelling its task
 * or dropping its subscription (the server would go on with both). Ownership is still checked (forward).
 */
const STOPS_WORK: ReadonlySet<string> = new Set(['tasks/cancel', 'resources/unsubscribe']);

/** Matches no configured server: asks only about `--all` and agent switches. */
const NO_SERVER = '';

export function createKillSwitch(store: KillSwitchStore): (ctx: MessageContext) => GatewayError | undefined {
  const refusal = (stop: { reason: string; target: string }): GatewayError =>
    new GatewayError('PC_KILL_SWITCH', `stopped by the kill switch on ${stop.target}: ${stop.reason}`, { reason: stop.reason });

  // One look at the file serves both runs of this stage and the approval hold of a call (store.ts).
  const stops = (server: string, tool: string | undefined, caller: Caller) => {
    store.refreshOncePerTurn();
    return store.stops(server, tool, caller, false);
  };

  return function killSwitch(ctx) {
    if (STOPS_WORK.has(ctx.request.method)) return undefined;
    const route = ctx.route;
    const caller: Caller = ctx.principal;
    switch (route?.kind) {
      case undefined: {
        // Before route: what can be stopped without resolving a target (`--all`, the agent, the server
        // of /mcp/<server>), so that not even a catalog look-up reaches a stopped server.
        if (ANSWERED_LOCALLY.has(ctx.request.method)) return undefined;
        // A retry resuming a parked call is stopped after route, which takes the parked call first, so
        // that the refusal also cancels it upstream (input-bridge.ts) instead of leaving it parked.
        const state = ctx.request.params?.requestState;
        if (typeof state === 'string' && state.startsWith(STATE_PREFIX)) return undefined;
        const stop = stops(ctx.endpoint.kind === 'server' ? ctx.endpoint.server : NO_SERVER, undefined, caller);
        return stop ? refusal(stop) : undefined;
      }
      case 'local':
        return undefined;
      case 'upstream': {
        const tool = route.target.kind === 'tool' ? route.target.name : undefined;
        const stop = stops(route.server, tool, caller);
        return stop ? refusal(stop) : undefined;
      }
      case 'aggregate-list': {
        const stop = stops(NO_SERVER, undefined, caller);
        return stop ? refusal(stop) : undefined;
      }
      case 'broadcast': {
        const stop = stops(NO_SERVER, undefined, caller);
        if (stop) return refusal(stop);
        route.servers = route.servers.filter((server) => !store.stops(server, undefined, caller, false));
        return undefined;
      }
    }
  };
}

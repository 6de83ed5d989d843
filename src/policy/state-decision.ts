/**
 * How the gateway decides on a governed call with its own state in view — the one path the running
 * gateway (pipeline/stages/authorize.ts) and the dry run (`portcullis policy test`) take, so that the
 * dry run says what the gateway does for the same configuration:
 * - the state of the configuration (./gateway-state.ts): its data dir, configuration file, secret
 *   files and audit store, read with each server's own HOME for `~`;
 * - a call to a server that can reach that state (its directory holds it) that names it: refused
 *   before any rule, in monitor mode too; a directory holding state counts for a tool not marked
 *   read-only (`mutating`);
 * - then the policy, compiled with the same state so its path guards refuse paths into it.
 */
import type { Config } from '../config/schema.ts';
import type { Maybe } from '../util/maybe.ts';
import { exposures, gatewayStateOf, serverBases, serverReadBases, type Exposure, type GatewayState } from './gateway-state.ts';
import { useServerHomes } from './path-guard.ts';
import type { CallFacts, CompileOptions, Decision, Policy } from './policy.ts';

export interface StateGuard {
  state: GatewayState;
  /** Servers whose directories hold state, with the bases their arguments are read against. */
  exposed: ReadonlyMap<string, readonly string[]>;
  /** What the gateway warns about at start (the same list). */
  exposures: readonly Exposure[];
}

/** The state guard of a configuration (`configFile`: absolute, as `serve -c` and `stdio -c` pass it). */
export function stateGuardOf(config: Config, dataDir: string, configFile?: string): StateGuard {
  // `~` in paths is read with the HOME each server is given (path-guard.ts).
  useServerHomes(config.servers);
  const state = gatewayStateOf(config, dataDir, configFile);
  const found = exposures(config, state);
  const exposed = new Map<string, string[]>();
  for (const exposure of found) if (exposure.server) exposed.set(exposure.server, serverBases(config, exposure.server));
  return { state, exposed, exposures: found };
}

/** The policy's compile options with the state in view (the rest as the caller knows its catalog). */
export function compileOptionsWith(config: Pick<Config, 'servers'>, guard: StateGuard, rest: Omit<CompileOptions, 'servers' | 'gatewayState'>): CompileOptions {
  return { ...rest, servers: Object.keys(config.servers), gatewayState: guard.state, serverBases: (server) => serverReadBases(config, server) };
}

/**
 * The refusal (PC_POLICY_GATEWAY_STATE, no rule: monitor mode does not relax it) of a call to a server
 * that can reach the gateway's state and names it, or undefined.
 */
export function stateDenial(policy: Policy, guard: StateGuard | undefined, call: Pick<CallFacts, 'server' | 'kind' | 'name' | 'args' | 'declared'>): Decision | undefined {
  const bases = guard?.exposed.get(call.server);
  if (!bases) return undefined;
  // A tool not marked read-only may move or delete what it names: a directory holding state counts.
  const mutating = call.kind === 'tool' && !policy.annotations(call.server, call.name, call.declared).readOnly;
  const problem = guard!.state.argsProblem(call.kind === 'resource' ? { uri: call.name, ...call.args } : call.args, bases, mutating);
  if (!problem) return undefined;
  return { effect: 'deny', code: 'PC_POLICY_GATEWAY_STATE', reason: `${call.kind} "${call.name}" of server "${call.server}" denied: ${problem}` };
}

/** The decision on a governed call as the gateway takes it: the state first, then the policy. */
export function decideGoverned(policy: Policy, guard: StateGuard | undefined, facts: CallFacts): Maybe<Decision> {
  return stateDenial(policy, guard, facts) ?? policy.decide(facts);
}

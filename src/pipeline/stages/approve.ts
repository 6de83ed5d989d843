/**
 * The `approve` stage: a call the policy allows only with a human's approval. There is no approval
 * flow yet, so such a call is refused and says what it waits for (in `mode: monitor` it goes on).
 */
import { GatewayError } from '../../errors.ts';
import type { PolicyRuntime } from '../../policy/runtime.ts';
import type { MessageContext } from '../context.ts';

export function createApprove(runtime: PolicyRuntime): (ctx: MessageContext) => GatewayError | undefined {
  return function approve(ctx) {
    const decision = ctx.decision;
    if (decision?.effect !== 'approve') return undefined;
    if (runtime.current.policy.mode === 'monitor') {
      ctx.decision = { ...decision, monitored: true };
      return undefined;
    }
    return new GatewayError('PC_POLICY_APPROVAL_REQUIRED', `${decision.reason}; approvals are not available in this version, so the call is refused`, {
      rule: decision.rule,
      reason: decision.reason,
    });
  };
}

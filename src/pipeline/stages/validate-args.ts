/**
 * The `validateArgs` stage: the arguments of a tools/call are no larger than the policy allows and match
 * the tool's inputSchema (the definition the catalog holds, which the supply-chain guard pinned). A tool
 * whose schema cannot be used (see ArgumentValidator.unsafe) is refused whatever its arguments.
 */
import { GatewayError } from '../../errors.ts';
import type { PolicyRuntime } from '../../policy/runtime.ts';
import type { ArgumentValidator } from '../../validate/args.ts';
import type { MessageContext } from '../context.ts';
import { governedCall } from './governed.ts';

export function createValidateArgs(runtime: PolicyRuntime, validator: ArgumentValidator): (ctx: MessageContext) => GatewayError | undefined {
  return function validateArgs(ctx) {
    const call = governedCall(ctx);
    if (!call || call.kind === 'resource') return undefined;
    const max = runtime.current.maxArgumentBytes;
    const size = Buffer.byteLength(JSON.stringify(call.args));
    if (size > max) return new GatewayError('PC_ARGS_TOO_LARGE', `the arguments are ${size} bytes; the policy allows at most ${max} (policy.maxArgumentBytes)`, { limit: max });
    if (call.kind !== 'tool' || !ctx.tool) return undefined;
    const problem = validator.check(ctx.tool.inputSchema, call.args);
    if (!problem) return undefined;
    if ('unsafe' in problem) return new GatewayError('PC_ARGS_SCHEMA_UNSAFE', `${call.name}: ${problem.unsafe}`, { tool: call.name });
    return new GatewayError('PC_ARGS_INVALID', `${call.name}: ${problem.invalid}`, { tool: call.name });
  };
}

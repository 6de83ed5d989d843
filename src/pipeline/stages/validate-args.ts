/**
 * The `validateArgs` stage: the arguments of a tools/call are no larger than the policy allows and match
 * the tool's inputSchema (the definition the catalog holds, which the supply-chain guard pinned). A tool
 * whose schema cannot be used (see ArgumentValidator.unsafe) is refused whatever its arguments, and a key
 * that is a declared name only to a server binding names loosely (`PATH` for `path`: folded-names.ts).
 */
import { GatewayError } from '../../errors.ts';
import type { PolicyRuntime } from '../../policy/runtime.ts';
import type { ArgumentValidator } from '../../validate/args.ts';
import { foldedVariant } from '../../validate/folded-names.ts';
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
    const variant = foldedVariant(ctx.tool.inputSchema, call.args);
    if (variant) {
      return new GatewayError(
        'PC_PROTOCOL_AMBIGUOUS',
        `${call.name}: ${variant.where} has the key ${JSON.stringify(variant.key)}, which is the tool's declared ${JSON.stringify(variant.declared)} to a server that binds names without case or Unicode compatibility forms (Go's encoding/json, .NET, alias binders) but no ${JSON.stringify(variant.declared)} to the rules; send it as ${JSON.stringify(variant.declared)}`,
        { tool: call.name, where: variant.where, keys: [variant.key, variant.declared] },
      );
    }
    const problem = validator.check(ctx.tool.inputSchema, call.args);
    if (!problem) return undefined;
    if ('unsafe' in problem) return new GatewayError('PC_ARGS_SCHEMA_UNSAFE', `${call.name}: ${problem.unsafe}`, { tool: call.name });
    return new GatewayError('PC_ARGS_INVALID', `${call.name}: ${problem.invalid}`, { tool: call.name });
  };
}

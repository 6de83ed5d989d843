/**
 * The `inspect` and `redact` response stages, in one walk (data-loss prevention, src/dlp): every string
 * of what a server answered — content text, embedded resources, structuredContent at any depth,
 * resources/read contents, prompts/get messages, input requests, and a server's error message — is
 * inspected; findings are masked, blocked (PC_DLP_BLOCKED: nothing of the result leaves), recorded, or
 * wrapped as untrusted data, per dlp configuration for the server and tool. Masked structured content
 * must still satisfy the tool's outputSchema, or the result is blocked with the reason.
 *
 * Not inspected here: list results (their items are screened for secrets after the supply-chain review,
 * src/dlp/listing.ts), discovery results, and the gateway's own answers. Binary data (`blob`, image and
 * audio `data`) is read for its printable runs (src/dlp/binary-text.ts).
 */
import { dlpTarget } from '../../dlp/client-guard.ts';
import { MaskBook, type Dlp } from '../../dlp/engine.ts';
import type { JsonObject } from '../../protocol/jsonrpc.ts';
import type { MessageContext, Outcome } from '../context.ts';

/** JSON-RPC's "Internal error", in place of an error code that held a finding. */
const INTERNAL_ERROR = -32603;

const NOT_INSPECTED: ReadonlySet<string> = new Set(['tools/list', 'prompts/list', 'resources/list', 'resources/templates/list', 'server/discover', 'initialize', 'ping']);

export function createInspectResult(dlp: Dlp): (ctx: MessageContext, outcome: Outcome) => Outcome {
  return function inspectResult(ctx, outcome) {
    const route = ctx.route;
    if (route?.kind !== 'upstream' || NOT_INSPECTED.has(ctx.request.method)) return outcome;
    if ('error' in outcome) return outcome;
    const target = dlpTarget(ctx);
    const book = (ctx.maskBook ??= new MaskBook());
    const message: JsonObject = 'result' in outcome ? outcome.result : { error: outcome.upstreamError as unknown as JsonObject };
    const inspected = dlp.inspect(message, { ...target, direction: 'result', outputSchema: ctx.request.method === 'tools/call' ? ctx.tool?.outputSchema : undefined }, book);
    if (inspected.findings.length > 0) (ctx.dlp ??= []).push(...inspected.findings);
    if ('refusal' in inspected) return { error: inspected.refusal };
    if (!inspected.changed) return outcome;
    if ('result' in outcome) return { result: inspected.value };
    const error = inspected.value.error as unknown as typeof outcome.upstreamError;
    // A field whose type the protocol fixes stays valid: a masked code (a card number the server put
    // there) would be a string, which a strict client rejects as a malformed response.
    if (!Number.isInteger(error.code)) return { upstreamError: { ...error, code: INTERNAL_ERROR } };
    return { upstreamError: error };
  };
}

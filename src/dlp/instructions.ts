/**
 * A server's `instructions` (its initialize result) as DLP lets them reach a caller (red team D6). They
 * are text the server writes for the model, read before any call, so they are screened like a result:
 * every detector under the server's results actions, injected instructions included (the supply-chain
 * review judges them for poisoning first; this is the screen every result gets). A secret is masked
 * (`mask`), the text wrapped as untrusted data (`wrap`), or the instructions left out (`block`, or text
 * that cannot be inspected in full), with a log line saying why; `alert` and `flag` log and pass.
 * Who may see them at all is routing/describe.ts's to decide.
 */
import type { Logger } from 'pino';
import type { Dlp } from './engine.ts';

export type InstructionsScreen = (server: string, instructions: string) => string | undefined;

export function createInstructionsScreen(dlp: Dlp, logger: Logger): InstructionsScreen {
  return function screenInstructions(server, instructions) {
    const inspected = dlp.inspect({ instructions }, { server, tool: undefined, direction: 'initialize' });
    if ('refusal' in inspected) {
      logger.warn({ server, findings: inspected.findings }, `the server's instructions were left out of initialize: ${inspected.refusal.message}`);
      return undefined;
    }
    const out = inspected.value.instructions;
    return typeof out === 'string' ? out : undefined;
  };
}

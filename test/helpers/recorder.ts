/**
 * What a stdio server received, as the recording wrapper (test/fixtures/recording-wrapper.ts) logged it:
 * the assertion a security test makes on the server's side. Built on recorded.ts.
 */
import { received as receivedBy, recording } from './recorded.ts';

export { RECORDER } from './recorded.ts';

/** A stdio server entry that runs `script args…` behind the recorder (pinned to the script), and where its log goes. */
export function recordedServer(script: string, args: string[] = [], extra: Record<string, unknown> = {}): { log: string; server: Record<string, unknown> } {
  const { log, server } = recording(script, args, extra);
  return { log, server };
}

/** Every JSON-RPC message the server behind `log` received, in order. */
export const received = (log: string): Array<Record<string, any>> => receivedBy(log);

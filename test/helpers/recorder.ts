/**
 * What a stdio server received, as the recording wrapper (test/fixtures/recording-wrapper.ts) logged it:
 * the assertion a security test makes on the server's side.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pinned } from './security.ts';

export const RECORDER = new URL('../fixtures/recording-wrapper.ts', import.meta.url).pathname;

/** A stdio server entry that runs `script args…` behind the recorder (pinned to the script), and where its log goes. */
export function recordedServer(script: string, args: string[] = [], extra: Record<string, unknown> = {}): { log: string; server: Record<string, unknown> } {
  const log = join(mkdtempSync(join(tmpdir(), 'pc-rec-')), 'received.jsonl');
  return { log, server: { ...pinned({ command: process.execPath, args: [RECORDER, log, process.execPath, script, ...args] }), ...extra } };
}

/** Every JSON-RPC message the server behind `log` received, in order. */
export function received(log: string): Array<Record<string, any>> {
  if (!existsSync(log)) return [];
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, any>);
}

/**
 * One definition scanned alone, as a single listing is (no catalogue of other servers): what the tests
 * of the scanner's signals, families and verdicts ask of it (test/inspect/scanner-*.test.ts).
 */
import { scanDefinition, verdictOf, walkDefinition, type Definition } from '../../src/inspect/scanner.ts';
import { definitionSignals, type Family } from '../../src/inspect/signals.ts';

export function scanningAlone(server: string) {
  const alone = { server, siblings: new Set<string>(), others: new Map<string, ReadonlySet<string>>() };
  /** The signal layer's reading; `siblings` are tool names of the same server. */
  const signals = (d: Definition, siblings: string[] = []) => definitionSignals(d, walkDefinition(d).texts, { ...alone, siblings: new Set(siblings) });
  return {
    alone,
    signals,
    families: (d: Definition, siblings: string[] = []): Set<Family> => new Set(signals(d, siblings).families.keys()),
    cues: (d: Definition): Set<string> => new Set(signals(d).hits.map((h) => h.cue)),
    findings: (d: Definition) => scanDefinition(d, alone),
    /** 'high', 'warn' or 'ok'. */
    verdict: (d: Definition): string => verdictOf(scanDefinition(d, alone)),
  };
}

/** A tool definition: `name`, `description` and an object input schema of `properties`. */
export const toolDefinition = (name: string, description: string, properties: Record<string, unknown> = {}): Definition => ({
  name,
  description,
  inputSchema: { type: 'object', properties },
});

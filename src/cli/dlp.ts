/**
 * `portcullis dlp test --text "…" [--json]`: what data-loss prevention would find in a text and what the
 * configuration (`-c`, or the defaults) would do with each finding, for the server and tool given. The
 * text is the caller's own; the report shows where each finding is and the masked text.
 */
import { readFileSync } from 'node:fs';
import { Dlp } from '../dlp/engine.ts';
import { dlpProblems } from '../dlp/create.ts';
import { formatProblems, loadForRun } from './config-source.ts';
import type { Io } from './serve.ts';

export interface DlpTestOptions {
  text?: string;
  file?: string;
  config?: string;
  server?: string;
  tool?: string;
  json?: boolean;
}

export function dlpTest(options: DlpTestOptions, io: Pick<Io, 'out' | 'err' | 'secrets'>): number {
  if ((options.text === undefined) === (options.file === undefined)) {
    io.err('portcullis dlp test: give the text to inspect with --text "…" or --file <path> (one of them)\n');
    return 2;
  }
  let text: string;
  try {
    text = options.text ?? readFileSync(options.file!, 'utf8');
  } catch (error) {
    io.err(`portcullis dlp test: cannot read ${options.file}: ${(error as Error).message}\n`);
    return 2;
  }
  const loaded = loadForRun(options.config, undefined, io.secrets);
  if (!loaded.ok) {
    io.err(`portcullis: ${loaded.source} is invalid:\n${formatProblems(loaded.problems)}\n`);
    return 2;
  }
  const dlp = new Dlp(loaded.config.dlp, io.secrets);
  const problems = dlpProblems(loaded.config, dlp);
  if (problems.length > 0) {
    io.err(`portcullis: ${loaded.source} is invalid:\n${problems.map((p) => `  error   ${p.path.join('.')}: ${p.message}`).join('\n')}\n`);
    return 2;
  }
  // An override is looked up by name: a misspelt server would silently show the defaults instead.
  const servers = Object.keys(loaded.config.servers);
  if (options.server !== undefined && !servers.includes(options.server)) {
    io.err(`portcullis dlp test: --server "${options.server}" is not a server of ${loaded.source} (servers: ${servers.join(', ') || 'none'})\n`);
    return 2;
  }
  if (options.tool !== undefined && options.server === undefined) {
    io.err('portcullis dlp test: --tool needs --server (tool overrides live under dlp.servers.<server>.tools)\n');
    return 2;
  }
  const report = dlp.test(text, options.server, options.tool);
  const findings = report.findings.map((f) => ({ type: f.type, rule: f.rule, label: f.label, start: f.start, end: f.end, action: f.action }));
  if (options.json) {
    io.out(`${JSON.stringify({ findings, masked: report.masked, ...(report.uninspectable ? { uninspectable: report.uninspectable } : {}) }, null, 2)}\n`);
  } else {
    if (findings.length === 0) io.out('nothing found\n');
    for (const f of findings) io.out(`${f.type.padEnd(9)} ${f.rule.padEnd(40)} chars ${f.start}-${f.end}  → ${f.action}\n`);
    if (report.uninspectable) io.out(`uninspectable: ${report.uninspectable} (the message would be blocked)\n`);
    if (findings.some((f) => f.action === 'mask')) io.out(`\nmasked:\n${report.masked}\n`);
  }
  return findings.length > 0 || report.uninspectable ? 1 : 0;
}

/**
 * The discovery report as text (for a person), and as SARIF 2.1.0 (for code-scanning dashboards).
 * The JSON form is the report itself. None of them can hold a secret: the report never had one.
 */
import { pathToFileURL } from 'node:url';
import { VERSION } from '../version.ts';
import { displayPath, type DiscoveryReport, type ServerReport } from './discover.ts';
import type { Finding, Severity } from './findings.ts';

const target = (s: ServerReport): string => (s.command !== null ? [s.command, ...s.args].join(' ') : (s.url ?? '?'));

function supplyLine(s: ServerReport): string {
  const p = s.supply;
  const gateway = p.gateway ? `; in this gateway as "${p.gateway.server}"${p.gateway.pinned ? ', pinned' : ', not pinned'}` : '';
  switch (p.kind) {
    case 'npm':
    case 'pypi':
      return `${p.kind} ${p.package ?? '?'}${p.version ? `@${p.version}` : ''} via ${p.runner} — ${p.exact ? 'exact version' : 'UNPINNED'}${gateway}`;
    case 'oci':
      return `image ${p.image} — ${p.exact ? 'by digest' : 'by tag (UNPINNED)'}${gateway}`;
    case 'local':
      return `local file ${p.file}${p.sha256 ? ` sha256 ${p.sha256}` : ' (not found)'}${gateway}`;
    case 'remote':
      return `remote ${s.transport}${gateway}`;
    default:
      return `command${gateway}`;
  }
}

const MARK: Record<Severity, string> = { critical: 'CRIT', high: 'HIGH', medium: 'MED ', low: 'LOW ', info: 'info' };
const findingLine = (f: Finding, indent: string): string => `${indent}${MARK[f.severity]}  ${f.id}: ${f.message}`;

export function formatText(report: DiscoveryReport, home: string, minimum: Severity = 'info'): string {
  const order: Severity[] = ['critical', 'high', 'medium', 'low', 'info'];
  const shown = (f: Finding): boolean => order.indexOf(f.severity) <= order.indexOf(minimum);
  const lines: string[] = [];
  for (const file of report.clients) {
    lines.push(`${file.client}  ${file.scope}  ${displayPath(file.path, home)}${file.mode ? `  (mode ${file.mode})` : ''}`);
    for (const f of file.findings.filter(shown)) lines.push(findingLine(f, '    '));
    for (const s of file.servers) {
      lines.push(`  ${s.name}${s.scope !== file.scope ? ` [${s.scope}${s.project ? ` ${displayPath(s.project, home)}` : ''}]` : ''}  ${s.transport}  ${target(s)}${s.throughGateway ? '  ✓ through Portcullis' : ''}${s.disabled ? '  (disabled)' : ''}`);
      lines.push(`      supply: ${supplyLine(s)}`);
      for (const c of s.credentials) {
        lines.push(`      credential: ${c.where}  ${c.literal ? `LITERAL ${c.kind} ${c.fingerprint}${c.ageDays !== null ? `  ≥${c.ageDays}d${c.ageFrom === 'token' ? ' (issued)' : ' (file)'}` : ''}` : `reference ${c.reference ?? c.kind}`}`);
      }
      for (const f of s.findings.filter(shown)) lines.push(findingLine(f, '      '));
    }
  }
  const sum = report.summary;
  if (report.clients.length === 0) lines.push('No MCP client configuration found.');
  lines.push('');
  lines.push(`${sum.servers} server${sum.servers === 1 ? '' : 's'} in ${sum.files} file${sum.files === 1 ? '' : 's'} (${sum.clients.join(', ') || 'no clients'}); ${sum.throughGateway} through Portcullis; ${sum.literalSecrets} literal secret${sum.literalSecrets === 1 ? '' : 's'}; ${sum.unpinned} unpinned`);
  lines.push(`findings: ${order.map((s) => `${sum.findings[s]} ${s}`).join(', ')}`);
  return `${lines.join('\n')}\n`;
}

const LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = { critical: 'error', high: 'error', medium: 'warning', low: 'note', info: 'note' };
/** GitHub code scanning reads a 0-10 score from this property. */
const SCORE: Record<Severity, string> = { critical: '9.5', high: '8.0', medium: '5.0', low: '2.0', info: '0.0' };

export function formatSarif(report: DiscoveryReport): unknown {
  const results: unknown[] = [];
  const rules = new Map<string, Severity>();
  const add = (f: Finding, path: string, logical: string): void => {
    if (!rules.has(f.id)) rules.set(f.id, f.severity);
    results.push({
      ruleId: f.id,
      level: LEVEL[f.severity],
      message: { text: `${logical}: ${f.message}` },
      locations: [{ physicalLocation: { artifactLocation: { uri: pathToFileURL(path).href } }, logicalLocations: [{ fullyQualifiedName: logical, kind: 'member' }] }],
      properties: { severity: f.severity },
    });
  };
  for (const file of report.clients) {
    for (const f of file.findings) add(f, file.path, `${file.client}`);
    for (const s of file.servers) for (const f of s.findings) add(f, file.path, `${file.client}/${s.name}`);
  }
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'portcullis-discover',
            version: VERSION,
            informationUri: 'https://github.com/portcullis/portcullis',
            rules: [...rules].map(([id, severity]) => ({ id, defaultConfiguration: { level: LEVEL[severity] }, properties: { 'security-severity': SCORE[severity] } })),
          },
        },
        results,
      },
    ],
  };
}

/**
 * Risk findings for one server entry (shared/reference/client-configs.md §12), each with a stable id
 * and a severity. Messages name kinds, places and fingerprints, never a secret's value.
 */
import { isLoopbackHost } from '../config/names.ts';
import { isSecretRef } from '../config/secrets.ts';
import { unpinnedCode } from '../supply/launch.ts';
import { referencesIn } from './secret-kinds.ts';
import type { CredentialReport } from './credentials.ts';
import type { ServerEntry } from './entries.ts';
import type { Supply } from './supply.ts';

export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface Finding {
  id: string;
  severity: Severity;
  message: string;
}

export const severityRank = (s: Severity): number => SEVERITIES.length - SEVERITIES.indexOf(s);

/** Arguments that hand a filesystem server the whole disk or the whole home folder. */
function broadRoots(entry: ServerEntry, home: string): string[] {
  const isFilesystem = [entry.command ?? '', ...entry.args].some((a) => /filesystem/i.test(a));
  if (!isFilesystem) return [];
  const homeish = new Set(['/', '~', '~/', '$HOME', '${HOME}', '${userHome}', 'C:\\', 'C:/', home, `${home}/`]);
  return entry.args.filter((a) => homeish.has(a) || a === '..' || a.startsWith('../') || /^[A-Za-z]:[\\/]?$/.test(a));
}

function remoteUrl(entry: ServerEntry, supply: Supply): string | undefined {
  return entry.url ?? supply.remoteUrl;
}

export interface FindingContext {
  committable: boolean;
  throughGateway: boolean;
  /** It runs something named like Portcullis' stdio front that is not this gateway (target.ts gatewayRoute). */
  gatewayLookalike?: boolean;
  home: string;
  gatewayPinned: boolean | undefined;
}

export function serverFindings(entry: ServerEntry, supply: Supply, credentials: readonly CredentialReport[], context: FindingContext): Finding[] {
  const out: Finding[] = [];
  for (const c of credentials.filter((x) => x.literal)) {
    const uncertain = c.kind === 'unknown';
    out.push({
      id: 'literal-secret',
      severity: uncertain ? 'medium' : context.committable ? 'critical' : 'high',
      message: uncertain
        ? `${c.where} holds a random-looking literal (fingerprint ${c.fingerprint}); if it is a secret, move it out of the file`
        : `${c.where} holds a static ${c.kind} (fingerprint ${c.fingerprint}${c.ageDays ? `, at least ${c.ageDays} days old` : ''})${context.committable ? ' in a file that is usually committed' : ''}; keep it in the gateway as an env: reference`,
    });
  }
  if (supply.kind === 'npm' || supply.kind === 'pypi') {
    if (!supply.exact && context.gatewayPinned !== true) {
      const spec = `${supply.package ?? '?'}${supply.version ? `@${supply.version}` : ''}`;
      out.push({ id: 'unpinned-package', severity: 'high', message: `${supply.runner} runs ${spec} without an exact version${supply.autoInstall ? ', installing whatever is newest without asking' : ''}; pin it (${supply.kind === 'npm' ? 'pkg@1.2.3' : 'pkg==1.2.3'}) and pin its integrity in the gateway` });
    }
  }
  if (supply.kind === 'oci' && !supply.exact && context.gatewayPinned !== true) {
    out.push({ id: 'image-by-tag', severity: 'high', message: `${supply.runner} runs ${supply.image} by tag; tags move — pin the image by digest (…@sha256:…)` });
  }
  for (const access of supply.hostAccess) out.push({ id: 'container-host-access', severity: 'high', message: `the container ${access}` });
  if (supply.shellWrapper) out.push({ id: 'shell-wrapper', severity: 'high', message: `${entry.command} -c hides what actually runs from allowlists and reviews; run the server's command directly` });
  if (supply.kind === 'local' && context.gatewayPinned !== true) {
    out.push({ id: 'local-unpinned', severity: 'low', message: supply.sha256 ? `${supply.file} (sha256 ${supply.sha256.slice(0, 16)}…) can change under the entry; pin its sha256 in the gateway` : `${supply.file} was not found or could not be read` });
  }
  const url = remoteUrl(entry, supply);
  if (url) {
    try {
      const parsed = new URL(url);
      if (parsed.protocol === 'http:' && !isLoopbackHost(parsed.hostname)) out.push({ id: 'plain-http', severity: 'high', message: `${parsed.host} is reached over plain http: tokens and tool calls travel in clear` });
      if (parsed.protocol === 'ws:' && !isLoopbackHost(parsed.hostname)) out.push({ id: 'plain-http', severity: 'high', message: `${parsed.host} is reached over unencrypted ws://` });
    } catch {
      out.push({ id: 'bad-url', severity: 'low', message: 'the URL does not parse' });
    }
    if (entry.url && !context.throughGateway && credentials.length === 0) {
      out.push({ id: 'remote-without-auth', severity: 'low', message: 'no credential is configured: the server is open, or the client signs in with OAuth discovery' });
    }
  }
  if (entry.transport === 'sse') out.push({ id: 'deprecated-sse', severity: 'low', message: 'HTTP+SSE is the deprecated 2024-11-05 transport' });
  const roots = broadRoots(entry, context.home);
  if (roots.length > 0) out.push({ id: 'unrestricted-filesystem', severity: 'high', message: `the filesystem server is given ${roots.join(', ')}` });
  if (entry.approvalBypass) out.push({ id: 'approval-bypass', severity: 'medium', message: `tool calls skip the human's confirmation (${entry.approvalBypass})` });
  if (entry.headersHelper) out.push({ id: 'headers-helper', severity: 'medium', message: 'headersHelper runs a shell command to make its headers' });
  if (context.gatewayLookalike) out.push({ id: 'gateway-lookalike', severity: 'high', message: 'runs a "portcullis stdio" front that is not this installation with the gateway\'s configuration (another copy, a file of the project, or a configuration of its own): it is not governed by this gateway' });
  for (const [where, values] of [['env', entry.env], ['headers', entry.headers]] as const) {
    for (const [key, value] of Object.entries(values)) {
      if (isSecretRef(value)) out.push({ id: 'gateway-reference-text', severity: 'high', message: `${where}.${key} is the text "${value.slice(0, 5)}…", which a client passes as it is but a gateway configuration would read as a secret reference (a local file or a gateway variable handed to this server)` });
    }
  }
  for (const why of codeLoaders(entry)) out.push({ id: 'code-loading', severity: 'high', message: `${why}: a pin on the server does not cover it` });
  if (!context.throughGateway && !entry.disabled) out.push({ id: 'not-behind-gateway', severity: 'medium', message: 'calls go straight to the server, with no policy, audit or pinning in between' });
  if (entry.disabled) out.push({ id: 'disabled', severity: 'info', message: 'the entry is disabled but still configured' });
  return out;
}

/**
 * What in an entry's command line and environment loads code besides the server's own (a preload, an
 * import hook, inline code, a relative PATH): each a way around a pin on the server. The one reading of a
 * command line is the gateway's (src/supply/launch.ts); a value that refers to a variable cannot be judged.
 */
export function codeLoaders(entry: { command?: string | null | undefined; args: readonly string[]; env: Readonly<Record<string, string>> }): string[] {
  if (typeof entry.command !== 'string') return [];
  return unpinnedCode({ command: entry.command, args: entry.args, env: entry.env }, (value) => referencesIn(value).length > 0).map((u) => u.why);
}

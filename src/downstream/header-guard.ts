/**
 * Headers that must appear at most once on an MCP request. Node keeps the first of some repeated
 * headers (Host, Content-Type), joins others with ", " (Mcp-Session-Id, Mcp-Param-*), so two copies
 * mean the gateway reads one value while a proxy, a load balancer or the server may read the other.
 * Such a request is refused (400) before anything reads it (issue 11 item 15).
 *
 * Not here: `Authorization` (the identity layer refuses a repeated credential itself).
 */
import type { IncomingMessage } from 'node:http';

const SINGLE: ReadonlySet<string> = new Set([
  'host',
  'origin',
  'content-type',
  'content-length',
  'transfer-encoding',
  'mcp-session-id',
  'mcp-protocol-version',
  'mcp-method',
  'mcp-name',
  'last-event-id',
  'portcullis-task',
]);

/** The first header name sent more than once that must be single, or undefined. */
export function repeatedHeader(req: IncomingMessage): string | undefined {
  const seen = new Set<string>();
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (!SINGLE.has(name) && !name.startsWith('mcp-param-')) continue;
    if (seen.has(name)) return name;
    seen.add(name);
  }
  return undefined;
}

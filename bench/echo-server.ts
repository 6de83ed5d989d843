/**
 * The benchmark upstream: a minimal MCP server written for speed (no SDK), so that the time measured
 * is the gateway's and not the upstream's. Both eras over HTTP (legacy: initialize + session header;
 * modern: server/discover + _meta envelope), and legacy over stdio.
 *
 *   node bench/echo-server.ts --http PORT [--tools N]     Streamable HTTP on 127.0.0.1:PORT/mcp
 *   node bench/echo-server.ts --stdio [--tools N]         newline-delimited JSON-RPC on stdin/stdout
 *
 * Tools: `echo {text}` returns the text; `blob {bytes}` returns that many bytes of text; `strict {n}`
 * requires an integer n (invalid arguments → isError); plus `tool_<i>` fillers up to N tools in all.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i === -1 ? undefined : (args[i + 1] ?? '');
};
const toolCount = Math.max(3, Number(flag('--tools') ?? 10));

const schema = (properties: Record<string, unknown>, required: string[]) => ({ type: 'object', properties, required });
const TOOLS = [
  { name: 'echo', description: 'Echoes its text argument.', inputSchema: schema({ text: { type: 'string' } }, ['text']) },
  { name: 'blob', description: 'Returns a text block of the requested size.', inputSchema: schema({ bytes: { type: 'integer', minimum: 0 } }, ['bytes']) },
  { name: 'strict', description: 'Requires an integer.', inputSchema: schema({ n: { type: 'integer' } }, ['n']) },
];
for (let i = TOOLS.length; i < toolCount; i++) {
  TOOLS.push({ name: `tool_${i}`, description: `Filler tool number ${i}, describing itself in a realistic sentence or two.`, inputSchema: schema({ q: { type: 'string' } }, []) });
}
const blobs = new Map<number, string>();
const blob = (bytes: number): string => {
  let value = blobs.get(bytes);
  if (!value) {
    value = 'x'.repeat(bytes);
    blobs.set(bytes, value);
  }
  return value;
};

type Message = { jsonrpc: '2.0'; id?: string | number; method?: string; params?: Record<string, any> };

function answer(message: Message, modern: boolean): unknown {
  const p = message.params ?? {};
  const done = (result: Record<string, unknown>) => ({ jsonrpc: '2.0', id: message.id, result: modern ? { resultType: 'complete', ...result } : result });
  switch (message.method) {
    case 'initialize':
      return done({ protocolVersion: p.protocolVersion ?? '2025-11-25', capabilities: { tools: {} }, serverInfo: { name: 'bench-echo', version: '1.0.0' } });
    case 'server/discover':
      return done({ supportedVersions: ['2026-07-28'], capabilities: { tools: {} }, ttlMs: 0, cacheScope: 'public', _meta: { 'io.modelcontextprotocol/serverInfo': { name: 'bench-echo', version: '1.0.0' } } });
    case 'ping':
      return done({});
    case 'tools/list':
      return done(modern ? { tools: TOOLS, ttlMs: 0, cacheScope: 'public' } : { tools: TOOLS });
    case 'tools/call': {
      const a = p.arguments ?? {};
      if (p.name === 'echo') return done({ content: [{ type: 'text', text: String(a.text ?? '') }] });
      if (p.name === 'blob') return done({ content: [{ type: 'text', text: blob(Number(a.bytes) || 0) }] });
      if (p.name === 'strict') {
        if (!Number.isInteger(a.n)) return done({ isError: true, content: [{ type: 'text', text: 'n must be an integer' }] });
        return done({ content: [{ type: 'text', text: String(a.n) }] });
      }
      return { jsonrpc: '2.0', id: message.id, error: { code: -32602, message: `Unknown tool: ${p.name}` } };
    }
    default:
      return { jsonrpc: '2.0', id: message.id, error: { code: -32601, message: 'Method not found' } };
  }
}

if (args.includes('--stdio')) {
  let buffer = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk: string) => {
    buffer += chunk;
    let at: number;
    while ((at = buffer.indexOf('\n')) !== -1) {
      const line = buffer.slice(0, at);
      buffer = buffer.slice(at + 1);
      if (!line.trim()) continue;
      const message = JSON.parse(line) as Message;
      if (message.id === undefined || message.method === undefined) continue;
      process.stdout.write(`${JSON.stringify(answer(message, false))}\n`);
    }
  });
} else {
  const port = Number(flag('--http') ?? 0);
  const server = createServer((req, res) => {
    if (req.method !== 'POST') {
      res.writeHead(405).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const message = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Message;
      const modern = req.headers['mcp-protocol-version'] === '2026-07-28';
      if (message.id === undefined) {
        res.writeHead(202).end();
        return;
      }
      if (modern && message.method === 'initialize') {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: message.id, error: { code: -32601, message: 'Method not found' } }));
        return;
      }
      const body = JSON.stringify(answer(message, modern));
      const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
      if (message.method === 'initialize') headers['mcp-session-id'] = randomUUID();
      res.writeHead(200, headers).end(body);
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(port, '127.0.0.1', () => {
    const address = server.address();
    process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : port}\n`);
  });
}

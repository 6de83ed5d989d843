/**
 * The floor for any Node gateway: parse the request, forward it with a keep-alive agent, parse the
 * answer, send it back. No checks of any kind.
 *
 *   node bench/naive-proxy.ts PORT UPSTREAM_URL
 */
import { Agent, createServer, request } from 'node:http';

const [portArg, upstreamArg] = process.argv.slice(2);
const upstream = new URL(upstreamArg ?? 'http://127.0.0.1:1/mcp');
const agent = new Agent({ keepAlive: true, maxSockets: 256 });

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const message = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    const body = JSON.stringify(message);
    const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
    for (const name of ['mcp-session-id', 'mcp-protocol-version', 'mcp-method', 'mcp-name', 'accept']) {
      const value = req.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    const out = request({ host: upstream.hostname, port: upstream.port, path: upstream.pathname, method: 'POST', headers, agent }, (up) => {
      const parts: Buffer[] = [];
      up.on('data', (c: Buffer) => parts.push(c));
      up.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        const reply = text ? JSON.stringify(JSON.parse(text)) : '';
        const replyHeaders: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(reply) };
        const sid = up.headers['mcp-session-id'];
        if (typeof sid === 'string') replyHeaders['mcp-session-id'] = sid;
        res.writeHead(up.statusCode ?? 502, replyHeaders).end(reply);
      });
    });
    out.on('error', () => res.writeHead(502).end());
    out.end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(portArg ?? 0), '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : portArg}\n`);
});

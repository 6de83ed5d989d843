/**
 * What the identity tests share: a gateway in front of server-everything whose every received message
 * is recorded (test/fixtures/recording-wrapper.ts), raw OAuth requests (registration, PKCE, token,
 * revocation), a modern-era tools/call, and the audit trail's refusal records.
 */
import { createHash, randomBytes } from 'node:crypto';
import { EVERYTHING, post, type stdioServer } from './gateway.ts';
import { auditTrail, recording, type ReceivedMessage } from './recorded.ts';

/** The narrow policy the identity tests run under (on the shipped defaults): server-everything's echo. */
export const ECHO_POLICY = { rules: [{ name: 'everything-echo', effect: 'allow', servers: ['everything'], tools: ['echo'] }] };

/** server-everything behind the recording wrapper (pinned); `received()` lists what reached it. */
export function recordedEverything(): { server: ReturnType<typeof stdioServer>; received: () => ReceivedMessage[]; calls: () => string[] } {
  const { server, received, calls } = recording(EVERYTHING);
  return { server, received, calls };
}

export const pkcePair = (): { verifier: string; challenge: string } => {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
};

export async function register(base: string, metadata: Record<string, unknown>): Promise<{ status: number; body: Record<string, any> }> {
  const response = await fetch(`${base}/oauth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(metadata) });
  return { status: response.status, body: (await response.json().catch(() => ({}))) as Record<string, any> };
}

export function authorizeUrl(base: string, params: Record<string, string>): string {
  const url = new URL(`${base}/oauth/authorize`);
  for (const [k, v] of Object.entries({ response_type: 'code', state: 'st', ...params })) url.searchParams.set(k, v);
  return url.href;
}

export async function tokenRequest(base: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, any> }> {
  const response = await fetch(`${base}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(fields).toString() });
  return { status: response.status, body: (await response.json().catch(() => ({}))) as Record<string, any> };
}

export async function revokeRequest(base: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<number> {
  const response = await fetch(`${base}/oauth/revoke`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(fields).toString() });
  await response.arrayBuffer();
  return response.status;
}

export const basic = (id: string, secret: string): Record<string, string> => ({ authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}` });

/** A modern-era tools/call (a method the gateway forwards, never answers itself) with a bearer token. */
export function callTool(url: string, token: string, name: string, args: Record<string, unknown>): ReturnType<typeof post> {
  const body = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args, _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} } } };
  return post(url, JSON.stringify(body), { authorization: `Bearer ${token}`, 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': name });
}

/** The audit records of requests refused before they became a message (authentication). */
export function authRefusals(dataDir: string): Array<Record<string, any>> {
  return auditTrail(dataDir).filter((r) => r.method === '(authentication)');
}

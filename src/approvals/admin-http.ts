/**
 * The approval queue over HTTP, for the admin web UI and scripts (admin-authenticated):
 *
 *   GET  /admin/approvals              waiting approvals (`?all=1`: every state)  → { approvals: [...] }
 *   GET  /admin/approvals/<id>         one approval
 *   POST /admin/approvals/<id>/grant   { "note"?: string }    → the approval, granted
 *   POST /admin/approvals/<id>/deny    { "reason"?: string }  → the approval, denied
 *
 * Only with identity on: the caller presents a token or API key the gateway verifies (as on /mcp) that
 * holds `approvals.adminScope`; without identity every caller would be the same local principal — the
 * agent itself could approve its own calls — so the endpoint refuses (PC_APPROVAL_ADMIN_FORBIDDEN). The
 * approver is the verified principal: it can never decide its own call (same principal, subject or
 * agent), and where the rule names `approvers` it must hold one of those roles. POST bodies must be
 * `application/json` (no cross-site form posts; the Origin check of the front applies too). Every
 * refusal is recorded like any refused request.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Identity } from '../auth/identity.ts';
import type { Principal } from '../auth/principal.ts';
import { principalKey } from '../auth/principal.ts';
import { GatewayError } from '../errors.ts';
import type { Gateway } from '../gateway.ts';
import { header, readBody, reject } from '../downstream/http-io.ts';
import { isObject } from '../protocol/jsonrpc.ts';
import { isApprovalId } from './store.ts';
import { describeApproval } from './view.ts';

export const ADMIN_APPROVALS_PATH = '/admin/approvals';

export const isApprovalsAdminPath = (pathname: string): boolean => pathname === ADMIN_APPROVALS_PATH || pathname.startsWith(`${ADMIN_APPROVALS_PATH}/`);

export interface AdminDeps {
  gateway: Gateway;
  /** The identity layer; undefined while it starts, or when identity is off (`enabled: false`). */
  identity: Identity | undefined;
  enabled: boolean;
}

const MAX_BODY_BYTES = 16 * 1024;

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function admin(req: IncomingMessage, res: ServerResponse, deps: AdminDeps): Promise<Principal | undefined> {
  const endpoint = { kind: 'aggregate' } as const;
  const refuse = async (error: GatewayError): Promise<undefined> => {
    await deps.gateway.recordRefusal(endpoint, error, 'admin/approvals', { address: req.socket.remoteAddress }).catch(() => false);
    reject(res, error);
    return undefined;
  };
  if (!deps.enabled) return refuse(new GatewayError('PC_APPROVAL_ADMIN_FORBIDDEN', 'the approvals admin endpoint needs identity (tokens or API keys) configured; use `portcullis approvals` on the gateway host instead'));
  if (!deps.identity) {
    reject(res, new GatewayError('PC_UPSTREAM_UNAVAILABLE', 'the gateway is still starting; retry in a moment'));
    return undefined;
  }
  const result = await deps.identity.resourceServer.authenticate(header(req, 'authorization'), endpoint);
  if (!('kind' in result)) {
    res.setHeader('www-authenticate', deps.identity.resourceServer.challenge(endpoint, result));
    return refuse(new GatewayError(result.error ? 'PC_AUTH_INVALID_TOKEN' : 'PC_AUTH_REQUIRED', result.description));
  }
  const scope = deps.gateway.config.approvals.adminScope;
  if (!result.scopes.includes(scope)) return refuse(new GatewayError('PC_APPROVAL_ADMIN_FORBIDDEN', `deciding approvals needs scope ${scope}; this credential lacks it`, { scopes: [scope] }));
  return result;
}

export async function serveApprovalsAdmin(req: IncomingMessage, res: ServerResponse, pathname: string, rawUrl: string, deps: AdminDeps): Promise<void> {
  const principal = await admin(req, res, deps);
  if (!principal) return;
  const queue = deps.gateway.approvals.queue;
  const rest = pathname.slice(ADMIN_APPROVALS_PATH.length).split('/').filter(Boolean);
  if (rest.length === 0) {
    if (req.method !== 'GET') return reject(res, new GatewayError('PC_HTTP_METHOD_NOT_ALLOWED', `${ADMIN_APPROVALS_PATH} takes GET`));
    const all = new URL(rawUrl, 'http://x').searchParams.get('all') === '1';
    const now = queue.now();
    const rows = all ? queue.store.list() : queue.store.list('pending').filter((a) => a.expiresAt > now);
    return json(res, 200, { approvals: rows.map(describeApproval) });
  }
  const [id, action, ...extra] = rest;
  if (!id || !isApprovalId(id) || extra.length > 0 || (action !== undefined && action !== 'grant' && action !== 'deny')) {
    return reject(res, new GatewayError('PC_APPROVAL_UNKNOWN', `no such approval resource ${pathname}; use ${ADMIN_APPROVALS_PATH}/<id>[/grant|/deny]`));
  }
  if (action === undefined) {
    if (req.method !== 'GET') return reject(res, new GatewayError('PC_HTTP_METHOD_NOT_ALLOWED', `${pathname} takes GET`));
    const approval = queue.store.get(id);
    if (!approval) return reject(res, new GatewayError('PC_APPROVAL_UNKNOWN', `no approval with id "${id}"`));
    return json(res, 200, describeApproval(approval));
  }
  if (req.method !== 'POST') return reject(res, new GatewayError('PC_HTTP_METHOD_NOT_ALLOWED', `${pathname} takes POST`));
  if (!/^application\/json\s*(;|$)/i.test(header(req, 'content-type') ?? '')) {
    return reject(res, new GatewayError('PC_HTTP_UNSUPPORTED_MEDIA_TYPE', 'the body must be application/json, e.g. {"note": "checked with the owner"}'));
  }
  let body: unknown;
  try {
    const text = await readBody(req, MAX_BODY_BYTES);
    body = text.trim() === '' ? {} : JSON.parse(text);
  } catch (error) {
    return reject(res, error instanceof GatewayError ? error : new GatewayError('PC_PROTOCOL_PARSE_ERROR', 'the body is not JSON'));
  }
  const field = action === 'grant' ? 'note' : 'reason';
  const text = isObject(body) ? body[field] : undefined;
  if (!isObject(body) || (text !== undefined && (typeof text !== 'string' || text.length > 500))) {
    return reject(res, new GatewayError('PC_PROTOCOL_INVALID_REQUEST', `the body must be a JSON object with an optional "${field}" string of at most 500 characters`));
  }
  const decided = await queue.decide(id, action === 'grant' ? 'granted' : 'denied', { name: principal.subject, principalKey: principalKey(principal), subject: principal.subject, agent: principal.agent, roles: principal.roles }, text as string | undefined);
  if (decided instanceof GatewayError) {
    await deps.gateway.recordRefusal({ kind: 'aggregate' }, decided, `admin/approvals/${action}`).catch(() => false);
    return reject(res, decided);
  }
  return json(res, 200, describeApproval(decided));
}

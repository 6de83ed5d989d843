/**
 * The state the era handlers of the HTTP front share (front-context.ts): legacy sessions (bounded in
 * number, overall and per principal), the bytes resumable streams may keep, the modern listen streams
 * (bounded the same way),
 * and the fan-out of server notifications to them. A session that ends releases what the gateway holds
 * on its behalf (gateway.clientGone).
 */
import type { Logger } from 'pino';
import type { Config } from '../config/schema.ts';
import { GatewayError } from '../errors.ts';
import type { Gateway } from '../gateway.ts';
import type { JsonRpcRequest } from '../protocol/jsonrpc.ts';
import { createChangeFanout } from './fanout.ts';
import type { FrontContext } from './front-context.ts';
import type { FrontIdentity } from './http-identity.ts';
import { header, reject } from './http-io.ts';
import { ListenStreams } from './listen-streams.ts';
import { SessionStore } from './session.ts';
import { ResumeBudget } from './stream-log.ts';
import { StreamWatch } from './stream-watch.ts';

export interface FrontState {
  readonly front: FrontContext;
  /** Ends every session and stream and stops the fan-out. */
  close(): void;
}

export function createFrontState(gateway: Gateway, listen: Config['listen'], logger: Logger, identity: FrontIdentity): FrontState {
  const { limits } = gateway;
  const sessions = new SessionStore(listen.sessionIdleMs, (session) => gateway.clientGone(session.id), {
    maxSessions: listen.maxSessions,
    maxSessionsPerPrincipal: listen.maxSessionsPerPrincipal,
    limits,
  });
  const resume = new ResumeBudget({ perSessionBytes: listen.maxResumeBytesPerSession, totalBytes: listen.maxResumeBytes, limits });
  const modernStreams = new ListenStreams({ maxListenStreams: listen.maxListenStreams, maxListenStreamsPerPrincipal: listen.maxListenStreamsPerPrincipal, limits });
  const unsubscribe = gateway.onChange(createChangeFanout(sessions, modernStreams));
  const watch = new StreamWatch(limits);

  const front: FrontContext = {
    gateway,
    logger,
    sessions,
    modernStreams,
    resume,
    streamGuard: (mode) => ({ mode, maxQueueBytes: listen.maxStreamQueueBytes, limits }),
    principalOf: (req) => identity.principalOf(req),
    ownerOf: (req) => identity.ownerOf(req),
    userOf: (req) => identity.userOf(req),
    stepUp: (req, res, endpoint, requests) => identity.stepUp(req, res, endpoint, requests),
    async refuse(res, endpoint, error, era = 'legacy', id = null, method = '(request)', req = undefined) {
      await gateway.recordRefusal(endpoint, error, method, { principal: req ? identity.principalOf(req) : undefined, address: req?.socket.remoteAddress }).catch(() => false);
      reject(res, error, era, id);
    },
    logDecision(request: JsonRpcRequest, error: GatewayError, correlationId: string) {
      const level = error.code === 'PC_INTERNAL' ? 'error' : 'info';
      logger[level]({ correlationId, method: request.method, code: error.code }, error.message);
    },
    watchStream(req, endpoint, writer, caller, what) {
      const principal = identity.principalOf(req);
      const server = endpoint.kind === 'server' ? endpoint.server : '';
      const credential = identity.required ? identity.current?.resourceServer.revalidator(header(req, 'authorization'), endpoint) : undefined;
      let refusal: GatewayError | undefined;
      const check = (): string | undefined => {
        gateway.kill.refreshOncePerTurn();
        const stop = gateway.kill.stops(server, undefined, caller, false);
        if (stop) {
          refusal = new GatewayError('PC_KILL_SWITCH', `stream closed by the kill switch on ${stop.target}: ${stop.reason}`, { reason: stop.reason });
          return refusal.message;
        }
        const failure = identity.required ? (credential ? credential() : { description: 'the identity layer is not running' }) : undefined;
        if (failure) {
          refusal = new GatewayError('PC_AUTH_INVALID_TOKEN', `stream closed: its credential no longer stands (${failure.description})`);
          return refusal.message;
        }
        return undefined;
      };
      // Refused as it opens: the caller answers the refusal (and records it).
      if (check() !== undefined) return refusal;
      const watched = watch.watch(check, () => {
        writer.end();
        if (refusal) void gateway.recordRefusal(endpoint, refusal, what, { principal, address: req.socket.remoteAddress }).catch(() => false);
      });
      writer.watch(watched);
      return undefined;
    },
  };
  return {
    front,
    close() {
      unsubscribe();
      watch.close();
      sessions.close();
      modernStreams.close();
    },
  };
}

/**
 * How long a client may take to send a request, on every route of the HTTP front (MCP, /oauth/*,
 * /interaction/*, probes). Node's `headersTimeout` and `requestTimeout` bound the *receiving* of a
 * request — headers, then headers and body — and stop counting once it is in: a response that streams
 * for hours (a GET or `subscriptions/listen` SSE stream) is never cut by them, so there is no reason to
 * switch them off. A connection that sends nothing, trickles its headers (Slowloris) or its body gets
 * 408 and is closed; each one is counted (`request_timeout`) and logged once per burst.
 */
import type { Server, ServerOptions } from 'node:http';
import type { Socket } from 'node:net';
import type { Config } from '../config/schema.ts';
import { GatewayError, toJsonRpcError } from '../errors.ts';
import type { LimitCounters } from '../limits/counters.ts';

export function requestTimeoutOptions(listen: Config['listen']): ServerOptions {
  return {
    headersTimeout: listen.headersTimeoutMs,
    requestTimeout: listen.requestTimeoutMs,
    // How often Node looks for requests past their time (default 30 s, coarser than the limits).
    connectionsCheckingInterval: Math.max(250, Math.min(1000, Math.floor(listen.headersTimeoutMs / 4))),
  };
}

/** How long a refused connection may linger to read the answer before it is cut. */
const LINGER_MS = 1000;

const TIMEOUT_BODY = JSON.stringify({
  jsonrpc: '2.0',
  id: null,
  error: toJsonRpcError(
    new GatewayError('PC_HTTP_REQUEST_TIMEOUT', 'the request did not arrive in time (listen.headersTimeoutMs for its headers, listen.requestTimeoutMs for all of it)'),
    '',
  ),
});

/**
 * Answers what Node reports before a request reaches the handler (timeouts, malformed or oversized
 * headers) as Node would by default, and counts the timeouts. The answer is written only when nothing
 * of a response has been sent on the socket yet, so a peer never sees a corrupted response.
 */
export function answerClientErrors(server: Server, limits: LimitCounters): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    let head: string;
    if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      limits.hit('request_timeout', {}, 'a client did not send its request in time; answered 408 and closed', { address: socket.remoteAddress });
      head = `HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(TIMEOUT_BODY)}\r\n\r\n${TIMEOUT_BODY}`;
    } else if (error.code === 'HPE_HEADER_OVERFLOW') {
      head = 'HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n';
    } else {
      head = 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n';
    }
    // Node's own handler checks the in-flight response the same way (`_httpMessage` is its name for it).
    const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (!socket.writable || inFlight?.headersSent) return void socket.destroy();
    // Closing at once with unread input would send a reset, which can discard the answer on its way:
    // end after the answer, drop what still arrives, and cut the connection for good a moment later.
    socket.end(head);
    socket.resume();
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
  });
}

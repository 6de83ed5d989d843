/**
 * A server the gateway refused to start (its pin did not match, or it is not pinned): it stays in
 * the configuration and in /healthz as `failed`, and every call to it gets the reason.
 */
import { GatewayError } from '../errors.ts';
import type { Upstream, UpstreamInfo, UpstreamReply, UpstreamState } from './types.ts';

export class RefusedUpstream implements Upstream {
  readonly name: string;
  readonly #reason: string;

  constructor(name: string, reason: string) {
    this.name = name;
    this.#reason = reason;
  }

  #error(): GatewayError {
    return new GatewayError('PC_UPSTREAM_UNAVAILABLE', `server "${this.name}" was not started: ${this.#reason}`, { server: this.name });
  }

  state(): UpstreamState {
    return 'failed';
  }

  info(): UpstreamInfo | undefined {
    return undefined;
  }

  ready(): Promise<UpstreamInfo> {
    return Promise.reject(this.#error());
  }

  request(): Promise<UpstreamReply> {
    return Promise.reject(this.#error());
  }

  notify(): Promise<void> {
    return Promise.reject(this.#error());
  }

  connectorFor(): Promise<Upstream> {
    return Promise.resolve(this);
  }

  onEvent(): () => void {
    return () => undefined;
  }

  start(): Promise<void> {
    return Promise.reject(this.#error());
  }

  async close(): Promise<void> {}
}

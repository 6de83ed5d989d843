/**
 * A stdio MCP server as a child process: newline-delimited JSON-RPC on stdin/stdout (spec
 * `basic/transports` §stdio), stderr to the log. The child never inherits the gateway's environment:
 * it gets a short allowlist of harmless variables plus exactly what the config declares, so a
 * gateway secret (an upstream token, a signing key) cannot leak into a third-party server.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { Logger } from 'pino';
import type { JsonRpcMessage } from '../protocol/jsonrpc.ts';
import type { MessageChannel } from './channel.ts';

/** Inherited from the gateway's environment when present; everything else is dropped. */
export const SAFE_ENV_KEYS: readonly string[] = [
  'PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'TERM', 'LANG', 'LANGUAGE', 'LC_ALL', 'LC_CTYPE', 'TZ', 'TMPDIR',
  // Windows needs these to start most programs at all.
  'SYSTEMROOT', 'SYSTEMDRIVE', 'WINDIR', 'COMSPEC', 'PATHEXT', 'APPDATA', 'LOCALAPPDATA', 'USERPROFILE', 'PROGRAMFILES', 'TEMP', 'TMP',
];

export function childEnvironment(
  parent: Readonly<Record<string, string | undefined>>,
  declared: Readonly<Record<string, string>>,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of SAFE_ENV_KEYS) {
    const value = parent[key];
    if (value !== undefined) env[key] = value;
  }
  return { ...env, ...declared };
}

export interface StdioChannelOptions {
  command: string;
  args: readonly string[];
  cwd: string | undefined;
  env: Record<string, string>;
  logger: Logger;
  /** Lines longer than this are dropped as a protocol violation instead of buffering without bound. */
  maxLineBytes?: number;
}

export class StdioChannel implements MessageChannel {
  onmessage?: ((message: JsonRpcMessage) => void) | undefined;
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  /** Exit code or signal of the child once it has ended, for the crash message. */
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  readonly #options: StdioChannelOptions;
  #child: ChildProcessByStdio<Writable, Readable, Readable> | undefined;
  #buffer = '';
  #closed = false;

  constructor(options: StdioChannelOptions) {
    this.#options = options;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  start(): Promise<void> {
    const { command, args, cwd, env, logger } = this.#options;
    return new Promise((resolve, reject) => {
      const child = spawn(command, [...args], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
      this.#child = child;
      let spawned = false;
      child.once('spawn', () => {
        spawned = true;
        resolve();
      });
      child.once('error', (error) => {
        if (!spawned) reject(new Error(`cannot start "${command}": ${(error as NodeJS.ErrnoException).code ?? error.message}`));
        else this.onerror?.(error);
      });
      child.once('close', (code, signal) => {
        this.exit = { code, signal };
        this.#finish();
      });
      child.stdin.on('error', () => undefined); // EPIPE after the child died: reported through 'close'
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk: string) => this.#onData(chunk));
      child.stderr.setEncoding('utf8');
      let stderrLine = '';
      child.stderr.on('data', (chunk: string) => {
        stderrLine += chunk;
        let at: number;
        while ((at = stderrLine.indexOf('\n')) !== -1) {
          logger.debug({ stderr: stderrLine.slice(0, Math.min(at, 2000)) }, 'upstream stderr');
          stderrLine = stderrLine.slice(at + 1);
        }
      });
    });
  }

  #onData(chunk: string): void {
    this.#buffer += chunk;
    const max = this.#options.maxLineBytes ?? 64 * 1024 * 1024;
    let at: number;
    while ((at = this.#buffer.indexOf('\n')) !== -1) {
      const line = this.#buffer.slice(0, at).trim();
      this.#buffer = this.#buffer.slice(at + 1);
      if (line === '') continue;
      let message: unknown;
      try {
        message = JSON.parse(line);
      } catch {
        this.#options.logger.warn({ bytes: line.length }, 'upstream wrote a non-JSON line to stdout; ignored');
        continue;
      }
      this.onmessage?.(message as JsonRpcMessage);
    }
    if (this.#buffer.length > max) {
      this.#options.logger.warn({ bytes: this.#buffer.length }, 'upstream line exceeds the limit; dropped');
      this.#buffer = '';
    }
  }

  send(message: JsonRpcMessage): Promise<void> {
    const child = this.#child;
    if (!child || this.#closed || !child.stdin.writable) return Promise.reject(new Error('stdio channel is closed'));
    return new Promise((resolve, reject) => {
      child.stdin.write(`${JSON.stringify(message)}\n`, (error) => (error ? reject(error) : resolve()));
    });
  }

  async close(): Promise<void> {
    const child = this.#child;
    if (!child || this.exit) return this.#finish();
    child.stdin.end();
    const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
    const term = setTimeout(() => child.kill('SIGTERM'), 2000);
    const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(term);
    clearTimeout(kill);
  }

  /** Kills the child at once (tests use this to simulate a crash). */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.#child?.kill(signal);
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.onclose?.();
  }
}

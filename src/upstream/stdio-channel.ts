/**
 * A stdio MCP server as a child process: newline-delimited JSON-RPC on stdin/stdout (spec
 * `basic/transports` §stdio), stderr to the log. The child's own environment is a short allowlist of
 * harmless variables plus exactly what the config declares. That is not a boundary by itself: a child
 * under the gateway's uid can read the gateway's /proc/<pid>/environ and more (src/upstream/run-as.ts);
 * `runAs` starts it as another user, the only boundary. Without a `cwd` it starts in an empty directory
 * of its own, made for that start, never in the gateway's working directory.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { chownSync, mkdtempSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type { Logger } from 'pino';
import type { LimitCounters } from '../limits/counters.ts';
import { assertJsonDepth, type JsonRpcId, type JsonRpcMessage } from '../protocol/jsonrpc.ts';
import { GatewayError } from '../errors.ts';
import { takeTurns } from '../util/chunks.ts';
import { analyseLaunch } from '../supply/launch.ts';
import type { MalformedAnswer, MessageChannel } from './channel.ts';
import type { RunAs } from './run-as.ts';
import { DEFAULT_MAX_MESSAGE_BYTES, oversizedMessageId } from './message-limit.ts';

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
  /** The variables the config declares itself (HOME, USER and LOGNAME are left to them when declared). */
  declared?: readonly string[];
  /** The user the child runs as; absent: the gateway's own. */
  runAs?: RunAs | undefined;
  logger: Logger;
  /** A stdout line (one message) longer than this is skipped unread and reported (default 16 MiB). */
  maxLineBytes?: number;
  /** Counts stderr lines cut or not logged. */
  limits?: LimitCounters | undefined;
  /** The server's name, for the counters. */
  server?: string;
}

/** stderr is only logged: each line is cut to this many characters, and at most this many lines a second. */
export const STDERR_LINE_CHARS = 2000;
export const STDERR_LINES_PER_SECOND = 100;
/** Bytes kept of an oversized stdout line, at each end, to tell whose answer it was. */
const EDGE_BYTES = 256;
/**
 * An oversized line that goes on this many times the limit (1 GiB by default) is taken as endless:
 * nothing the server writes can arrive any more, so the child is restarted. Below that the line is
 * skipped (bounded memory, linear time) and the server keeps serving.
 */
export const ENDLESS_FACTOR = 64;
const LF = 0x0a;
/** POSIX process groups: a server and what it started are stopped together (not on Windows). */
const GROUPS = process.platform !== 'win32';

export class StdioChannel implements MessageChannel {
  onmessage?: ((message: JsonRpcMessage) => void) | undefined;
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onoversize?: ((info: { requestId: JsonRpcId | undefined; where: string }) => void) | undefined;
  onmalformed?: ((info: MalformedAnswer) => void) | undefined;
  /** Exit code or signal of the child once it has ended, for the crash message. */
  exit: { code: number | null; signal: NodeJS.Signals | null; reason?: string } | undefined;

  readonly #options: StdioChannelOptions;
  readonly #maxLineBytes: number;
  #child: ChildProcessByStdio<Writable, Readable, Readable> | undefined;
  /** The stdout line not yet ended, as received. */
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  /** Set while skipping an oversized line: its first and latest bytes, and how much was skipped. */
  #skipping: { head: Buffer; tail: Buffer; bytes: number; reported: boolean } | undefined;
  #killReason: string | undefined;
  #closed = false;
  /** The server has written a message: its stderr is routine from then on (debug, not info). */
  #heard = false;
  /** The empty directory made for this start (its cwd when none is configured, HOME when runAs has none). */
  #ownDir: string | undefined;

  constructor(options: StdioChannelOptions) {
    this.#options = options;
    this.#maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  start(): Promise<void> {
    const { command, args, env, runAs } = this.#options;
    const launch = this.#launchPlace(command, args, env);
    return new Promise((resolve, reject) => {
      // Its own process group (POSIX), so a stop reaches what it started too: `npx` runs the real
      // server as its child, which outlives a signal to npx alone and keeps the pipes open.
      const child = spawn(launch.command, launch.args, {
        cwd: launch.cwd,
        env: launch.env,
        stdio: ['pipe', 'pipe', 'pipe'],
        windowsHide: true,
        detached: GROUPS,
        ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}),
      });
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
        this.exit = this.#killReason === undefined ? { code, signal } : { code, signal, reason: this.#killReason };
        this.#finish();
      });
      child.stdin.on('error', () => undefined); // EPIPE after the child died: reported through 'close'
      // A child writing as fast as it can must not hold the event loop: one chunk per turn each.
      takeTurns<Buffer>(child.stdout, (chunk) => this.#onData(chunk));
      child.stderr.setEncoding('utf8');
      takeTurns<string>(child.stderr, createStderrLog(this.#options, () => this.#heard));
    });
  }

  /**
   * Where and as what the child starts. With no configured cwd: an empty directory made for this start
   * (mode 0700, owned by the runAs user), so the server sees neither the gateway's working directory
   * (its config, often its data dir) nor another server's files; a relative command or script keeps
   * meaning what it meant, a path from the gateway's working directory. Under runAs the child's HOME,
   * USER and LOGNAME are its own (HOME: its passwd home if it owns it, else that directory).
   */
  #launchPlace(command: string, args: readonly string[], env: Record<string, string>): { command: string; args: string[]; cwd: string | undefined; env: Record<string, string> } {
    const { cwd, runAs, declared = [] } = this.#options;
    const needsDir = cwd === undefined || (runAs !== undefined && runAs.home === undefined && !declared.includes('HOME'));
    if (needsDir) {
      this.#ownDir = mkdtempSync(join(tmpdir(), 'portcullis-server-'));
      if (runAs) chownSync(this.#ownDir, runAs.uid, runAs.gid);
    }
    const childEnv = { ...env };
    if (runAs) {
      if (!declared.includes('HOME')) childEnv.HOME = runAs.home ?? this.#ownDir!;
      for (const key of ['USER', 'LOGNAME']) {
        if (declared.includes(key)) continue;
        if (runAs.user) childEnv[key] = runAs.user;
        else delete childEnv[key];
      }
    }
    if (cwd !== undefined) return { command, args: [...args], cwd, env: childEnv };
    const here = process.cwd();
    const absolute = (p: string): string => (isAbsolute(p) ? p : resolve(here, p));
    const script = analyseLaunch(command, args).script;
    const at = script === undefined ? -1 : args.indexOf(script);
    return {
      command: command.includes('/') || command.includes('\\') ? absolute(command) : command,
      args: args.map((a, i) => (i === at ? absolute(a) : a)),
      cwd: this.#ownDir,
      env: childEnv,
    };
  }

  /** Splits stdout into lines, looking at each byte once; a line over the limit is skipped, never held. */
  #onData(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const at = chunk.indexOf(LF, start);
      const end = at === -1 ? chunk.length : at;
      if (this.#skipping) this.#skip(chunk.subarray(start, end));
      else if (this.#pendingBytes + (end - start) > this.#maxLineBytes) {
        const head = Buffer.concat([...this.#pending, chunk.subarray(start, Math.min(end, start + EDGE_BYTES))]).subarray(0, EDGE_BYTES);
        this.#skipping = { head, tail: Buffer.alloc(0), bytes: this.#pendingBytes, reported: false };
        this.#pending = [];
        this.#pendingBytes = 0;
        this.#skip(chunk.subarray(start, end));
        // Most writers put the id first: fail that call now rather than when (if ever) the line ends.
        this.#reportOversize(false);
      } else if (at !== -1) {
        const line = this.#pendingBytes === 0 ? chunk.toString('utf8', start, end) : Buffer.concat([...this.#pending, chunk.subarray(start, end)]).toString('utf8');
        this.#pending = [];
        this.#pendingBytes = 0;
        this.#deliver(line);
      } else {
        this.#pending.push(chunk.subarray(start, end));
        this.#pendingBytes += end - start;
      }
      if (at === -1) break;
      if (this.#skipping) {
        this.#reportOversize(true);
        this.#skipping = undefined;
      }
      start = at + 1;
    }
  }

  #skip(bytes: Buffer): void {
    const skipping = this.#skipping!;
    skipping.bytes += bytes.length;
    skipping.tail = bytes.length >= EDGE_BYTES ? Buffer.from(bytes.subarray(bytes.length - EDGE_BYTES)) : Buffer.concat([skipping.tail, bytes]).subarray(-EDGE_BYTES);
    if (skipping.bytes > ENDLESS_FACTOR * this.#maxLineBytes && this.#killReason === undefined) {
      // Everything the server writes from now on is part of this line: nothing it answers can arrive.
      this.#killReason = `its stdout line passed ${ENDLESS_FACTOR}× the ${this.#maxLineBytes}-byte limit without ending`;
      this.#reportOversize(true);
      this.kill('SIGKILL');
    }
  }

  /** Reports the skipped line once; `ended`: the tail is final, so an id at the end can be read too. */
  #reportOversize(ended: boolean): void {
    const skipping = this.#skipping;
    if (!skipping || skipping.reported) return;
    const requestId = oversizedMessageId(skipping.head.toString('utf8'), ended ? skipping.tail.toString('utf8') : '');
    if (requestId === undefined && !ended) return;
    skipping.reported = true;
    this.onoversize?.({ requestId, where: 'stdout line' });
  }

  #deliver(raw: string): void {
    const line = raw.trim();
    if (line === '') return;
    let message: unknown;
    try {
      assertJsonDepth(line, 'line');
      message = JSON.parse(line);
    } catch (error) {
      const why = error instanceof GatewayError ? error.message : 'not JSON';
      this.#options.logger.warn({ bytes: line.length, why }, 'upstream wrote a line to stdout that is not an acceptable JSON message; ignored');
      // An answer refused unparsed (nested too deep): the call it answers fails now, not at its timeout.
      const requestId = error instanceof GatewayError ? oversizedMessageId(line.slice(0, 512), line.slice(-512)) : undefined;
      if (requestId !== undefined) this.onmalformed?.({ requestId, reason: 'refused', what: `an answer that ${why.replace(/^line /, '')}` });
      return;
    }
    this.#heard = true;
    this.onmessage?.(message as JsonRpcMessage);
  }

  send(message: JsonRpcMessage): Promise<void> {
    const child = this.#child;
    if (!child || this.#closed || !child.stdin.writable) return Promise.reject(new Error('stdio channel is closed'));
    return new Promise((resolve, reject) => {
      child.stdin.write(`${JSON.stringify(message)}\n`, (error) => (error ? reject(error) : resolve()));
    });
  }

  /**
   * Ends the server: stdin closed, then SIGTERM after 2 s and SIGKILL after 5 s, each to its whole
   * process group. Done when the pipes close — or, should something outside the group still hold them,
   * once the child has exited and the pipes are let go.
   */
  async close(): Promise<void> {
    const child = this.#child;
    if (!child || this.exit) return this.#finish();
    child.stdin.end();
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    const term = setTimeout(() => this.kill('SIGTERM'), 2000);
    const kill = setTimeout(() => this.kill('SIGKILL'), 5000);
    const exited = child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const released = exited.then(() => new Promise<void>((resolve) => setTimeout(resolve, 5000).unref())).then(() => {
      child.stdout.destroy();
      child.stderr.destroy();
    });
    await Promise.race([closed, released]);
    clearTimeout(term);
    clearTimeout(kill);
  }

  /** Signals the server's process group (the child alone where there are no groups); tests use it to simulate a crash. */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    const child = this.#child;
    if (!child) return;
    // The group outlives its leader while anything it started runs: signal it even after the child exited.
    if (GROUPS && child.pid !== undefined) {
      try {
        process.kill(-child.pid, signal);
        return;
      } catch {
        // The group is gone (or was never made): signal the child itself.
      }
    }
    child.kill(signal);
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#ownDir) {
      // Removed only when the server left it empty: a recursive removal inside a directory another
      // user controls could be steered elsewhere, so what it left stays (in the system's temp folder).
      try {
        rmdirSync(this.#ownDir);
      } catch {
        // not empty, or already gone
      }
    }
    this.onclose?.();
  }
}

/**
 * The stderr handler: whole lines go to the log, each cut to `STDERR_LINE_CHARS`, at most
 * `STDERR_LINES_PER_SECOND` — at info until the server has written its first message (why a server
 * will not start, "None of the specified directories are accessible", is in what it writes before it
 * exits), at debug after that. Each chunk is scanned once; a bare CR (a progress bar redrawing its line)
 * starts the line over, as a terminal would, so a CR-only flood holds nothing and logs nothing.
 */
function createStderrLog(options: StdioChannelOptions, routine: () => boolean): (chunk: string) => void {
  const { logger, limits, server } = options;
  let line = '';
  let cut = false;
  /** The previous chunk ended in CR: if this one starts with LF, it was a CRLF line end. */
  let carriage = false;
  let second = 0;
  let logged = 0;
  const append = (text: string): void => {
    const room = STDERR_LINE_CHARS - line.length;
    if (text.length <= room) line += text;
    else {
      cut = true;
      if (room > 0) line += text.slice(0, room);
    }
  };
  const emit = (): void => {
    const text = line;
    const wasCut = cut;
    line = '';
    cut = false;
    if (text === '') return;
    const now = Math.floor(Date.now() / 1000);
    if (now !== second) {
      second = now;
      logged = 0;
    }
    if (++logged > STDERR_LINES_PER_SECOND) {
      limits?.hit('upstream_stderr_truncated', { server }, `server "${server}" writes more than ${STDERR_LINES_PER_SECOND} stderr lines a second; the rest are not logged`);
      return;
    }
    if (wasCut) limits?.hit('upstream_stderr_truncated', { server }, `server "${server}" wrote a stderr line longer than ${STDERR_LINE_CHARS} characters; logged cut`);
    if (routine()) logger.debug({ stderr: text }, 'upstream stderr');
    else logger.info({ stderr: text }, 'upstream stderr');
  };
  return (chunk) => {
    let pos = 0;
    if (carriage) {
      carriage = false;
      if (chunk.startsWith('\n')) {
        emit();
        pos = 1;
      } else {
        line = '';
        cut = false;
      }
    }
    while (pos < chunk.length) {
      const nl = chunk.indexOf('\n', pos);
      let end = nl === -1 ? chunk.length : nl;
      if (nl !== -1 && end > pos && chunk.charCodeAt(end - 1) === 13) end -= 1;
      else if (nl === -1 && chunk.charCodeAt(end - 1) === 13) {
        carriage = true;
        end -= 1;
      }
      const cr = end > pos ? chunk.lastIndexOf('\r', end - 1) : -1;
      if (cr >= pos) {
        line = '';
        cut = false;
        append(chunk.slice(cr + 1, end));
      } else {
        append(chunk.slice(pos, end));
      }
      if (nl === -1) break;
      emit();
      pos = nl + 1;
    }
  };
}

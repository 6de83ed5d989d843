/**
 * List cursors a server issued, and to whom. A cursor is opaque to everyone but the server that made
 * it (spec: `Cursor`, "an opaque token"), so one a client makes up is a channel to the server the
 * gateway cannot read, and one a server makes up is a channel to the client's model the gateway
 * cannot read either (red team C8: `nextCursor: "cur-<secret>"`). So neither travels: the client gets a
 * random cursor of the gateway's own for each `nextCursor` a server gave it, and a list on
 * `/mcp/<server>` may carry only such a cursor, which is exchanged for the server's own before the
 * request is forwarded. Data-loss prevention still reads what the client sends
 * (pipeline/stages/inspect-arguments.ts).
 *
 * Bounds: at most `maxPerCaller` cursors per principal and server (the oldest forgotten first: a
 * client walks a list forwards) and `maxCallers` principal–server pairs (the least recently used
 * forgotten first). A forgotten cursor, like one from before a restart or from another replica, is
 * refused: the client lists again from the start (fail closed).
 */
import { randomBytes } from 'node:crypto';

/** What a gateway cursor looks like: a prefix and 144 random bits. */
const CURSOR_PREFIX = 'pc-';

export class CursorBook {
  /** Per server and principal: the gateway's cursor → the server's. */
  readonly #issued = new Map<string, Map<string, string>>();
  readonly #maxPerCaller: number;
  readonly #maxCallers: number;

  constructor(limits: { maxPerCaller: number; maxCallers: number } = { maxPerCaller: 64, maxCallers: 10_000 }) {
    this.#maxPerCaller = limits.maxPerCaller;
    this.#maxCallers = limits.maxCallers;
  }

  /** Notes a `nextCursor` the server gave `principal`; returns the gateway's cursor to give the client instead. */
  issue(server: string, principal: string, serverCursor: string): string {
    const key = `${server}\u0000${principal}`;
    const cursors = this.#issued.get(key) ?? new Map<string, string>();
    this.#issued.delete(key);
    this.#issued.set(key, cursors);
    const cursor = `${CURSOR_PREFIX}${randomBytes(18).toString('base64url')}`;
    cursors.set(cursor, serverCursor);
    if (cursors.size > this.#maxPerCaller) cursors.delete(cursors.keys().next().value!);
    if (this.#issued.size > this.#maxCallers) this.#issued.delete(this.#issued.keys().next().value!);
    return cursor;
  }

  /** The server's own cursor behind a cursor the gateway gave `principal` for `server`, or undefined. */
  redeem(server: string, principal: string, cursor: string): string | undefined {
    return this.#issued.get(`${server}\u0000${principal}`)?.get(cursor);
  }
}

/**
 * List cursors a server issued, and to whom. A cursor is opaque to everyone but the server that made
 * it (spec: `Cursor`, "an opaque token"), so one a client makes up is a channel to the server the
 * gateway cannot read: a list on `/mcp/<server>` may carry only a cursor that server gave this same
 * principal in an earlier page of a list (`nextCursor`), forwarded unchanged. Data-loss prevention
 * still reads it on the way (pipeline/stages/inspect-arguments.ts).
 *
 * Bounds: at most `maxPerCaller` cursors per principal and server (the oldest forgotten first: a
 * client walks a list forwards) and `maxCallers` principal–server pairs (the least recently used
 * forgotten first). A forgotten cursor, like one from before a restart or from another replica, is
 * refused: the client lists again from the start (fail closed).
 */
export class CursorBook {
  readonly #issued = new Map<string, Set<string>>();
  readonly #maxPerCaller: number;
  readonly #maxCallers: number;

  constructor(limits: { maxPerCaller: number; maxCallers: number } = { maxPerCaller: 64, maxCallers: 10_000 }) {
    this.#maxPerCaller = limits.maxPerCaller;
    this.#maxCallers = limits.maxCallers;
  }

  /** Notes a `nextCursor` the server gave `principal`. */
  issue(server: string, principal: string, cursor: string): void {
    const key = `${server}\u0000${principal}`;
    const cursors = this.#issued.get(key) ?? new Set<string>();
    this.#issued.delete(key);
    this.#issued.set(key, cursors);
    cursors.delete(cursor);
    cursors.add(cursor);
    if (cursors.size > this.#maxPerCaller) cursors.delete(cursors.values().next().value!);
    if (this.#issued.size > this.#maxCallers) this.#issued.delete(this.#issued.keys().next().value!);
  }

  /** Whether `server` gave `principal` this cursor. */
  issued(server: string, principal: string, cursor: string): boolean {
    return this.#issued.get(`${server}\u0000${principal}`)?.has(cursor) ?? false;
  }
}

/**
 * Which downstream callers each principal has: the legacy sessions (HTTP `Mcp-Session-Id`s, the stdio
 * front's session) its requests came through. A server notification that belongs to a principal but
 * arrives with none of its calls in flight (a task's status, a per-principal session's log line) is
 * delivered to these callers only. Modern-era requests have no stream to deliver to afterwards and are
 * not listed. An entry lives as long as the session: `forget` when it ends.
 */
export class CallerDirectory {
  readonly #byPrincipal = new Map<string, Set<string>>();
  readonly #principalOf = new Map<string, string>();

  /** `caller` made a request as `principal`. */
  note(principal: string, caller: string): void {
    const previous = this.#principalOf.get(caller);
    if (previous === principal) return;
    if (previous !== undefined) this.forget(caller);
    this.#principalOf.set(caller, principal);
    let callers = this.#byPrincipal.get(principal);
    if (!callers) {
      callers = new Set();
      this.#byPrincipal.set(principal, callers);
    }
    callers.add(caller);
  }

  /** The callers of `principal` (empty when it has none now). */
  of(principal: string): readonly string[] {
    return [...(this.#byPrincipal.get(principal) ?? [])];
  }

  /** Whether `caller` is known to act for `principal`. */
  is(caller: string, principal: string): boolean {
    return this.#principalOf.get(caller) === principal;
  }

  forget(caller: string): void {
    const principal = this.#principalOf.get(caller);
    if (principal === undefined) return;
    this.#principalOf.delete(caller);
    const callers = this.#byPrincipal.get(principal);
    callers?.delete(caller);
    if (callers?.size === 0) this.#byPrincipal.delete(principal);
  }
}

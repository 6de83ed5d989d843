/**
 * What an argument guard answers, and how guards read the arguments they check. A guard names the
 * argument and what is wrong with it, never the value: the reason reaches the caller and the audit
 * record, where the arguments themselves may be kept only as a hash (or not at all).
 */

/**
 * `problem`: why the arguments fail. `rewrites`: arguments to forward in the canonical form the guard
 * judged (a serialized URL, a resolved path), replacing what was sent. `judged`: other readings of the
 * forwarded arguments a server may act on — the resolved form of a path forwarded as sent, and the
 * resolved form of each percent-decoded, NFKC or backslash spelling of a path (each one a complete set
 * of the guarded arguments): the decision is taken on every one of them too, so a deny rule that holds
 * for any of them denies.
 */
export interface GuardResult {
  problem?: string;
  /** The problem is a path into the gateway's own state: the call is denied, not just this rule unmatched. */
  gatewayState?: true;
  rewrites?: Record<string, unknown>;
  judged?: Record<string, unknown>[];
}

/** DNS, passed in so tests and the gateway can choose: resolves a name to all its addresses. */
export type ResolveHost = (host: string) => Promise<string[]>;

/**
 * Values of `name` in args: a string, or every string of a list (`list` set). Anything else cannot be
 * judged as a path or URL and is refused: a server that coerces `["/etc/passwd"]` or `{"0": …}` to a
 * string must not receive what the guard never read.
 */
export function stringsOf(args: Record<string, unknown>, name: string): { values: string[]; list: boolean; problem?: string } {
  const value = Object.hasOwn(args, name) ? args[name] : undefined;
  if (value === undefined) return { values: [], list: false };
  if (typeof value === 'string') return { values: [value], list: false };
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return { values: value as string[], list: true };
  return { values: [], list: false, problem: `argument "${name}" must be a string or a list of strings to be checked` };
}

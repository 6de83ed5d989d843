/**
 * Who is asking: the verified identity every stage after `authenticate` decides on, and the audit
 * record keeps. `local` principals (no identity configured, or the stdio front) hold every scope; their
 * agent name is what the configuration says or, failing that, what the client declared — fine for
 * attribution, not a boundary between agents (use tokens or API keys for that).
 */
export interface Principal {
  readonly kind: 'local' | 'token' | 'key';
  /** The user the agent acts for (`sub`), or the OS user for local principals. */
  readonly subject: string;
  /** The agent: OAuth client_id / azp, the API key's agent, or the local agent name. */
  readonly agent: string;
  readonly scopes: readonly string[];
  /** True for local principals: every scope is held. */
  readonly allScopes: boolean;
  readonly roles: readonly string[];
  readonly issuer?: string;
  /** True for tokens of the embedded authorization server: the gateway itself vouches for their names. */
  readonly own?: boolean;
  /**
   * True when a user's own sign-in stands behind the token: the embedded server's tokens minted under a
   * user's authorization-code grant (never an agent's client credentials, never an API key, never an
   * external issuer's token, whose grant type the gateway cannot tell).
   */
  readonly signedIn?: boolean;
  /** `jti` of the token or the API key id — never the token itself. */
  readonly tokenId?: string;
}

/**
 * The name `principal.issuers` (policy) gives the gateway's own names — embedded sign-in, API keys and
 * local callers — as against an external issuer's `iss`: the same user or agent name vouched for by two
 * issuers is two different callers.
 */
export const OWN_ISSUER = 'portcullis';

/** Who vouched for the principal's subject and agent names, as `principal.issuers` spells it. */
export function vouchedBy(p: Pick<Principal, 'issuer'> & Partial<Pick<Principal, 'kind' | 'own'>>): string {
  // Without a kind: a local caller (a stream's caller named from its session), which the gateway names.
  return p.kind === undefined || p.kind !== 'token' || p.own ? OWN_ISSUER : (p.issuer ?? OWN_ISSUER);
}

/**
 * The agent together with who vouched for its name: what `per: agent` limits count against. Another
 * issuer's client named like an agent of yours is another agent (its calls must not drain your agent's
 * allowance, nor yours its).
 */
export function agentKey(p: Principal): string {
  return `${vouchedBy(p)}\u0000${p.agent}`;
}

/**
 * Whether nobody but the agent stands behind the credential: an API key, or an agent's client
 * credentials from the embedded server (`agent add`) — their subject names the credential, not a person.
 */
export function agentCredential(p: Pick<Principal, 'kind'> & Partial<Pick<Principal, 'own' | 'signedIn'>>): boolean {
  return p.kind === 'key' || (p.kind === 'token' && p.own === true && p.signedIn !== true);
}

/**
 * Whose names the monitor's counts and containment are scoped to: `vouchedBy`, except that local callers
 * are apart ('') — their agent name is what their client declares, so their behaviour must neither count
 * for nor contain an API key's or a token's agent of the same name. A caller without a kind (a stream's
 * caller named from its session) is local.
 */
export function nameSource(p: Pick<Principal, 'issuer'> & Partial<Pick<Principal, 'kind' | 'own'>>): string {
  return p.kind === undefined || p.kind === 'local' ? '' : vouchedBy(p);
}

/**
 * The caller as one identity across its credentials — what the monitor keys its counts, its toxic-flow
 * memory and its containment on, and the toxic-flow stage and policy's `session` read (docs/identity.md,
 * "One agent, several credentials"). An agent's own credentials (`agentCredential`: its API keys, two
 * during a rotation, and its `agent add` client credentials) are the agent, as for policy and
 * `kill --agent`. A user's token and a local caller stay themselves: source of names, agent and subject —
 * another user of the same client (an external issuer's client id is often one application many users
 * sign in with) neither fills nor frees this one's counts.
 */
export function callerIdentity(p: Principal): string {
  if (agentCredential(p)) return `${OWN_ISSUER}\u0000${p.agent}`;
  return `${nameSource(p)}\u0000${p.agent}\u0000${p.subject}`;
}

/** Local principals by subject and agent: one object each, not one per call (bounded: cleared when full). */
const locals = new Map<string, Map<string, Principal>>();

export function localPrincipal(subject: string, agent: string): Principal {
  let bySubject = locals.get(subject);
  let principal = bySubject?.get(agent);
  if (principal) return principal;
  principal = Object.freeze({ kind: 'local', subject, agent, scopes: Object.freeze([]), allScopes: true, roles: Object.freeze([]) } as const);
  if (!bySubject || bySubject.size >= 1000) {
    if (locals.size >= 100) locals.clear();
    locals.set(subject, (bySubject = new Map()));
  }
  bySubject.set(agent, principal);
  return principal;
}

/**
 * Whether a credential holds operator scopes only — the control plane's (`portcullis:*`, and whatever
 * `listen.metricsScope` and `approvals.adminScope` name) and nothing else: a scrape key or an approval
 * desk's key, which must not double as an MCP caller (redteam-g F3). A credential holding no scope at all
 * is not one (it holds what rules that select by no scope give, docs/identity.md); local principals are not.
 */
export function operatorScopesOnly(p: Principal, operatorScopes: readonly string[]): boolean {
  if (p.allScopes || p.scopes.length === 0) return false;
  return p.scopes.every((scope) => scope.startsWith('portcullis:') || operatorScopes.includes(scope));
}

/** The scopes of `needed` that `principal` lacks. */
export function missingScopes(principal: Principal, needed: readonly string[]): string[] {
  if (principal.allScopes || needed.length === 0) return [];
  return needed.filter((scope) => !principal.scopes.includes(scope));
}

/** Keys already spelled out: several stages of one call ask for its principal's. */
const keys = new WeakMap<Principal, string>();

/**
 * The user, whatever agent acts for them: the verified issuer (or, for local principals, the kind) and
 * subject. What `per: principal` limits and the audit budget count against: an agent is an OAuth client a
 * user may register again at will, so a key that includes it hands every new client a fresh allowance.
 */
export function subjectKey(p: Principal): string {
  // An API key's or an agent's client-credentials subject names the credential, not a user: nobody stands
  // behind it but the agent, so the agent is whom it counts against (two keys of one agent, one allowance).
  if (agentCredential(p)) return `agent\u0000${OWN_ISSUER}\u0000${p.agent}`;
  return `${p.kind}\u0000${p.issuer ?? ''}\u0000${p.subject}`;
}

/** A stable key for per-principal-and-agent state (task, cursor and approval ownership). */
export function principalKey(p: Principal): string {
  let key = keys.get(p);
  if (key === undefined) {
    key = `${p.issuer ?? p.kind}\u0000${p.subject}\u0000${p.agent}`;
    keys.set(p, key);
  }
  return key;
}

/**
 * Whether a person can be asked through this caller's client (in-band approval): a user's sign-in
 * stands behind it, or it is local (the stdio front or a gateway without identity: the machine's own
 * user, whom nothing here tells apart from the agents anyway). An API key or an agent's client
 * credentials have nobody behind them: their client would be approving its own calls.
 */
export function hasHumanBehind(p: Principal): boolean {
  return p.kind === 'local' || p.signedIn === true;
}

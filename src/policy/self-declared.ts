/**
 * Values a caller declares about itself — the task label (`Portcullis-Task` header, `_meta`
 * "dev.portcullis/task") and, without identity, the agent name (the client's own `clientInfo.name`) —
 * may restrict what a verified principal may do, never extend it (security invariant 4).
 *
 * Enforced at load (policy.ts): an allow or approve rule may select by task only together with a
 * principal selector. Reported by `config check` and at start (warnings, below): what still leans on a
 * self-declared value — a deny a caller avoids by not declaring a task or by picking another name, an
 * allow anyone can claim by naming itself, a per-agent limit escaped by rotating names.
 */
import type { PolicyConfig, RuleConfig } from './schema.ts';
import { compileCondition } from './condition.ts';

export interface SelfDeclaredWarning {
  path: (string | number)[];
  message: string;
}

/**
 * True when the globs name nobody in particular: absent, or one made of wildcards alone (`*`, `**`,
 * `?*`, `*?`… match every name, or every name but the shortest).
 */
export const everyone = (globs: readonly string[] | undefined): boolean => globs === undefined || globs.some((g) => /^[*?]+$/.test(g));

/** True when the rule's principal selector narrows who matches (a `*` glob alone does not). */
export function hasPrincipalSelector(principal: RuleConfig['principal']): boolean {
  if (!principal) return false;
  return !everyone(principal.subjects) || !everyone(principal.agents) || principal.roles !== undefined || principal.scopes !== undefined;
}

/** True when the only principal selector is the agent name. */
const onlyAgents = (principal: RuleConfig['principal']): boolean =>
  principal !== undefined && !everyone(principal.agents) && everyone(principal.subjects) && principal.roles === undefined && principal.scopes === undefined;

/**
 * Where local principals take the client's own `clientInfo.name` as their agent (no
 * `identity.localAgent`): on every front while identity is off, and on the stdio front (`portcullis
 * stdio`, which authenticates nobody) while it is on.
 */
export type SelfDeclaredAgents = 'identity-off' | 'stdio-front' | undefined;

/** Where agent names are self-declared in `config`, if anywhere. */
export function selfDeclaredAgents(identityOn: boolean, localAgent: string | undefined): SelfDeclaredAgents {
  if (localAgent !== undefined) return undefined;
  return identityOn ? 'stdio-front' : 'identity-off';
}

/** What in the policy relies on self-declared values (task labels; agent names where `agents` says). */
export function selfDeclaredWarnings(policy: PolicyConfig | undefined, agents: SelfDeclaredAgents): SelfDeclaredWarning[] {
  if (!policy) return [];
  const out: SelfDeclaredWarning[] = [];
  const agentsSelfDeclared = agents !== undefined;
  const NAME =
    agents === 'stdio-front'
      ? 'on the stdio front (portcullis stdio) agent names are the client\'s own clientInfo.name, since identity.localAgent is not set'
      : 'agent names are the client\'s own clientInfo.name while identity is off';
  const FIX = agents === 'stdio-front' ? 'set identity.localAgent' : 'turn identity on, or set identity.localAgent';
  policy.rules.forEach((rule, i) => {
    const path = ['policy', 'rules', i];
    const condition = rule.when === undefined ? undefined : compileCondition(rule.when);
    const usesTask = condition !== undefined && !('problem' in condition) && condition.usesTask;
    const usesAgent = condition !== undefined && !('problem' in condition) && condition.usesAgent;
    // Deny and approve rules are gates: narrowed by a label the caller picks, they are avoided by picking another.
    if ((rule.effect === 'deny' || rule.effect === 'approve') && (rule.tasks || usesTask)) {
      out.push({ path: [...path, rule.tasks ? 'tasks' : 'when'], message: `${rule.effect} rule "${rule.name}" applies only to a declared task label: a caller avoids it by declaring none (or another)` });
    }
    if (!agentsSelfDeclared) return;
    if (!everyone(rule.principal?.agents) || usesAgent) {
      const where = [...path, !everyone(rule.principal?.agents) ? 'principal' : 'when'];
      if (rule.effect === 'deny') out.push({ path: where, message: `deny rule "${rule.name}" selects by agent name, and ${NAME}: a client avoids it by naming itself differently; ${FIX}` });
      else if (onlyAgents(rule.principal) || usesAgent) {
        out.push({ path: where, message: `${rule.effect} rule "${rule.name}" selects by agent name, and ${NAME}: any client can claim that name; ${agents === 'stdio-front' ? 'set identity.localAgent' : 'turn identity on, or select by subject'}` });
      }
    }
  });
  // On the stdio front alone, a client that renames itself to escape a per-agent limit gains what
  // restarting itself would: not warned about (the shipped default counts per agent, for HTTP callers).
  if (agents === 'identity-off') {
    policy.limits.forEach((limit, i) => {
      if (limit.per !== 'agent') return;
      out.push({ path: ['policy', 'limits', i, 'per'], message: `limit "${limit.name}" counts per agent, and ${NAME}: a client escapes it by changing its name; use per: principal or server, or ${FIX}` });
    });
  }
  return out;
}

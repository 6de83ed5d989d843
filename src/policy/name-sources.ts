/**
 * A subject or agent name identifies a caller only together with who vouched for it: `bob` signed in
 * at the embedded server and `bob` in a token of an external issuer are two people, and an external
 * issuer's client ids are chosen in another trust domain than the agent names an admin gives API keys.
 *
 * Checked at load: where names come from more than one source (the gateway's own — embedded sign-in
 * and API keys — and each trusted external issuer), an allow or approve rule that selects by subjects or
 * agents must say whose with `principal.issuers`; a deny rule may match every source's name (the safe
 * side). `when` conditions that read names without `principal.issuer` are warned about.
 */
import type { IdentityConfig } from '../auth/schema.ts';
import { OWN_ISSUER } from '../auth/principal.ts';
import { compileCondition } from './condition.ts';
import type { PolicyConfig } from './schema.ts';
import { everyone } from './self-declared.ts';

export interface NameSourceProblem {
  path: (string | number)[];
  message: string;
}

/** Where the names of authenticated callers come from: `portcullis` and each external issuer's `iss`. */
export function nameSources(identity: IdentityConfig | undefined): string[] {
  if (!identity) return [];
  const own = (identity.embedded?.enabled ?? false) || (identity.apiKeys?.enabled ?? false);
  return [...(own ? [OWN_ISSUER] : []), ...identity.issuers.map((i) => i.issuer)];
}

/** Errors (rules that would mix sources, unknown issuers) and warnings (conditions reading names alone). */
export function nameSourceProblems(policy: PolicyConfig | undefined, identity: IdentityConfig | undefined): { errors: NameSourceProblem[]; warnings: NameSourceProblem[] } {
  const errors: NameSourceProblem[] = [];
  const warnings: NameSourceProblem[] = [];
  if (!policy) return { errors, warnings };
  const sources = nameSources(identity);
  const several = sources.length > 1;
  const listed = [...new Set([OWN_ISSUER, ...sources])].map((s) => JSON.stringify(s)).join(', ');
  policy.rules.forEach((rule, i) => {
    const path = ['policy', 'rules', i];
    const p = rule.principal;
    p?.issuers?.forEach((issuer, j) => {
      if (issuer !== OWN_ISSUER && !sources.includes(issuer)) errors.push({ path: [...path, 'principal', 'issuers', j], message: `no source of names "${issuer}" here (accepted: ${listed}; "${OWN_ISSUER}" is the embedded sign-in, API keys and local callers)` });
    });
    if (!several || rule.effect === 'deny') return;
    const byName = !everyone(p?.subjects) || !everyone(p?.agents);
    if (byName && p?.issuers === undefined) {
      errors.push({
        path: [...path, 'principal'],
        message: `${rule.effect} rule "${rule.name}" selects by ${!everyone(p?.subjects) ? 'subject' : 'agent'} names, and several issuers vouch for names here (${listed}): a name from one would match a rule written for another; say whose with principal.issuers`,
      });
    }
    const condition = rule.when === undefined ? undefined : compileCondition(rule.when);
    if (condition && !('problem' in condition) && condition.usesNames && !condition.usesIssuer && p?.issuers === undefined) {
      warnings.push({ path: [...path, 'when'], message: `${rule.effect} rule "${rule.name}" reads principal names in its condition, and several issuers vouch for names here (${listed}); compare principal.issuer too, or set principal.issuers` });
    }
  });
  return { errors, warnings };
}

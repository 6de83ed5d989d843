/**
 * Which scopes a token of the embedded authorization server may carry: the base scopes
 * (`identity.scopes`, what the 401 challenge asks every client for) plus a user's own `scopes` and those
 * of its roles (`identity.embedded.roles`, "*" = every scope); an agent's, the scopes it was created with. Applied when the user consents, when a token is minted or refreshed, and again by the
 * resource server on every request (so removing a role takes effect at once, not when tokens expire).
 */
import type { EmbeddedConfig } from './schema.ts';

export interface ScopeCaps {
  /** The scopes of `requested` the user may hold; undefined: no such user (any more). */
  forUser(username: string, requested: readonly string[]): string[] | undefined;
  /** The user's roles as configured (none for an unknown user). */
  rolesOf(username: string): string[];
}

export function createScopeCaps(config: Pick<EmbeddedConfig, 'users' | 'roles'>, baseScopes: readonly string[] = []): ScopeCaps {
  const allowed = new Map<string, { every: boolean; scopes: Set<string>; roles: string[] }>();
  for (const user of config.users) {
    const scopes = new Set([...baseScopes, ...user.scopes]);
    for (const role of user.roles) for (const scope of config.roles[role] ?? []) scopes.add(scope);
    allowed.set(user.username, { every: scopes.has('*'), scopes, roles: [...user.roles] });
  }
  return {
    forUser(username, requested) {
      const user = allowed.get(username);
      if (!user) return undefined;
      return requested.filter((scope) => user.every || user.scopes.has(scope));
    },
    rolesOf: (username) => [...(allowed.get(username)?.roles ?? [])],
  };
}

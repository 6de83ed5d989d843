/**
 * oidc-provider's storage adapter over identity.db. Clients come from three places: agents
 * (`portcullis agent add`: client credentials only, secret checked by hash before oidc-provider sees the
 * request), clients an administrator registered (`portcullis client add`: authorization code + PKCE),
 * and dynamic registrations (rows of the oauth table). Everything else is the oauth table, with secret
 * ids stored by hash (see IdentityStore).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import type { IdentityStore } from './store.ts';

/** The client secret an agent presented, checked against its hash, for the duration of one request. */
export const presentedAgent = new AsyncLocalStorage<{ clientId: string; secret: string; method: string }>();

export function createOAuthAdapter(store: IdentityStore) {
  return class IdentityDbAdapter {
    readonly model: string;
    constructor(model: string) {
      this.model = model;
    }
    async upsert(id: string, payload: Record<string, unknown>, expiresIn?: number): Promise<void> {
      store.oauthUpsert(this.model, id, payload, expiresIn ? Date.now() + expiresIn * 1000 : null);
    }
    async find(id: string): Promise<Record<string, unknown> | undefined> {
      if (this.model === 'Client') {
        const agent = store.agentByClientId(id);
        if (agent) {
          if (agent.revokedAt) return undefined;
          const live = presentedAgent.getStore();
          return {
            client_id: agent.clientId,
            // Only a request whose secret matched the stored hash sees it; any other sees noise.
            client_secret: live?.clientId === id ? live.secret : randomBytes(32).toString('base64url'),
            token_endpoint_auth_method: live?.clientId === id ? live.method : 'client_secret_basic',
            grant_types: ['client_credentials'],
            response_types: [],
            redirect_uris: [],
            client_name: `agent ${agent.name}`,
            id_token_signed_response_alg: 'ES256',
          };
        }
        const registered = store.client(id);
        if (registered) {
          return {
            client_id: registered.clientId,
            client_name: registered.name,
            redirect_uris: registered.redirectUris,
            grant_types: ['authorization_code', 'refresh_token'],
            response_types: ['code'],
            token_endpoint_auth_method: 'none',
            id_token_signed_response_alg: 'ES256',
            // Private-use URI schemes are for native apps (RFC 8252 §7.1); oidc-provider allows them only there.
            application_type: registered.redirectUris.some((u) => !/^https?:/i.test(u)) ? 'native' : 'web',
          };
        }
      }
      return store.oauthFind(this.model, id);
    }
    async findByUid(uid: string): Promise<Record<string, unknown> | undefined> {
      return store.oauthFindByUid(this.model, uid);
    }
    async findByUserCode(code: string): Promise<Record<string, unknown> | undefined> {
      return store.oauthFindByUserCode(this.model, code);
    }
    async consume(id: string): Promise<void> {
      store.oauthConsume(this.model, id);
    }
    async destroy(id: string): Promise<void> {
      store.oauthDestroy(this.model, id);
    }
    async revokeByGrantId(grantId: string): Promise<void> {
      store.oauthRevokeGrant(grantId);
    }
  };
}

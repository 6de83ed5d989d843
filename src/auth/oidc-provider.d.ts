/** The small part of oidc-provider's API Portcullis uses (the package ships no type declarations). */
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export interface InteractionDetails {
    uid: string;
    prompt: { name: string; details: Record<string, unknown> };
    params: Record<string, unknown>;
    session?: { accountId: string };
    grantId?: string;
  }

  export interface GrantInstance {
    addOIDCScope(scope: string): void;
    addResourceScope(resource: string, scope: string): void;
    rejectResourceScope(resource: string, scope: string): void;
    save(): Promise<string>;
  }

  export interface TokenInstance {
    isValid: boolean;
    accountId?: string;
    clientId: string;
    grantId?: string;
    scope?: string;
    aud?: string | string[];
    exp?: number;
    /** Issued at (seconds), as oidc-provider keeps it on every token. */
    iat?: number;
  }

  export interface ClientInstance {
    clientId: string;
    clientName?: string;
  }

  /** The model method that makes a token's id (for an opaque token, its value). */
  export interface TokenIdSource {
    generateTokenId(): string;
  }

  export default class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>);
    proxy: boolean;
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>;
    interactionFinished(req: IncomingMessage, res: ServerResponse, result: Record<string, unknown>, options?: { mergeWithLastSubmission?: boolean }): Promise<void>;
    Grant: { new (init: { accountId: string; clientId: string }): GrantInstance; find(id: string): Promise<GrantInstance | undefined> };
    Client: { find(id: string): Promise<ClientInstance | undefined> };
    AccessToken: { find(value: string): Promise<TokenInstance | undefined>; prototype: TokenIdSource };
    ClientCredentials: { find(value: string): Promise<TokenInstance | undefined>; prototype: TokenIdSource };
    RefreshToken: { prototype: TokenIdSource };
    on(event: string, listener: (...args: unknown[]) => void): void;
  }

  export const errors: { InvalidTarget: new (description?: string) => Error };

  /** What a prompt check answers: whether the prompt is needed. */
  export type CheckResult = boolean;
  export interface PolicyCheck {
    readonly reason: string;
  }
  export interface PolicyPrompt {
    checks: { add(check: PolicyCheck, index?: number): void };
  }
  export const interactionPolicy: {
    base(): { get(name: string): PolicyPrompt | undefined };
    Check: {
      new (reason: string, description: string, check: (ctx: any) => CheckResult | Promise<CheckResult>): PolicyCheck;
      readonly REQUEST_PROMPT: CheckResult;
      readonly NO_NEED_TO_PROMPT: CheckResult;
    };
  };
}

/**
 * A stand-in external authorization server on loopback for the identity tests: one ES256 key (kid k1)
 * published at `<origin>/jwks` for every issuer path under `origin`, an RFC 7662 endpoint answering
 * what the test sets (any path ending in /introspect), and access tokens signed with that key.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';

export interface TestIssuer {
  /** `http://127.0.0.1:<port>`: issuers are this origin or paths under it. */
  readonly origin: string;
  /** What the introspection endpoint answers from now on. */
  introspection: Record<string, unknown>;
  /** An access token (typ at+jwt, 10 minutes) of `iss` for `aud`, carrying `claims`. */
  sign(iss: string, aud: string, claims: Record<string, unknown>): Promise<string>;
  close(): void;
}

export async function startTestIssuer(): Promise<TestIssuer> {
  const pair = await generateKeyPair('ES256', { extractable: true });
  const key: CryptoKey = pair.privateKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  const answers = { introspection: { active: false } as Record<string, unknown> };
  const server: Server = createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(req.url?.endsWith('/introspect') ? answers.introspection : { keys: [jwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get introspection() {
      return answers.introspection;
    },
    set introspection(answer) {
      answers.introspection = answer;
    },
    sign(iss, aud, claims) {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'at+jwt' }).setIssuer(iss).setAudience(aud).setIssuedAt(now).setExpirationTime(now + 600).sign(key);
    },
    close() {
      server.closeAllConnections();
      server.close();
    },
  };
}

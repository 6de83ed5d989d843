export interface FakeSecrets {
  [kind: string]: string;
  aws: string;
  github: string;
  slack: string;
  stripe: string;
  jwt: string;
  bearer: string;
  pem: string;
  url: string;
}

/** Secret-shaped test values, assembled at run time so that no secret-shaped literal is committed. */
export function fakeSecrets(): FakeSecrets {
  const r = (n: number, alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789') => Array.from({ length: n }, (_, i) => alphabet[(i * 7 + 3) % alphabet.length]).join('');
  return {
    aws: `AKIA${r(16, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')}`,
    github: `ghp_${r(36)}`,
    slack: `xoxb-${r(12, '0123456789')}-${r(24)}`,
    stripe: `sk_live_${r(24)}`,
    jwt: `eyJ${r(20)}.eyJ${r(30)}.${r(43)}`,
    bearer: `Bearer ${r(40)}`,
    pem: `-----BEGIN RSA PRIVATE KEY-----\n${r(64)}\n-----END RSA PRIVATE KEY-----`,
    url: `postgres://admin:${r(14)}@db.internal:5432/app`,
  };
}

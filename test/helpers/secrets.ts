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

/**
 * One value of each shape the audit trail used to mask on its own list (before DLP's rules covered
 * them), as a text that holds it and the part that must never get through (`secret`). Assembled at run
 * time; `seed` varies the characters.
 */
export function secretShapes(seed = 0): Record<string, { text: string; secret: string }> {
  const MIXED = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const r = (n: number, alphabet = MIXED) => Array.from({ length: n }, (_, i) => alphabet[(i * 7 + 3 + seed * 11) % alphabet.length]).join('');
  const whole = (text: string) => ({ text, secret: text });
  const pem = ['-----BEGIN', 'PRIVATE', 'KEY-----'].join(' ');
  const password = `pw${r(10, '0123456789abcdef')}`;
  const token = r(32);
  return {
    aws: whole(`AKIA${r(16, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')}`),
    github: whole(`ghp_${r(36)}`),
    'github-fine-grained': whole(`github_pat_${r(22)}`),
    'slack-user': whole(`xoxp-${r(30)}`),
    stripe: whole(`rk_test_${r(20)}`),
    anthropic: whole(`sk-ant-api03-${r(80)}`),
    'openai-project': whole(`sk-proj-${r(60)}`),
    'sk-short': whole(`sk-${r(20)}`),
    google: whole(`AIza${r(35)}`),
    jwt: whole(`eyJ${r(9)}.eyJ${r(10)}.${r(11)}`),
    'private-key-header': whole(pem),
    bearer: { text: `Authorization: Bearer ${token}`, secret: token },
    'url-credentials': { text: `https://user:${password}@example.com/`, secret: password },
  };
}

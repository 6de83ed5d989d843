/**
 * The HTML pages of the embedded authorization server: sign-in, consent, sign-out. Every value that
 * came from outside (a client's self-chosen name, its redirect URI, scopes) is escaped; the consent page
 * says what a user needs to judge a request: where the code will be sent, that the client's name is the
 * client's own claim, and which of the asked scopes the user's roles do not allow.
 */

/**
 * Headers of every page. CSP form-action also governs the redirects that follow a form post (CSP 3
 * §6.4.1), and the sign-in and consent forms end in a redirect to the client: its redirect URI's origin
 * (or private-use scheme) is allowed besides 'self', nothing else.
 */
export function pageHeaders(redirectUri?: string): Record<string, string> {
  return {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': `default-src 'none'; style-src 'unsafe-inline'; form-action 'self'${formTarget(redirectUri)}; frame-ancestors 'none'`,
    'cache-control': 'no-store',
    'x-frame-options': 'DENY',
  };
}

function formTarget(redirectUri: string | undefined): string {
  if (!redirectUri) return '';
  try {
    const url = new URL(redirectUri);
    if (url.protocol === 'http:' || url.protocol === 'https:') return ` ${url.origin}`;
    return /^[a-z][a-z0-9+.-]*:$/.test(url.protocol) ? ` ${url.protocol}` : '';
  } catch {
    return '';
  }
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${escapeHtml(title)} · Portcullis</title>
<style>body{font:16px system-ui,sans-serif;max-width:30rem;margin:4rem auto;padding:0 1rem}label{display:block;margin:.8rem 0}input{width:100%;padding:.4rem;font:inherit}button{padding:.5rem 1rem;font:inherit;margin-right:.5rem}.err{color:#b00020}.warn{background:#fff4e5;padding:.5rem}code{background:#eee;padding:0 .2rem}</style></head>
<body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}

export function loginForm(uid: string, error?: string): string {
  return page(
    'Sign in to Portcullis',
    `${error ? `<p class="err" role="alert">${escapeHtml(error)}</p>` : ''}<form method="post" action="/interaction/${escapeHtml(uid)}/login" autocomplete="off">
<label>User <input name="username" required autofocus></label><label>Password <input name="password" type="password" required></label>
<button type="submit">Sign in</button></form>`,
  );
}

export interface ConsentFacts {
  uid: string;
  /** The signed-in user. */
  account: string;
  clientName: string | undefined;
  clientId: string;
  /** How the client came to be known: registered by anyone, by an administrator, or by its metadata URL. */
  clientKind: 'dynamic' | 'admin' | 'metadata-document';
  redirectUri: string;
  /** Resource → scopes the user is asked to grant (already capped by the user's roles). */
  grants: Record<string, string[]>;
  /** Scopes the client asked for that this user may not hold (not granted, whatever the user clicks). */
  refused: string[];
}

export function consentForm(facts: ConsentFacts): string {
  const host = hostOf(facts.redirectUri);
  const items = Object.entries(facts.grants)
    .map(([resource, scopes]) => `<li><code>${escapeHtml(resource)}</code>${scopes.length ? `: ${scopes.map((s) => `<code>${escapeHtml(s)}</code>`).join(' ')}` : ''}</li>`)
    .join('');
  const name = facts.clientName ?? facts.clientId;
  const who =
    facts.clientKind === 'admin'
      ? `<p>The client <strong id="client-name">${escapeHtml(name)}</strong> was registered by an administrator.</p>`
      : facts.clientKind === 'metadata-document'
        ? `<p>The client <strong id="client-name">${escapeHtml(name)}</strong> is described by <code>${escapeHtml(facts.clientId)}</code>; the name is the client's own claim.</p>`
        : `<p class="warn">The client calls itself <strong id="client-name">${escapeHtml(name)}</strong>. <strong>This name is unverified</strong>: anyone can register a client under any name.</p>`;
  return page(
    'Allow access?',
    `${who}
<p>If you allow, your sign-in is sent to <strong id="redirect-host">${escapeHtml(host)}</strong> (<code>${escapeHtml(facts.redirectUri)}</code>). Allow only if you started this from a program you trust on that host.</p>
<p>Signed in as <strong>${escapeHtml(facts.account)}</strong>. It asks to call MCP tools through Portcullis on your behalf:</p>${items ? `<ul>${items}</ul>` : ''}
${facts.refused.length ? `<p class="err" id="refused-scopes">Not granted (your roles do not allow them): ${facts.refused.map((s) => `<code>${escapeHtml(s)}</code>`).join(' ')}</p>` : ''}
<form method="post" action="/interaction/${escapeHtml(facts.uid)}/confirm" style="display:inline"><button type="submit">Allow</button></form>
<form method="post" action="/interaction/${escapeHtml(facts.uid)}/abort" style="display:inline"><button type="submit">Deny</button></form>`,
  );
}

/**
 * The RP-initiated logout confirmation; `form` is oidc-provider's hidden form with its xsrf token. It
 * asks for the password: the session cookie alone proves nothing (docs/identity.md, "No silent sign-in").
 */
export function logoutPage(form: string): string {
  return page(
    'Sign out of Portcullis?',
    `${form}<p>Signing out ends your session and revokes every token issued for your account, on every client.</p>
<label>Password <input name="password" type="password" form="op.logoutForm" autocomplete="current-password"></label>
<button type="submit" form="op.logoutForm" name="logout" value="yes">Sign out</button>`,
  );
}

function hostOf(uri: string): string {
  try {
    const url = new URL(uri);
    return url.host || url.protocol;
  } catch {
    return uri;
  }
}

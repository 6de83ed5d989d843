/**
 * A destination preset by the schema (issue 14): a parameter's `default` (at any depth, an object default's
 * fields included) that is an e-mail address, an account number (IBAN) or a URL. Whatever the prose says — in
 * any language, or nothing at all — a call made with the defaults sends, pays or reports to someone the
 * caller never chose: the attack needs no instruction, only "keep the defaults".
 *
 * Not counted: the tool's own service (a host that carries the server's name, `api.acme.dev` for server
 * `acme`), loopback and private addresses (a local daemon), and `enum`, `const` or `examples` values (a
 * choice offered, not made). A default that is an address of the user's own organisation cannot be told
 * from a stranger's by its text; it is flagged, and an operator who pins such a tool approves it once.
 */

/** Where in a definition a value is a default: `inputSchema.properties.x.default`, `….default.forward_to`, `….default[1]`. */
const DEFAULT_FIELD = /\.default(?:$|[.[])/;
const EMAIL = /[\w.+-]{1,64}@([\w-]{1,63}(?:\.[\w-]{1,63})+)/;
const IBAN = /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b/;
const URL = /\b(?:https?|s3|gs|s?ftp|wss?):\/\/([^\s/?#"'<>]{1,253})/i;
const PHONE = /^\s*\+\d{1,3}[\s.-]?\(?\d{1,4}\)?(?:[\s.-]?\d{2,4}){2,5}\s*$/;
const LOCAL_HOST = /^(?:localhost|127\.\d+\.\d+\.\d+|0\.0\.0\.0|10\.\d+\.\d+\.\d+|192\.168\.\d+\.\d+|172\.(?:1[6-9]|2\d|3[01])\.\d+\.\d+|\[::1\]|[\w-]+\.local|[\w-]+\.internal)(?::\d+)?$/i;

export interface PresetDestination {
  field: string;
  span: string;
}

/** The first default of the schema that is a destination the caller did not choose (see the module's comment). */
export function presetDestination(texts: ReadonlyArray<{ field: string; text: string }>, server: string): PresetDestination | undefined {
  const own = server.replace(/^[^:]*:/, '').toLowerCase().replace(/[^a-z0-9]/g, '');
  const ownService = (host: string): boolean => own.length >= 4 && host.toLowerCase().replace(/[^a-z0-9.]/g, '').includes(own);
  for (const { field, text } of texts) {
    if (!field.startsWith('inputSchema.') || !DEFAULT_FIELD.test(field) || field.endsWith('(name)')) continue;
    const url = URL.exec(text);
    if (url && !LOCAL_HOST.test(url[1]!) && !ownService(url[1]!)) return { field, span: trim(text) };
    const email = EMAIL.exec(text);
    if (email && !ownService(email[1]!)) return { field, span: trim(text) };
    if (IBAN.test(text)) return { field, span: trim(text) };
    // A phone number in international form: messages sent with the defaults go to it.
    if (PHONE.test(text)) return { field, span: trim(text) };
  }
  return undefined;
}

function trim(s: string): string {
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

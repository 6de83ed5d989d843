/**
 * Resource URIs are judged in canonical form only.
 *
 * A rule's `resources` globs and the "only what the server listed" check read the URI as a string, but
 * a server reads it as a URL: `new URL(uri)` (WHATWG URL Standard, the ordinary Node idiom before
 * `fileURLToPath`) resolves `.`/`..` segments, `%2e` spelled dots among them, and a URI template
 * expansion percent-decodes `%2F` back into a separator. So `mem://public/../secret/x`,
 * `mem://public/%2e%2e/secret/x` and `mem://public/%2E%2E%2Fsecret%2Fx` all spell a place under
 * `public/` and mean one outside it.
 *
 * Rather than forward a rewritten URI (which a server that does not normalise would read differently
 * again), a URI is refused unless it already is its own canonical form, so what is judged, what is
 * forwarded and what the server resolves are the same string:
 * - it parses as a WHATWG URL and serialises (`href`) to exactly what was sent: no dot segments, no
 *   backslashes, no upper-case scheme or host, nothing a parser would rewrite;
 * - it has no percent-escape of an unreserved character (RFC 3986 §2.3: `%41` *is* `A`, and a deny
 *   rule must not be sidestepped by spelling a name differently), of `/` or `\` (a separator a server
 *   decodes after the judgement), or of `%` itself (double encoding);
 * - it has no empty path segment (`file:///pub//private/x`): WHATWG keeps `//`, but a server that turns
 *   the URI into a path (`fileURLToPath`) hands `/pub//private/x` to the kernel, which reads `/pub/private/x`
 *   — a glob on `…/pub/private/*` would not see it;
 * - its escapes decode to valid UTF-8 (no overlong `%C0%AE`, which lenient decoders read as `.`) that a
 *   server normalising to NFKC reads unchanged (`%EF%BC%8E` is `．`, which NFKC makes `.`);
 * - a `file:` URI has no query and no fragment (a file has neither: `fileURLToPath` drops them, a server
 *   that slices strings keeps them in the path), and the query or fragment of another scheme holds no
 *   dot segment or empty one (`?p=/../../secret`, `#/../secret`).
 *
 * Not checked: what the URI names on the server (a symlink, a server's own aliases); completion
 * references to a resource template (`ref/resource`), which name a template, not a resource.
 */
import { GatewayError } from '../errors.ts';
import { percentDecodeUtf8 } from '../util/percent.ts';

/** `%XX` escapes that decode to an unreserved character (ALPHA, DIGIT, `-._~`), `/`, `\` or `%`. */
const MISLEADING_ESCAPE = /%(?:[46][1-9a-f]|[57][0-9a]|3[0-9]|2[def]|5f|7e|5c|25)/i;

/** The refusal for a resource URI that is not its own canonical form, or undefined when it is. */
export function checkResourceUri(uri: string): GatewayError | undefined {
  const refuse = (why: string) =>
    new GatewayError('PC_PROTOCOL_INVALID_PARAMS', `params.uri ${JSON.stringify(uri.length > 200 ? `${uri.slice(0, 200)}…` : uri)} ${why}; resource URIs are accepted only in canonical form (docs/policy.md)`);
  const escape = MISLEADING_ESCAPE.exec(uri);
  if (escape) return refuse(`percent-encodes ${JSON.stringify(decodeURIComponent(escape[0]))} (${escape[0]}), which a server decodes after the policy judged it`);
  let href: string;
  try {
    href = new URL(uri).href;
  } catch {
    return refuse('is not a URL a server could parse (WHATWG URL Standard)');
  }
  if (href !== uri) return refuse(`is read by URL parsers as ${JSON.stringify(href)} (dot segments, backslashes or case resolved); send that instead`);
  const url = new URL(uri);
  if (url.pathname.includes('//')) return refuse('has an empty path segment ("//"), which a server reading it as a file path collapses');
  if (url.protocol === 'file:' && (url.search !== '' || url.hash !== '' || /[?#]/.test(uri))) {
    return refuse('is a file URI with a query or fragment ("?…", "#…"), which a server reading it as a path keeps and a URL parser drops');
  }
  if (/(?:^|[/=&?#])\.\.?(?:[/&#]|$)|\/\//.test(url.search + url.hash)) return refuse('has a dot segment or an empty segment in its query or fragment');
  let decoded: string;
  try {
    decoded = percentDecodeUtf8(uri);
  } catch {
    return refuse('has percent-escapes that are not valid UTF-8 once decoded (overlong forms such as %C0%AE are read as "." by lenient decoders)');
  }
  if (decoded.normalize('NFKC') !== decoded) return refuse('decodes to characters that Unicode compatibility normalisation (NFKC) changes, which a server or file system that normalises reads as another name');
  return undefined;
}

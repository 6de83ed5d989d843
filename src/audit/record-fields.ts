/**
 * The fields of an audit record that are a client's or server's own text, through the secret test
 * before the record is sealed: the agent name (`clientInfo.name`), the subject, a string JSON-RPC id,
 * the method name (any string a client sends, also before initialize) and the keys a DLP finding's
 * path spells (a server chooses the keys of `_meta` and `error.data`). One holding a secret is written
 * as `[redacted]`; a path keeps its shape, with each key that holds one written `["[redacted]#n"]`.
 * The reason, the target and the arguments are redacted where they are built (log.ts, redact.ts).
 */
import type { AuditRecord } from './record.ts';
import { MASK, redactText, type SecretTest } from './redact.ts';

export function screenPrincipal(principal: AuditRecord['principal'], holdsSecret: SecretTest): AuditRecord['principal'] {
  const agent = redactText(principal.agent, holdsSecret);
  const subject = redactText(principal.subject, holdsSecret);
  if (agent === principal.agent && subject === principal.subject) return principal;
  return { ...principal, agent, subject };
}

export function screenRequestId(id: string | number | null | undefined, holdsSecret: SecretTest): string | number | null {
  if (id === undefined || id === null) return null;
  return holdsSecret(String(id)) ? MASK : id;
}

type Finding = NonNullable<AuditRecord['dlp']>[number];

/** Findings whose paths name no secret-holding key (the same array when none does). */
export function screenFindings(findings: readonly Finding[], holdsSecret: SecretTest): Finding[] {
  let copy: Finding[] | undefined;
  findings.forEach((f, i) => {
    const path = screenPath(f.path, holdsSecret);
    if (path !== f.path) (copy ??= [...findings])[i] = { ...f, path };
  });
  return copy ?? (findings as Finding[]);
}

/** One step of a path as engine.ts spells it: `.name`, `[3]` or `["any key"]`. */
const SEGMENT = /\.([A-Za-z_$][\w$]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/y;
const ROOT = /^[A-Za-z_$][\w$]*/;

/** `path` with each key that holds a secret masked; all of it after the root when it cannot be read step by step. */
export function screenPath(path: string, holdsSecret: SecretTest): string {
  if (!holdsSecret(path)) return path;
  const root = ROOT.exec(path)?.[0] ?? '';
  let out = root;
  let masked = 0;
  SEGMENT.lastIndex = root.length;
  while (SEGMENT.lastIndex < path.length) {
    const at = SEGMENT.lastIndex;
    const m = SEGMENT.exec(path);
    if (!m || m.index !== at) return `${root}["${MASK}"]`;
    if (m[2] !== undefined) out += m[0];
    else {
      const key = m[1] ?? (JSON.parse(m[3]!) as string);
      out += holdsSecret(key) ? `["${MASK}#${++masked}"]` : m[0];
    }
  }
  // A secret spelled across steps (or one the steps hide) leaves nothing but the root.
  return holdsSecret(out) ? `${root}["${MASK}"]` : out;
}

/**
 * The definition scanner: finds text in what a server shows the model — tool, prompt, resource and
 * resource-template definitions, server instructions — that is aimed at the model rather than at the
 * user: hidden characters, instructions, secrecy, credential grabbing, exfiltration, argument
 * tampering, and references to other servers' tools (shadowing). It reads every string of a
 * definition at any depth (`walkDefinition`): names, titles, descriptions, and in schemas every
 * property name, `$defs`, `items`, `oneOf`/`anyOf`/`allOf`, `additionalProperties`, defaults, enums,
 * examples, annotations, prompt arguments and `_meta`. A definition too deep or too large to read in
 * full is reported as unreviewable (high), never scanned in part.
 *
 * Each rule is a bounded regular expression (no nested quantifiers, so a hostile description cannot
 * make it slow) with a severity; `high` findings quarantine the definition, the rest warn. References
 * to sibling tools of the same server are normal ("use the 'think' tool first") and are not findings.
 *
 * Not detected: instructions phrased without any of the cues below, in languages other than English,
 * Spanish, French, German and Chinese, or split across fields. The scanner is one layer of several.
 */

import { contributions, probability, type Weights } from './logistic.ts';
import { purposeOf, quotedSubject, refrains, type Purpose } from './purpose.ts';
import { WEIGHTS } from './signal-weights.ts';
import { CUE_WHY, declaresSecrets, ownCredentialParameter, definitionSignals, isExampleQuote, FAMILY_WHY, type Cue, type Family, type Feature } from './signals.ts';
import { RULES, type Rule, type Severity } from './rules.ts';

export { HOMOGLYPH_NAME, RULES, type Rule, type Severity } from './rules.ts';

export type Verdict = 'high' | 'warn' | 'ok';

export interface Finding {
  rule: string;
  severity: Severity;
  /** Where in the definition: `description`, `inputSchema.properties.path.description`, … */
  field: string;
  /** The matched text (trimmed to 120 characters; invisible characters shown as \u{…}). */
  span: string;
  why: string;
}

/** A definition as a server lists it (a tool, prompt, resource, template, or a server's self-description). */
export interface Definition {
  name?: unknown;
  [key: string]: unknown;
}

export interface ScanContext {
  /** The server the tool belongs to. */
  server: string;
  /** Tool names of the same server (references to them are normal). */
  siblings: ReadonlySet<string>;
  /** Tool names of other servers, by server (references to them are shadowing). */
  others: ReadonlyMap<string, ReadonlySet<string>>;
  /** Whether the definition's `name` is an identifier (tools, prompts; default) rather than a display name (resources). */
  identifierName?: boolean;
  /** The statistical layer's weights (default: the trained ones shipped, `signal-weights.ts`). */
  weights?: Weights;
  /** False: only the phrase rules, no statistical layer (`supply.scanner.signals: false`). */
  signals?: boolean;
}

/** How the statistical layer runs: on or off, and with which weights and thresholds. */
export interface SignalLayer {
  signals?: boolean;
  weights?: Weights;
}

/** The layer a config asks for (`supply.scanner`): the trained weights with its thresholds. */
export function signalLayer(config: { signals?: boolean; highAt?: number | undefined; warnAt?: number | undefined }): SignalLayer {
  const high = config.highAt ?? WEIGHTS.high;
  return { signals: config.signals !== false, weights: { ...WEIGHTS, high, warn: Math.min(config.warnAt ?? WEIGHTS.warn, high) } };
}

/** One signal of the scanner (the DLP engine appl*/
export interface DefinitionText {
  field: string;
  text: string;
  /** The definition's own identifier (a tool or prompt name): the homoglyph rule applies. */
  isName?: boolean;
}

/**
 * Keys that are the vocabulary of JSON Schema and of MCP definitions rather than text someone wrote:
 * their values are walked, the keys themselves are not reported as texts. Every other key (a property
 * name, a `$defs` entry, an `_meta` key) is text a model reads and is scanned.
 */
const VOCABULARY: ReadonlySet<string> = new Set([
  '$schema', '$id', '$ref', '$anchor', '$dynamicRef', '$dynamicAnchor', '$defs', '$comment', '$vocabulary', 'definitions',
  'type', 'properties', 'required', 'description', 'title', 'default', 'enum', 'const', 'examples', 'items', 'prefixItems',
  'additionalItems', 'additionalProperties', 'patternProperties', 'propertyNames', 'unevaluatedProperties', 'unevaluatedItems',
  'dependentRequired', 'dependentSchemas', 'dependencies', 'contains', 'minContains', 'maxContains', 'anyOf', 'oneOf', 'allOf',
  'not', 'if', 'then', 'else', 'format', 'pattern', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf',
  'minLength', 'maxLength', 'minItems', 'maxItems', 'uniqueItems', 'minProperties', 'maxProperties', 'readOnly', 'writeOnly',
  'deprecated', 'contentMediaType', 'contentEncoding', 'contentSchema', 'nullable', 'enumNames',
  'name', 'inputSchema', 'outputSchema', 'annotations', 'arguments', 'uri', 'uriTemplate', 'mimeType', 'size', 'icons', 'src',
  'sizes', 'theme', '_meta', 'execution', 'taskSupport', 'readOnlyHint', 'destructiveHint', 'idempotentHint', 'openWorldHint',
  'audience', 'priority', 'lastModified', 'instructions', 'serverInfo', 'version', 'websiteUrl',
]);

/** Beyond this much text (all strings of a definition) the signal layer does not judge a definition in part: it is rated high. */
export const SIGNAL_LIMITS = { chars: 100_000 } as const;

/** Beyond these a definition is not reviewed in part: it is reported as unreviewable (and quarantined). */
export const WALK_LIMITS = { depth: 64, texts: 20_000, chars: 2_000_000 } as const;

export interface DefinitionWalk {
  texts: DefinitionText[];
  /** Set when the definition exceeds WALK_LIMITS: where the walk stopped and why. */
  overflow?: { field: string; why: string };
}

/**
 * Every string of a definition at any depth — values (descriptions, titles, defaults, enums, examples,
 * `$defs`, `items`, `oneOf`, `outputSchema`, annotations, prompt arguments, `_meta`, …) and every key
 * that is not schema vocabulary (property names) — with its path. `identifierName`: the top-level
 * `name` is an identifier (tools, prompts), so the homoglyph rule applies to it.
 */
export function walkDefinition(definition: unknown, identifierName = true): DefinitionWalk {
  const texts: DefinitionText[] = [];
  let chars = 0;
  let overflow: DefinitionWalk['overflow'];
  const add = (field: string, text: string, isName = false): boolean => {
    if (text === '') return true;
    if (texts.length >= WALK_LIMITS.texts || chars + text.length > WALK_LIMITS.chars) {
      overflow = { field, why: `more than ${WALK_LIMITS.texts} strings or ${WALK_LIMITS.chars} characters` };
      return false;
    }
    chars += text.length;
    texts.push(isName ? { field, text, isName } : { field, text });
    return true;
  };
  const walk = (value: unknown, path: string, depth: number): boolean => {
    if (typeof value === 'string') return add(path, value, identifierName && path === 'name');
    if (typeof value !== 'object' || value === null) return true;
    if (depth > WALK_LIMITS.depth) {
      overflow = { field: path, why: `nested deeper than ${WALK_LIMITS.depth} levels` };
      return false;
    }
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) if (!walk(value[i], `${path}[${i}]`, depth + 1)) return false;
      return true;
    }
    for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
      const at = path === '' ? key : `${path}.${key}`;
      if (!VOCABULARY.has(key) && !add(`${at}(name)`, key)) return false;
      if (!walk(child, at, depth + 1)) return false;
    }
    return true;
  };
  walk(definition, '', 0);
  return overflow ? { texts, overflow } : { texts };
}

function showSpan(text: string): string {
  const visible = text.replace(/[^\x20-\x7E\u00A0-\u024F\u4E00-\u9FFF]/gu, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
  return visible.length > 120 ? `${visible.slice(0, 117)}...` : visible;
}

const WORD = /[A-Za-z][\w-]{3,63}/g;
/** Short or common names (`search`, `list`) appear in ordinary prose; only distinctive ones count. */
function distinctive(name: string): boolean {
  return name.length >= 6 && /[_-]|[a-z][A-Z]/.test(name);
}

const BLOB = /[A-Za-z0-9+/]{40,}={0,2}/g;

/** A run of hexadecimal byte pairs long enough to be a sentence (`4265666f7265…`). */
const HEX_BLOB = /\b(?:[0-9a-fA-F]{2}){20,}\b/g;

/** Text hidden in base64 or hexadecimal blobs, when it decodes to readable text (instructions smuggled in encoding). */
export function decodedBlobs(text: string): Array<{ encoding: 'hex' | 'base64'; text: string }> {
  const out: Array<{ encoding: 'hex' | 'base64'; text: string }> = [];
  for (const blob of text.match(HEX_BLOB) ?? []) {
    // (A hash or an id is hex too: only a blob that decodes to printable text with spaces is read.)
    const decoded = Buffer.from(blob, 'hex').toString('utf8');
    const printable = decoded.replace(/[^\x20-\x7E]/g, '').length / Math.max(1, decoded.length);
    if (printable > 0.9 && /\s/.test(decoded)) out.push({ encoding: 'hex', text: decoded });
  }
  for (const blob of text.match(BLOB) ?? []) {
    const decoded = Buffer.from(blob, 'base64').toString('utf8');
    const printable = decoded.replace(/[^\x20-\x7E]/g, '').length / Math.max(1, decoded.length);
    if (printable > 0.9 && /\s/.test(decoded)) out.push({ encoding: 'base64', text: decoded });
  }
  return out;
}

/**
 * The rules a text matches, remembered by text: schemas repeat the same short strings ("string",
 * "object", common property names) thousands of times across a listing. Bounded, and cleared whole
 * when full (the entries are cheap to recompute).
 */
const MATCH_CACHE_MAX = 20_000;
const matchCache = new Map<string, ReadonlyArray<{ rule: Rule; matched: string }>>();

function ruleMatches(text: string, isName: boolean): ReadonlyArray<{ rule: Rule; matched: string }> {
  const key = `${isName ? 'n' : 't'}${text}`;
  const known = matchCache.get(key);
  if (known) return known;
  const out: Array<{ rule: Rule; matched: string }> = [];
  for (const rule of RULES) {
    // A name is text like any other (a hostile server can put a sentence there); the homoglyph rule is for names only.
    if (rule.fields === 'name' && !isName) continue;
    const match = rule.pattern.exec(text);
    if (match) out.push({ rule, matched: match[0] });
  }
  if (matchCache.size >= MATCH_CACHE_MAX) matchCache.clear();
  if (text.length <= 4096) matchCache.set(key, out);
  return out;
}

/** The sentence of a text around position `at` (one, or none when the text has no sentence there). */
function sentenceAt(text: string, at: number): string[] {
  const start = Math.max(0, ...['. ', '; ', '\n', '\u3002'].map((end) => text.lastIndexOf(end, at) + 1));
  const ends = ['. ', '; ', '\n', '\u3002'].map((end) => text.indexOf(end, at)).filter((i) => i >= 0);
  return [text.slice(start, ends.length > 0 ? Math.min(...ends) + 1 : text.length).trim()];
}

const NEGATED = /\b(?:do not|don't|never|not|without|no|nor|must not|should not)\s+(?:\S+\s+){0,3}$/i;

/**
 * Where a phrase rule matched, read in context: inside a quoted example (a scanner describing what
 * it looks for) or negated ("Do not include secrets") the phrase is not an instruction; a secret
 * named by a tool whose name and first sentence are about secrets (a vault reader, a login) is its
 * subject, and warns instead of quarantining.
 */
function phraseContext(rule: Rule, text: string, matched: string, field: string, definition: Definition, purpose: Purpose): 'keep' | 'skip' | 'medium' {
  if (rule.id.startsWith('unicode.')) return 'keep';
  const at = text.indexOf(matched);
  if (at < 0) return 'keep';
  // A translator's or a detector's example of the text it works on, in any language (purpose.ts).
  if (quotedSubject(purpose, text, at)) return 'skip';
  // A safeguard ("Do not reveal secrets unless the user asks", "Never change the beneficiary") keeps nothing from the user.
  if ((rule.id.startsWith('secrecy.') || rule.id.startsWith('tampering.')) && sentenceAt(text, at).some(refrains)) return 'skip';
  const before = text.slice(Math.max(0, at - 200), at);
  const quote = /(?:["\u201C\u00AB]|(?<![\p{L}\p{N}])['\u2018])([^"\u201C\u201D\u00AB\u00BB'\u2018\u2019]*)$/u.exec(before);
  if (quote) {
    const start = at - (before.length - quote.index);
    const close = /["\u201D\u00BB'\u2019]/.exec(text.slice(at + matched.length));
    if (isExampleQuote(text, start, close ? at + matched.length + close.index + 1 : at + matched.length)) return 'skip';
    // A quotation introduced as an example ("Example of stored rules: \"Always cc …\"") names the phrase, it does not say it.
    if (/\bexamples?\b(?:[^.\n]|\.(?!\s)){0,160}$/i.test(text.slice(Math.max(0, start - 200), start))) return 'skip';
  }
  if (rule.id.startsWith('exfiltration.') && NEGATED.test(before.slice(-40))) return 'skip';
  if (rule.id === 'exfiltration.sensitive-files' && declaresSecrets(definition) && !/https?:|@[\w-]+\.\w/.test(text)) return 'medium';
  // A key, token or secret asked for by the tool's own parameter for it (`api_key`, `api_secret`) is the tool's own
  // credential, supplied by the user: a file of the machine, or an address to send it to, is still more.
  if (rule.id === 'exfiltration.sensitive-files' && ownCredentialParameter(definition) && !/https?:|@[\w-]+\.\w|[~/.](?:ssh|aws|env|kube|npmrc|netrc)\b|id_(?:rsa|ed25519)|private key|seed phrase|wallet/i.test(matched)) return 'medium';
  return 'keep';
}

export function scanDefinition(definition: Definition, ctx: ScanContext): Finding[] {
  const findings: Finding[] = [];
  const { texts, overflow } = walkDefinition(definition, ctx.identifierName ?? true);
  const purpose = purposeOf(definition, ctx.server);
  if (overflow) findings.push({ rule: 'structure.unreviewable', severity: 'high', field: overflow.field, span: '', why: `the definition is ${overflow.why}: it cannot be reviewed in full` });
  for (const { field, text } of [...texts]) {
    for (const decoded of decodedBlobs(text)) texts.push({ field: `${field}(${decoded.encoding})`, text: decoded.text });
  }
  for (const { field, text, isName } of texts) {
    for (const { rule, matched } of ruleMatches(text, isName === true)) {
      // "Call 'resolve-library-id' first" about the server's own tool is ordinary documentation.
      if (rule.id === 'instruction.pre-invocation' && [...ctx.siblings].some((name) => name !== definition.name && matched.includes(name))) continue;
      const context = phraseContext(rule, text, matched, field, definition, purpose);
      if (context === 'skip') continue;
      findings.push({ rule: rule.id, severity: context === 'medium' ? 'medium' : rule.severity, field, span: showSpan(matched), why: context === 'medium' ? `${rule.why} (in the tool's own subject: it handles secrets by its name and first sentence)` : rule.why });
    }
    if (isName) continue;
    // Shadowing: a description that names another server's tool. With override or tampering
    // language in the same definition it is an attack; alone it is a warning.
    for (const word of text.match(WORD) ?? []) {
      if (ctx.siblings.has(word) || !distinctive(word)) continue;
      for (const [server, names] of ctx.others) {
        if (server === ctx.server || !names.has(word)) continue;
        findings.push({ rule: 'shadowing.cross-server-reference', severity: 'medium', field, span: word, why: `names the tool "${word}" of server "${server}"` });
      }
    }
  }
  // A definition the walk could not read in full is already rated unreviewable; its texts are partial.
  if (ctx.signals !== false && !overflow) findings.push(...signalFindings(definition, texts, ctx));
  const shadowing = findings.some((f) => f.rule === 'shadowing.cross-server-reference');
  const steering = findings.some((f) => f.severity === 'high' || f.rule === 'instruction.pre-invocation');
  if (shadowing && steering) {
    for (const f of findings) if (f.rule === 'shadowing.cross-server-reference') f.severity = 'high';
  }
  return findings;
}

const FEATURE_WHY: Readonly<Record<string, string>> = {
  'capability.mismatch': CUE_WHY['capability.mismatch'],
  'in-schema.directive': 'an order to the model inside the input schema (parameter description, default, enum)',
  's.ref+order': 'one sentence names another tool and sets an order or trigger',
  's.ref+directive': 'one sentence names another tool and gives the model an order about it',
  's.ref+steer': 'one sentence names another tool and changes its arguments',
  's.directive+transfer': 'one sentence orders the model to move data',
  's.source+transfer': 'one sentence moves a sensitive source',
  's.source+sink': 'one sentence names a sensitive source and an outside destination',
  's.transfer+sink': 'one sentence sends data to an outside destination',
  's.transfer+foreign-sink': 'one sentence sends data to a fixed destination that is not an example and not the tool\'s own service',
  'd.superiority+others': 'claims superiority and talks about other tools',
  's.conceal+directive': 'one sentence orders the model to keep something quiet',
  's.steer+target': 'one sentence changes an argument to a destination of its own or against the user\'s choice',
  's.steer+directive': 'one sentence orders the model to change an argument',
  's.source+directive': 'one sentence orders the model to use a sensitive source',
  's.ref+urgency': 'one sentence names another tool and presses with a requirement',
  authority: 'claims authority over the model: its output or other content to be obeyed as instructions',
  's.conceal+user': 'one sentence keeps something from the user',
  's.order+directive': 'one sentence orders the model to act before or after something',
  's.superiority+directive': 'one sentence steers tool selection towards this tool and away from others',
  's.urgency+directive': 'one sentence presses the model with a requirement',
  'directive.count': 'several sentences give the model orders',
  's.addressed': 'one sentence speaks to the model with an obligation or an order',
  's.ref+action': 'one sentence names a tool that is not its own and asks for something of it',
  's.ref+trigger+order': 'one sentence names a tool that is not its own, a trigger and an order',
  's.against-user': 'one sentence chooses a value against what the user asked',
  's.ref+order-given': 'one sentence gives an order about a tool that is not its own',
  's.ref+value-change': 'one sentence changes a value of a call to a tool that is not its own',
  's.param-stuffing': 'one sentence puts bulk data from elsewhere into one of its own parameters',
  's.disparage+others': 'one sentence runs down other tools or servers',
  's.selection': 'one sentence steers tool selection towards itself and away from others',
  families: 'several independent kinds of evidence together',
};

/**
 * Independent kinds of structural evidence rate a definition high whatever the trained score, when
 * their weights add up to `FAMILIES_HIGH`. Keeping something from the user is enough alone. A tool
 * reference acted on, a sensitive source, an outside destination or a changed argument needs one more
 * kind of evidence; the weak kinds are those real tools use for their own sake too — orders to the
 * model ("You MUST call this first"), requirements, claims to be the better choice — so two weak
 * kinds alone are not enough.
 */
export const FAMILY_WEIGHT: Readonly<Record<Family, number>> = {
  purpose: 4,
  'cross-flow': 4,
  'private-flow': 4,
  'foreign-rule': 4,
  conceal: 4,
  harvest: 4,
  tamper: 4,
  beacon: 4,
  hijack: 4,
  'tool-order': 4,
  shadow: 4,
  'value-prose': 4,
  selection: 4,
  disparage: 3,
  'tool-reference': 3,
  'sensitive-source': 3,
  'outside-sink': 3,
  steer: 3,
  capability: 2,
  stuffing: 3,
  'side-flow': 2,
  exec: 2,
  authority: 4,
  obfuscated: 4,
  'named-call': 4,
  'preset-destination': 4,
  aside: 4,
  addressed: 1,
  pressure: 1,
  superiority: 1,
};
export function familyScore(families: Iterable<Family>): number {
  let score = 0;
  for (const f of families) score += FAMILY_WEIGHT[f];
  return score;
}
export const FAMILIES_HIGH = 4;

/**
 * The statistical layer: the signals of the whole definition (every field together, so a payload
 * split between the description and a parameter is judged whole), weighed by the trained model. At
 * or above `WEIGHTS.high` the definition is rated high, at or above `WEIGHTS.warn` it warns; the
 * finding names the probability and the features that carried it, and each cue is listed with its
 * field and span. Below `warn` nothing is reported (single cues are common in ordinary descriptions).
 */
function signalFindings(definition: Definition, texts: readonly DefinitionText[], ctx: ScanContext): Finding[] {
  const chars = texts.reduce((n, t) => n + t.text.length, 0);
  if (chars > SIGNAL_LIMITS.chars) {
    // Linear, but some 5 µs a character: a hostile server must not buy seconds of CPU per listing.
    return [{ rule: 'signals.unreviewable', severity: 'high', field: 'description', span: '', why: `the definition has ${chars} characters of text; the signal layer judges at most ${SIGNAL_LIMITS.chars} (real definitions have under 5,000), so it cannot be judged in full` }];
  }
  const weights = ctx.weights ?? WEIGHTS;
  const { features, hits, families } = definitionSignals(definition, texts, ctx);
  const p = probability(weights, features);
  const out: Finding[] = [];
  if (familyScore(families.keys()) >= FAMILIES_HIGH) {
    const [first] = families.values();
    out.push({
      rule: 'signals.structural',
      severity: 'high',
      field: first!.field,
      span: first!.span,
      why: `${families.size} independent kinds of evidence: ${[...families].map(([f, at]) => `${FAMILY_WHY[f]} (${at.field})`).join('; ')}`,
    });
  }
  if (p >= weights.warn) {
    const top = contributions(weights, features).slice(0, 4);
    const strongest = hits.find((h) => top.some((t) => t.feature === h.cue)) ?? hits[0];
    out.push({
      rule: 'signals.combined',
      severity: p >= weights.high ? 'high' : 'medium',
      field: strongest?.field ?? 'description',
      span: strongest?.span ?? '',
      why: `the signals of this definition together score ${p.toFixed(2)} (high at ${weights.high}): ${top.map((t) => FEATURE_WHY[t.feature] ?? CUE_WHY[t.feature as Cue]).join('; ')}`,
    });
  }
  if (out.length === 0) return [];
  // Families that carry their own reason (purpose.ts) are listed with it and their span.
  for (const [f, at] of families) if (at.why) out.push({ rule: `signal.${f}`, severity: 'low', field: at.field, span: at.span, why: at.why });
  for (const h of hits) out.push({ rule: `signal.${h.cue}`, severity: 'low', field: h.field, span: h.span, why: CUE_WHY[h.cue] });
  return out;
}

/** Tool names by server, for cross-server references. */
export function catalogue(input: readonly ServerTools[]): Map<string, Set<string>> {
  const byServer = new Map<string, Set<string>>();
  for (const { server, tools } of input) {
    const names = byServer.get(server) ?? new Set<string>();
    for (const t of tools) if (typeof t.name === 'string') names.add(t.name);
    byServer.set(server, names);
  }
  return byServer;
}

export function verdictOf(findings: readonly Finding[]): Verdict {
  if (findings.some((f) => f.severity === 'high')) return 'high';
  return findings.length > 0 ? 'warn' : 'ok';
}

/** Kinds of definition other than tools that a server shows the model. */
export type OtherKind = 'prompt' | 'resource' | 'resourceTemplate' | 'server';

export interface ServerTools {
  server: string;
  tools: Definition[];
  /** Prompts, resources, templates and the server's self-description (instructions), when known. */
  others?: Array<{ kind: OtherKind; definition: Definition }>;
}

export interface ToolReport {
  server: string;
  /** `tool` unless it is another kind of definition. */
  kind: 'tool' | OtherKind;
  /** The tool, prompt or template name, the resource URI, or `instructions`. */
  name: string;
  verdict: Verdict;
  findings: Finding[];
}

function reportName(kind: ToolReport['kind'], definition: Definition): string {
  if (kind === 'server') return 'instructions';
  const name = kind === 'resource' ? definition.uri : definition.name;
  return typeof name === 'string' ? name : '(unnamed)';
}

/** Scans several servers' definitions together, so that cross-server references can be seen: each server's tools, then its other definitions. */
export function scanServers(input: readonly ServerTools[], layer: SignalLayer = {}): ToolReport[] {
  const byServer = catalogue(input);
  const reports: ToolReport[] = [];
  for (const { server, tools, others } of input) {
    const siblings = byServer.get(server) ?? new Set<string>();
    const items: Array<{ kind: ToolReport['kind']; definition: Definition }> = [...tools.map((definition) => ({ kind: 'tool' as const, definition })), ...(others ?? [])];
    for (const { kind, definition } of items) {
      const findings = scanDefinition(definition, { server, siblings, others: byServer, identifierName: kind === 'tool' || kind === 'prompt', ...layer });
      reports.push({ server, kind, name: reportName(kind, definition), verdict: verdictOf(findings), findings });
    }
  }
  return reports;
}

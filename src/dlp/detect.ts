/**
 * Detection in one text: every finding of every enabled kind — built-in secret rules, personal data,
 * administrator patterns and exact values, injected instructions — with where it is. Decisions on what
 * to do with them are `engine.ts`'s.
 */
import { isSecretRef, resolveValue, type SecretSource } from '../config/secrets.ts';
import { anySet, charClasses, hasStrided } from './char-classes.ts';
import { longRuns, MIN_RUN } from './decode.ts';
import { compileLinearSource } from './linear-source.ts';
import { isAscii } from './normalize.ts';
import { findHiddenUnicode, injectionRules } from './injection.ts';
import { findFetchSinks } from './fetch-sinks.ts';
import { GLUED_MARKER, gluedMarker, TURNED_MARKER, turnedMarker } from './glued.ts';
import { findPii, PII_KINDS, regions, regionsInClasses, type PiiKind, type Regions } from './pii.ts';
import { RuleScanner, type TextRule } from './rule-scan.ts';
import type { DlpPatternConfig } from './schema.ts';
import { secretRules, type SecretRule } from './secrets.ts';

/**
 * Secret rules, injection phrases and an administrator's patterns share one anchor pass: rules
 * 0…secrets-1 are the secret ones, then the phrases up to `phrases`, then the views' marker
 * (src/dlp/glued.ts) up to `builtIn`, then the patterns.
 */
interface Combined {
  scanner: RuleScanner;
  secrets: number;
  phrases: number;
  builtIn: number;
}
let builtInOnly: Combined | undefined;
function combinedScanner(patternRules: readonly PatternRule[]): Combined {
  if (patternRules.length === 0 && builtInOnly) return builtInOnly;
  const secrets = secretRules();
  const withPhrases = [...secrets, ...injectionRules()];
  const builtIn = [...withPhrases, gluedMarker, turnedMarker];
  const combined = { scanner: new RuleScanner([...builtIn, ...patternRules]), secrets: secrets.length, phrases: withPhrases.length, builtIn: builtIn.length };
  if (patternRules.length === 0) builtInOnly = combined;
  return combined;
}

export type FindingType = 'secret' | 'pii' | 'pattern' | 'injection';

export interface TextFinding {
  type: FindingType;
  /** Rule id (`gitleaks:aws-access-token`), personal-data kind, pattern name or injection signal. */
  rule: string;
  /** The label a mask shows. */
  label: string;
  start: number;
  end: number;
  /** For patterns: the pattern's own action. */
  pattern?: DlpPatternConfig;
}

export interface TextReport {
  findings: TextFinding[];
  /** Set when the text could not be inspected in full (the caller fails closed). */
  uninspectable?: string;
  /** What the passes over the text saw, for the views (src/dlp/views.ts) not to read it again. */
  seen?: PassesSaw;
}

export interface PassesSaw {
  /**
   * Whether the glued views can find anything: secrets are looked for and a literal that starts a
   * glued secret occurs (src/dlp/glued.ts).
   */
  glued: boolean;
  /** Whether a glued-prefix literal written backwards or in ROT13 occurs (src/dlp/rejoin.ts), when secrets are looked for. */
  turned?: boolean;
  /** The personal-data pass's regions (number runs, IBAN starts), when it ran. */
  regions?: Regions;
  /** Whether every unit of the text is ASCII (undefined: not looked at, for a short text). */
  ascii: boolean | undefined;
  /** The long base64-alphabet runs the decoded views start from (src/dlp/decode.ts `longRuns`). */
  runs: readonly number[];
  /**
   * What the character classes tell the views' gates, when the text had them (undefined: not known,
   * the gate reads the text): whether a control other than tab and line breaks occurs (only for an
   * all-ASCII text), whether three spaces stand five units apart (where spaced base64 groups could
   * start: decode.ts `nextSpacedGroups`), whether eight spaces stand two units apart (letters spaced
   * out: views.ts `hasSpacedLetters`). Each is what its gate needs at least, so false skips it exactly.
   */
  controls?: boolean;
  spacedGroups?: boolean;
  spacedLetters?: boolean;
}


export interface Detectors {
  secrets: boolean;
  pii: boolean;
  injection: boolean;
  patterns: boolean;
}

export interface PatternRule extends TextRule {
  readonly pattern: DlpPatternConfig;
}

export interface CompiledPatterns {
  /** The pattern rules alone (undefined: none). */
  scanner: RuleScanner | undefined;
  /** The built-in rules and the pattern rules in one scanner, made on first use. */
  combined?: Combined;
  values: Array<{ value: string; pattern: DlpPatternConfig }>;
  problems: Array<{ path: (string | number)[]; message: string }>;
}

/** Compiles the administrator's patterns; problems say which entry and why. */
export function compilePatterns(patterns: readonly DlpPatternConfig[], secrets: SecretSource): CompiledPatterns {
  const rules: PatternRule[] = [];
  const values: CompiledPatterns['values'] = [];
  const problems: CompiledPatterns['problems'] = [];
  patterns.forEach((pattern, index) => {
    if (pattern.regex !== undefined) {
      try {
        // Case-insensitive always: a case change is the cheapest way past a pattern (docs/dlp.md).
        const regex = compileLinearSource(pattern.regex, caseless(pattern.flags)).compile();
        if (regex.minLength === 0) {
          problems.push({ path: ['dlp', 'patterns', index, 'regex'], message: 'matches empty text' });
          return;
        }
        const anchors = regex.anchors && Math.min(...regex.anchors.literals.map((l) => l.length)) >= 2 ? regex.anchors : undefined;
        rules.push({
          id: pattern.name,
          pattern,
          regex: () => regex,
          anchors: anchors?.literals ?? [],
          before: anchors && Number.isFinite(anchors.before) ? anchors.before : null,
          after: anchors && Number.isFinite(anchors.after) ? anchors.after : null,
          group: 0,
        });
      } catch (error) {
        problems.push({ path: ['dlp', 'patterns', index, 'regex'], message: (error as Error).message });
      }
      return;
    }
    const list = pattern.values ?? [pattern.value!];
    list.forEach((raw, k) => {
      let value = raw;
      if (isSecretRef(raw)) {
        const resolved = resolveValue(raw, secrets);
        if ('problem' in resolved) {
          problems.push({ path: ['dlp', 'patterns', index, pattern.values ? 'values' : 'value', ...(pattern.values ? [k] : [])], message: resolved.problem });
          return;
        }
        value = resolved.value;
      }
      if (value.length < 4) {
        problems.push({ path: ['dlp', 'patterns', index, 'value'], message: 'an exact value needs at least 4 characters' });
        return;
      }
      values.push({ value: value.toLowerCase(), pattern });
    });
  });
  return { scanner: rules.length > 0 ? new RuleScanner(rules) : undefined, values, problems };
}

const caseless = (flags = ''): string => (flags.includes('i') ? flags : `${flags}i`);

/** Lower case with every position kept (exact values are compared regardless of case). */
function lowerSameLength(text: string): string {
  const lower = text.toLowerCase();
  return lower.length === text.length ? lower : text.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

function mergeUninspectable(a: string | undefined, b: string | undefined): string | undefined {
  return a ?? b;
}

/** Texts from this long are tested for being all ASCII by `detect` (shorter ones by the views, if at all). */
const SHORT_TEXT = 512;
const NO_RUNS: readonly number[] = Object.freeze([]);

/** Texts up to this long are read into one buffer kept for the purpose (longer ones get their own). */
const SCRATCH_MAX = 1 << 20;
let scratch = Buffer.allocUnsafeSlow(1 << 15);
/**
 * `text` as Latin-1 bytes, in a buffer reused from call to call: a 32 KB result no longer allocates 32 KB
 * for each of its strings (and the collector no longer frees them). `detect` never runs inside itself,
 * and nothing keeps the bytes past it.
 */
function latin1(text: string): Uint8Array {
  if (text.length > SCRATCH_MAX) return Buffer.from(text, 'latin1');
  if (scratch.length < text.length) scratch = Buffer.allocUnsafeSlow(Math.min(SCRATCH_MAX, 2 ** Math.ceil(Math.log2(text.length))));
  scratch.write(text, 0, 'latin1');
  return scratch.subarray(0, text.length);
}

/**
 * Everything found in `text`, in text order. A rule that names one secret precisely wins over a broad
 * one covering it (Nosey Parker's whole-match rules); other overlaps stay (the mask covers their union).
 */
export function detect(text: string, on: Detectors, patterns: CompiledPatterns | undefined, piiKinds: ReadonlySet<PiiKind> = new Set(PII_KINDS)): TextReport {
  const findings: TextFinding[] = [];
  let uninspectable: string | undefined;
  // The anchor pass, the personal-data pass and the views' run finder all read the text as Latin-1
  // bytes, which are its units when it is all ASCII.
  const bytes = latin1(text);
  // Short texts (most strings of structured content) skip the native calls: the views' own checks of
  // a short text cost less.
  const ascii = text.length >= SHORT_TEXT ? isAscii(text) : undefined;
  // The run walk and the personal-data pass start from the bytes' character classes, when the
  // WebAssembly pass made them (src/dlp/char-classes.ts); otherwise they read the bytes.
  const classes = on.pii || ascii === true ? charClasses(bytes, text.length) : undefined;
  const seen: PassesSaw = { glued: false, ascii, runs: text.length < MIN_RUN ? NO_RUNS : longRuns(text, ascii ? bytes : undefined, classes) };
  if (classes) {
    // A unit past Latin-1 is read as its low byte: a space there may be none (the gate then reads the
    // text), but every real space and control is one.
    const words = classes.space.length;
    seen.spacedGroups = hasStrided(classes.space, words, 5, 3);
    seen.spacedLetters = hasStrided(classes.space, words, 2, 8);
    if (ascii === true) seen.controls = anySet(classes.control, words);
  }
  const withPatterns = on.patterns && patterns?.scanner !== undefined;
  if (on.secrets || on.injection || withPatterns) {
    const { scanner, secrets, phrases, builtIn } = withPatterns ? (patterns!.combined ??= combinedScanner(patterns!.scanner!.rules as PatternRule[])) : combinedScanner([]);
    const outcome = scanner.scan(text, (r) => (r < secrets ? on.secrets : r < phrases ? on.injection : r < builtIn ? on.secrets : on.patterns), bytes);
    uninspectable = mergeUninspectable(uninspectable, outcome.uninspectable);
    if (on.secrets) {
      seen.glued = outcome.marked?.includes(GLUED_MARKER) === true;
      seen.turned = outcome.marked?.includes(TURNED_MARKER) === true;
    }
    for (const m of outcome.matches) {
      if ('family' in m.rule) {
        const rule = m.rule as SecretRule;
        findings.push({ type: 'secret', rule: rule.id, label: rule.label, start: m.start, end: m.end });
      } else if ('pattern' in m.rule) {
        const rule = m.rule as PatternRule;
        findings.push({ type: 'pattern', rule: rule.id, label: rule.id, start: m.start, end: m.end, pattern: rule.pattern });
      } else findings.push({ type: 'injection', rule: m.rule.id, label: 'injection', start: m.start, end: m.end });
    }
  }
  if (on.patterns && patterns) {
    const lower = patterns.values.length > 0 ? lowerSameLength(text) : text;
    for (const { value, pattern } of patterns.values) {
      for (let at = lower.indexOf(value); at >= 0; at = lower.indexOf(value, at + value.length)) {
        findings.push({ type: 'pattern', rule: pattern.name, label: pattern.name, start: at, end: at + value.length, pattern });
      }
    }
  }
  if (on.pii) {
    seen.regions = classes ? regionsInClasses(classes) : regions(bytes, text.length);
    for (const m of findPii(text, piiKinds, bytes, seen.regions)) findings.push({ type: 'pii', rule: m.kind, label: m.kind, start: m.start, end: m.end });
  }
  if (on.injection) {
    for (const m of findHiddenUnicode(text)) findings.push({ type: 'injection', rule: m.signal, label: 'injection', start: m.start, end: m.end });
    for (const m of findFetchSinks(text)) findings.push({ type: 'injection', rule: m.signal, label: 'injection', start: m.start, end: m.end });
  }
  return uninspectable ? { findings: resolveOverlaps(findings), uninspectable, seen } : { findings: resolveOverlaps(findings), seen };
}

const broad = (f: TextFinding): boolean => f.type === 'secret' && f.rule.startsWith('np:') && isWholeMatch(f.rule);

let wholeMatchRules: ReadonlySet<string> | undefined;
function isWholeMatch(id: string): boolean {
  wholeMatchRules ??= new Set(secretRules().filter((r) => r.group === 0).map((r) => r.id));
  return wholeMatchRules.has(id);
}

function resolveOverlaps(findings: TextFinding[]): TextFinding[] {
  const precise = findings.filter((f) => f.type === 'secret' && !broad(f));
  const kept = findings.filter((f) => !broad(f) || !precise.some((p) => p.start < f.end && f.start < p.end));
  // Already in order (one family found anything: a hostile text's 500,000 zero-width characters), the
  // sort, which is stable, would give the same array back at the cost of sorting it.
  for (let k = 1; k < kept.length; k++) if (kept[k]!.start < kept[k - 1]!.start) return kept.sort((a, b) => a.start - b.start);
  return kept;
}

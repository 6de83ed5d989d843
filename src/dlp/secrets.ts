/**
 * The built-in secret rules (derived from gitleaks and Nosey Parker, src/dlp/rules/secret-rules.ts, and
 * the project's own, src/dlp/rules/own-secret-rules.ts) as text rules:
 * each compiled on first use, with the source's entropy floor and allowlists applied to what it finds.
 * One scanner serves every gateway in the process (the rules are data; the automata only cache).
 */
import { LinearRegex } from './regex/automaton.ts';
import { RuleScanner, type TextRule } from './rule-scan.ts';
import type { AllowData, SecretRuleData } from './secret-rule-data.ts';
import { OWN_SECRET_RULES } from './rules/own-secret-rules.ts';
import { GLOBAL_ALLOW, SECRET_RULES } from './rules/secret-rules.ts';

const asciiCounts = new Int32Array(128);

/** Shannon entropy in bits per character (code point). */
export function shannonEntropy(text: string): number {
  if (text.length === 0) return 0;
  let ascii = true;
  for (let i = 0; i < text.length && ascii; i++) ascii = text.charCodeAt(i) < 128;
  if (ascii) {
    // The common case, without a map or an array of code points: counts in a shared table, reset after.
    for (let i = 0; i < text.length; i++) asciiCounts[text.charCodeAt(i)]!++;
    let bits = 0;
    for (let i = 0; i < text.length; i++) {
      const u = text.charCodeAt(i);
      const count = asciiCounts[u]!;
      if (count === 0) continue;
      const p = count / text.length;
      bits -= p * Math.log2(p);
      asciiCounts[u] = 0;
    }
    return bits;
  }
  const counts = new Map<string, number>();
  for (const c of text) counts.set(c, (counts.get(c) ?? 0) + 1);
  let bits = 0;
  const length = [...text].length;
  for (const count of counts.values()) {
    const p = count / length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

function lazy<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= make());
}

interface CompiledAllow {
  target: 'secret' | 'match';
  regexes: Array<() => LinearRegex>;
  stopwords: readonly string[];
}

function compileAllow(data: AllowData): CompiledAllow {
  return { target: data.target, regexes: (data.regexes ?? []).map((p) => lazy(() => new LinearRegex(p))), stopwords: data.stopwords ?? [] };
}

function allowed(list: readonly CompiledAllow[], secret: string, match: string): boolean {
  for (const entry of list) {
    const subject = entry.target === 'match' ? match : secret;
    if (entry.stopwords.length > 0) {
      const lower = subject.toLowerCase();
      if (entry.stopwords.some((word) => lower.includes(word))) return true;
    }
    // Most allowlist patterns are whole-value shapes (`^…$`): searched from the start only, not
    // walked over the rest of a long secret for matches that cannot start there.
    for (const regex of entry.regexes) {
      const re = regex();
      if (re.firstEnd(subject, 0, subject.length, re.startsAtTextStart) >= 0) return true;
    }
  }
  return false;
}

const globalAllow = [compileAllow(GLOBAL_ALLOW)];

export interface SecretRule extends TextRule {
  readonly label: string;
  readonly family: string;
}

/**
 * Rules whose secret is a run of `value` units starting at most `reach` units after the anchor (the
 * match starts at the anchor): gitleaks' generic-api-key is a keyword (10 units at most), up to 20
 * name units, 3 quotes or spaces, an operator (4), 5 quotes or spaces, then the value. Near misses of
 * it (a keyword and an assignment of a placeholder) are common, and each would otherwise cost a run
 * of the backtracker for its captures before the entropy floor turns it down.
 */
const VALUE_RUNS: Readonly<Record<string, { reach: number; value: RegExp }>> = {
  'gitleaks:generic-api-key': { reach: 42, value: /[\w.=+/-]/ },
};

const seen = new Uint8Array(128);
/** Runs longer than this are not counted (a long run may hold anything): they pass. */
const COUNTED_RUN = 256;

/**
 * Where the first run of `value` units starting in `[from, stop)` begins that has enough distinct units
 * (`enough`) to reach the entropy floor, is longer than `COUNTED_RUN` or holds a unit past ASCII; -1
 * when there is none. A text of d distinct units has at most log2(d) bits per unit, so a secret drawn
 * from a poorer run is below the floor, whatever the captures turn out to be.
 */
function richRun(text: string, from: number, stop: number, value: Uint8Array, enough: number): number {
  for (let p = from; p < stop; ) {
    const u = text.charCodeAt(p);
    if (u >= 128) return p;
    if (value[u] !== 1) {
      p++;
      continue;
    }
    seen.fill(0);
    let distinct = 0;
    let q = p;
    for (; q < text.length; q++) {
      const c = text.charCodeAt(q);
      if (c >= 128) return p;
      if (value[c] !== 1) break;
      if (q - p >= COUNTED_RUN) return p;
      if (seen[c] === 0) {
        seen[c] = 1;
        if (++distinct >= enough) return p;
      }
    }
    p = q;
  }
  return -1;
}

function toRule(data: SecretRuleData): SecretRule {
  const allow = [...globalAllow, ...(data.allow ?? []).map(compileAllow)];
  const runs = VALUE_RUNS[data.id];
  const value = runs && Uint8Array.from({ length: 128 }, (_, u) => Number(runs.value.test(String.fromCharCode(u))));
  const floor = data.entropy;
  const enough = floor === undefined ? 0 : Math.ceil(2 ** floor);
  return {
    ...(runs && value && floor !== undefined
      ? {
          // A secret of a match starting in [from, to] starts in a run that begins at most `reach` after it.
          mayAccept: (text: string, from: number, to: number) => richRun(text, from, Math.min(text.length, to + runs.reach + 1), value, enough) >= 0,
          nextStart: (text: string, from: number, to: number) => {
            const rich = richRun(text, from, Math.min(text.length, to + runs.reach), value, enough);
            return rich < 0 ? to : Math.max(from, rich - runs.reach);
          },
        }
      : {}),
    id: data.id,
    label: data.label,
    family: data.family,
    regex: lazy(() => new LinearRegex(data.pattern, { trimLeading: true })),
    anchors: data.anchors,
    before: data.before,
    after: data.after,
    group: data.group,
    accept(secret, match) {
      if (data.entropy !== undefined && shannonEntropy(secret) < data.entropy) return false;
      return !allowed(allow, secret, match);
    },
  };
}

/** Every built-in secret rule's data: the generated table, then the project's own. */
export const BUILT_IN_SECRET_RULES: readonly SecretRuleData[] = [...SECRET_RULES, ...OWN_SECRET_RULES];

/** The built-in secret rules (compiled on first use, one by one). */
export const secretRules = lazy((): readonly SecretRule[] => BUILT_IN_SECRET_RULES.map(toRule));

/** The process-wide secret scanner (built on first use: about 400 rules' anchors). */
export const secretScanner = lazy(() => new RuleScanner(secretRules()));

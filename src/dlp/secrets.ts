/**
 * The built-in secret rules (derived from gitleaks and Nosey Parker, src/dlp/rules/) as text rules:
 * each compiled on first use, with the source's entropy floor and allowlists applied to what it finds.
 * One scanner serves every gateway in the process (the rules are data; the automata only cache).
 */
import { LinearRegex } from './regex/automaton.ts';
import { RuleScanner, type TextRule } from './rule-scan.ts';
import type { AllowData, SecretRuleData } from './secret-rule-data.ts';
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
    for (const regex of entry.regexes) if (regex().firstEnd(subject, 0, subject.length) >= 0) return true;
  }
  return false;
}

const globalAllow = [compileAllow(GLOBAL_ALLOW)];

export interface SecretRule extends TextRule {
  readonly label: string;
  readonly family: string;
}

function toRule(data: SecretRuleData): SecretRule {
  const allow = [...globalAllow, ...(data.allow ?? []).map(compileAllow)];
  return {
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

/** The built-in secret rules (compiled on first use, one by one). */
export const secretRules = lazy((): readonly SecretRule[] => SECRET_RULES.map(toRule));

/** The process-wide secret scanner (built on first use: about 400 rules' anchors). */
export const secretScanner = lazy(() => new RuleScanner(secretRules()));

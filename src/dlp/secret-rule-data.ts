/**
 * The shape of the secret rule tables: the generated one (src/dlp/rules/secret-rules.ts) and the
 * project's own (src/dlp/rules/own-secret-rules.ts).
 */

export interface AllowData {
  /** What the allowlist is tested on: the secret (the rule's group) or the whole match. */
  target: 'secret' | 'match';
  /** Patterns (RE2 syntax) that make a finding an allowed one. */
  regexes?: readonly string[];
  /** Lower-case words whose presence in the secret makes it an allowed one. */
  stopwords?: readonly string[];
}

export interface SecretRuleData {
  /** `gitleaks:<id>`, `np:<id>`, or `portcullis:<id>` for the project's own rules (rules/own-secret-rules.ts). */
  id: string;
  /** The type shown in a mask: `[REDACTED:<label>#n]`. */
  label: string;
  /** Rule family, for the quality table: cloud, vcs-ci, chat, payment, private-key, jwt, database-url, ai, generic, service-token. */
  family: string;
  /** RE2 / Rust regex syntax. */
  pattern: string;
  /** Capture group holding the secret; 0: the whole match. */
  group: number;
  /** Minimum Shannon entropy (bits per character) of the secret. */
  entropy?: number;
  /** Lower-case literals every match contains. */
  anchors: readonly string[];
  /** How far a match reaches before the start of an anchor, and from it to the end (null: unbounded). */
  before: number | null;
  after: number | null;
  allow?: readonly AllowData[];
}

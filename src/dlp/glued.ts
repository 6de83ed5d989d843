/**
 * Secrets with a distinctive prefix that the rules anchor with `\b`, and so miss when the value is
 * glued to word characters (`_AKIA…_`, `ref-id` + a Stripe key, `x` + a JWT): the views
 * (src/dlp/views.ts) cut such a value out and check it alone. AWS key ids written in lower case are read
 * upper-cased the same way.
 *
 * The literals every such value starts with are a marker of the anchor pass (src/dlp/rule-scan.ts),
 * which reads every text anyway: the regular expressions below run over a text only when one occurs.
 */
import type { TextRule } from './rule-scan.ts';

/** A glued value: cut out when a word character touches it on either side. */
export const GLUED = /(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}|gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{82}|xox[a-z]-[A-Za-z0-9-]{10,}|[rs]k_(?:live|test)_[A-Za-z0-9]{24,}|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}|-----BEGIN[A-Z ]{0,40}PRIVATE KEY-----/g;
/** AWS key ids are upper case; one written in lower case is read upper-cased. */
export const LOWER_AWS = /(?:akia|asia)[a-z2-7]{16}/g;

/**
 * Literals one of which starts every match of `GLUED` and `LOWER_AWS`: the anchor pass compares a
 * lower-case letter of a literal regardless of case and an upper-case one exactly, so that hex ids
 * (`…acca…`) do not set the marker for `ACCA`. test/dlp/views.test.ts checks the lists agree.
 */
export const GLUED_LITERALS: readonly string[] = ['akia', 'asia', 'ABIA', 'ACCA', 'ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'github_pat_', 'xox', 'sk_live_', 'sk_test_', 'rk_live_', 'rk_test_', 'eyJ', '-----BEGIN'];

export const GLUED_MARKER = 'view:glued';

/** The marker rule: the anchor pass reports whether a glued-prefix literal occurs in a text. */
export const gluedMarker: TextRule = {
  id: GLUED_MARKER,
  marker: true,
  regex: () => {
    throw new Error('a marker runs no regex');
  },
  anchors: GLUED_LITERALS,
  before: 0,
  after: 0,
  group: 0,
};

/**
 * Literals of the same prefixes written backwards or in ROT13 (src/dlp/rejoin.ts reads such a value
 * turned back): a second marker of the anchor pass, so that the turned views cost nothing where none
 * occurs. rejoin.ts `REVERSED` and `ROT13` match only where one of these does.
 */
export const TURNED_LITERALS: readonly string[] = ['AIKA', 'AISA', 'AIBA', 'ACCA', '_phg', '_ohg', '_uhg', '_shg', '_rhg', '_tap_buhtig', 'xox', '_evil_', '_tset_', 'Jye', 'NIGEB-----', 'NXVN', 'NFVN', 'ABVN', 'NPPN', 'tuc_', 'tub_', 'tuh_', 'tuf_', 'tue_', 'tvguho_cng_', 'kbk', '_yvir_', '_grfg_', 'rlW', '-----ORTVA'];

export const TURNED_MARKER = 'view:turned';

export const turnedMarker: TextRule = { ...gluedMarker, id: TURNED_MARKER, anchors: TURNED_LITERALS };

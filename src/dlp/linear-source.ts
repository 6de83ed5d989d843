/**
 * Administrator patterns are written in ECMAScript syntax, like every other pattern in the
 * configuration; they are translated to RE2 syntax by the translator the policy guards use
 * (src/validate/linear-regex.ts) and run by the DLP engine's own linear-time automaton.
 */
import { toRe2Syntax } from '../validate/linear-regex.ts';
import { LinearRegex } from './regex/automaton.ts';

/** Compiles an ECMAScript pattern (flags among i, m, s, u); throws with the reason when it cannot. */
export function compileLinearSource(pattern: string, flags: string): LinearRegex {
  // Syntax is judged by the ECMAScript grammar first (compiling runs nothing).
  new RegExp(pattern, flags.includes('u') ? flags : `${flags}u`);
  const prefix = flags.includes('i') || flags.includes('m') ? `(?${flags.includes('i') ? 'i' : ''}${flags.includes('m') ? 'm' : ''})` : '';
  return new LinearRegex(prefix + toRe2Syntax(pattern, flags.includes('s')));
}

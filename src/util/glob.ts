/**
 * Shell-style globs (`*` any run, `?` one character; everything else literal). Matching is the classic
 * two-pointer walk that remembers only the last `*`: at most O(glob × value) steps, never the
 * exponential or high-degree polynomial backtracking a regex of several `.*` can take on a long value
 * (a glob is config, but the value it meets — a resource URI, a tool name — comes from outside).
 */

/** The glob as an anchored regex, for stores that filter in their own query language (audit queries). */
export function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`, 's');
}

export const isGlob = (pattern: string): boolean => /[*?]/.test(pattern);

/** Whether `value` matches `glob` as a whole; `?` is one UTF-16 code unit, like the regex form's `.`. */
export function globMatches(glob: string, value: string): boolean {
  let g = 0;
  let v = 0;
  let star = -1;
  let resume = 0;
  while (v < value.length) {
    const c = glob[g];
    if (c === '*') {
      star = g++;
      resume = v;
    } else if (c !== undefined && (c === '?' || c === value[v])) {
      g++;
      v++;
    } else if (star >= 0) {
      g = star + 1;
      v = ++resume;
    } else {
      return false;
    }
  }
  while (glob[g] === '*') g++;
  return g === glob.length;
}

/** A matcher for any of several globs; undefined or empty matches everything. */
export function anyGlob(globs: readonly string[] | undefined): (value: string) => boolean {
  if (!globs || globs.length === 0 || globs.includes('*')) return () => true;
  const exact = new Set(globs.filter((g) => !isGlob(g)));
  const patterns = globs.filter(isGlob);
  return (value) => exact.has(value) || patterns.some((p) => globMatches(p, value));
}

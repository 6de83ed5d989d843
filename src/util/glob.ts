/** Shell-style globs (`*` any run, `?` one character; everything else literal) as anchored regexes. */
export function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`, 's');
}

export const isGlob = (pattern: string): boolean => /[*?]/.test(pattern);

/** A matcher for any of several globs; undefined or empty matches everything. */
export function anyGlob(globs: readonly string[] | undefined): (value: string) => boolean {
  if (!globs || globs.length === 0 || globs.includes('*')) return () => true;
  const exact = new Set(globs.filter((g) => !isGlob(g)));
  const patterns = globs.filter(isGlob).map(globToRegExp);
  return (value) => exact.has(value) || patterns.some((p) => p.test(value));
}

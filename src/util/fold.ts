/**
 * A name as a server that binds names loosely reads it: NFKC (fullwidth `ａ` is `a`, `ſ` is `s`, the
 * Kelvin sign `K` is `K`), then case-folded (upper then lower case: `ς`/`σ`/`Σ` are one, as are `ı`
 * and `i`, and `ß` is `ss`). Go's encoding/json matches object keys to struct fields under Unicode
 * simple case folding (bytes.EqualFold: ASCII case, `K`/`k`/`K`, `S`/`s`/`ſ`); .NET's System.Text.Json
 * with PropertyNameCaseInsensitive compares under invariant upper case; case-insensitive and
 * normalising file systems match file names alike. This fold is at least as wide as each of them:
 * used to find names that would be one to such a reader, it may only refuse more.
 */
export function foldName(name: string): string {
  // Printable ASCII is its own NFKC form: only its case is folded.
  if (/^[\x20-\x7e]*$/.test(name)) return name.toLowerCase();
  return name.normalize('NFKC').toUpperCase().toLowerCase().normalize('NFKC');
}

/**
 * An object key as the loosest JSON binder reads it: `foldName`, then without `_` and `-` (Go's
 * encoding/json/v2 matches names case-insensitively ignoring both: `a_mount` and `amo-unt` are
 * `amount` there; red team I, F1). For keys only: file names keep their `_` and `-` (`foldName`).
 */
export function foldKey(key: string): string {
  return foldName(key).replace(/[_-]/g, '');
}

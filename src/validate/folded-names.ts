/**
 * Argument keys that are a declared name to a server binding names loosely, but not to the gateway
 * (red team I, F6). A rule or guard reads `args.path`; a lone `PATH`, `Path` or `patſ` is no `path` to
 * it — a missing argument, which a guard passes — yet Go's encoding/json (and .NET with case-insensitive
 * binding, alias binders) hands it to the server's `path` field. Two keys that fold to one in the same
 * object are refused earlier (unambiguous-values.ts); this refuses the lone variant of a name the tool's
 * input schema declares, at any depth, with the same code.
 *
 * Not checked: names the schema does not declare (a tool taking any keys gives the gateway no name to
 * compare with; a rule on such an argument should test it in every case it may arrive in).
 */
import { foldKey } from '../util/fold.ts';

/** Every property name the schema declares anywhere, by its folded form (declared spellings only). */
const declaredCache = new WeakMap<object, ReadonlyMap<string, string>>();

function declaredNames(schema: unknown): ReadonlyMap<string, string> {
  if (typeof schema !== 'object' || schema === null) return new Map();
  const cached = declaredCache.get(schema);
  if (cached) return cached;
  const byFold = new Map<string, string>();
  const seen = new Set<object>();
  const stack: unknown[] = [schema];
  while (stack.length > 0) {
    const node = stack.pop();
    if (typeof node !== 'object' || node === null || seen.has(node)) continue;
    seen.add(node);
    if (Array.isArray(node)) {
      for (const item of node) stack.push(item);
      continue;
    }
    const properties = (node as Record<string, unknown>).properties;
    if (typeof properties === 'object' && properties !== null && !Array.isArray(properties)) {
      for (const name of Object.keys(properties)) if (!byFold.has(foldKey(name))) byFold.set(foldKey(name), name);
    }
    for (const value of Object.values(node)) if (typeof value === 'object' && value !== null) stack.push(value);
  }
  declaredCache.set(schema, byFold);
  return byFold;
}

/** A key of `args` (any depth) that folds to a name the schema declares without being it: `{ key, declared, where }`, or undefined. */
export function foldedVariant(schema: unknown, args: unknown): { key: string; declared: string; where: string } | undefined {
  const declared = declaredNames(schema);
  if (declared.size === 0) return undefined;
  const exact = new Set(declared.values());
  const stack: Array<{ value: unknown; where: string }> = [{ value: args, where: 'arguments' }];
  while (stack.length > 0) {
    const { value, where } = stack.pop()!;
    if (typeof value !== 'object' || value === null) continue;
    if (Array.isArray(value)) {
      value.forEach((item, i) => stack.push({ value: item, where: `${where}[${i}]` }));
      continue;
    }
    for (const [key, inner] of Object.entries(value)) {
      if (!exact.has(key)) {
        const name = declared.get(foldKey(key));
        if (name !== undefined) return { key, declared: name, where };
      }
      if (typeof inner === 'object' && inner !== null) stack.push({ value: inner, where: `${where}[${JSON.stringify(key)}]` });
    }
  }
  return undefined;
}

/**
 * The value guard: per-argument constraints (type, enum, pattern, length, range). A constraint implies
 * the type it can judge: a pattern or length applies to strings only, a range to numbers only, so a
 * value of another type is refused rather than waved through unchecked (`["rm"]` where a pattern
 * expects a string). Patterns run on the linear-time engine and must match the whole string.
 */
import { compileLinear, type LinearRegExp } from '../validate/linear-regex.ts';
import type { GuardsConfig } from './schema.ts';

type Values = NonNullable<GuardsConfig['values']>;

const describeType = (value: unknown): string => (value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value === 'object' ? 'an object' : `a ${typeof value}`);

/** Compiles the constraints; throws UnsupportedPattern for a pattern the linear-time engine cannot run. */
export function compileValues(values: Values): (args: Record<string, unknown>) => string | undefined {
  const checks = Object.entries(values).map(([name, c]) => ({
    name,
    c,
    pattern: c.pattern !== undefined ? (compileLinear(`^(?:${c.pattern})$`) as LinearRegExp) : undefined,
    needsString: c.pattern !== undefined || c.minLength !== undefined || c.maxLength !== undefined,
    needsNumber: c.min !== undefined || c.max !== undefined,
  }));
  return (args) => {
    for (const { name, c, pattern, needsString, needsNumber } of checks) {
      const value = Object.hasOwn(args, name) ? args[name] : undefined;
      if (value === undefined) {
        if (c.required) return `argument "${name}" is required by policy`;
        continue;
      }
      const type = typeof value;
      if (c.type === 'integer' ? !Number.isInteger(value) : c.type !== undefined && type !== c.type) return `argument "${name}" must be ${c.type === 'integer' ? 'an integer' : `a ${c.type}`}`;
      if (needsString && type !== 'string') return `argument "${name}" must be a string to be checked (it is ${describeType(value)})`;
      if (needsNumber && type !== 'number') return `argument "${name}" must be a number to be checked (it is ${describeType(value)})`;
      if (c.enum && !c.enum.includes(value as string | number | boolean)) return `argument "${name}" must be one of ${c.enum.map((v) => JSON.stringify(v)).join(', ')}`;
      if (type === 'string') {
        const s = value as string;
        if (c.minLength !== undefined && s.length < c.minLength) return `argument "${name}" is shorter than ${c.minLength} characters`;
        if (c.maxLength !== undefined && s.length > c.maxLength) return `argument "${name}" is longer than ${c.maxLength} characters`;
        if (pattern && !pattern.test(s)) return `argument "${name}" does not match the pattern the policy requires`;
      }
      if (type === 'number') {
        const n = value as number;
        if (c.min !== undefined && n < c.min) return `argument "${name}" is below ${c.min}`;
        if (c.max !== undefined && n > c.max) return `argument "${name}" is above ${c.max}`;
      }
    }
    return undefined;
  };
}

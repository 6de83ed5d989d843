/**
 * A rule's `when` condition: CEL (`@marcbachmann/cel-js`) over `args`, `principal`, `tool` and `task`,
 * compiled once, with what the policy needs to know about it:
 *   - whether it can be evaluated without arguments (so also while filtering a list);
 *   - whether it reads self-declared values (`task`, `principal.agent`), which may only narrow access;
 *   - the JSON types it compares each argument with (`args.cmd == "rm"` expects a string).
 *
 * Arguments are `dyn`: CEL compares values of different types as simply unequal, so `args.cmd == "rm"`
 * is false for `["rm"]` — a deny rule would let through what a coercing server runs as `rm`. The
 * expected types make that explicit: an argument present with another type than every literal it is
 * compared with makes the condition unjudgeable, which denies in a deny rule and keeps an allow rule
 * from matching (fail closed). Method calls (`startsWith`, `matches`, …) need no such help: CEL raises
 * an error on the wrong type, with the same effect.
 */
import type { Environment } from '@marcbachmann/cel-js';
import { createRequire } from 'node:module';

export type JsonType = 'string' | 'number' | 'boolean' | 'null' | 'list' | 'object';

export interface Condition {
  /** Evaluates the condition; throws when it cannot be evaluated. */
  evaluate(vars: Record<string, unknown>): unknown;
  /** True when the condition reads no argument (so also while filtering a list). */
  readonly withoutArgs: boolean;
  /** True when the condition reads the task label the caller declared. */
  readonly usesTask: boolean;
  /** True when the condition reads the agent name (self-declared without identity). */
  readonly usesAgent: boolean;
  /** True when the condition reads the subject or agent name (which mean a caller only with their issuer). */
  readonly usesNames: boolean;
  /** True when the condition reads `principal.issuer`. */
  readonly usesIssuer: boolean;
  /** Why `args` cannot be judged by this condition (an argument of a type it never compares), or undefined. */
  typeProblem(args: Record<string, unknown>): string | undefined;
}

function environment(Cel: typeof Environment, withArgs: boolean): Environment {
  const env = new Cel({ enableOptionalTypes: true, limits: { maxAstNodes: 2000, maxDepth: 64 } })
    .registerVariable('principal', 'map<string, dyn>')
    .registerVariable('tool', 'map<string, dyn>')
    .registerVariable('task', 'string');
  // `session` (toxic-flow labels and tools of the caller's session, docs/monitor.md) exists for calls only, like `args`.
  return withArgs ? env.registerVariable('args', 'map<string, dyn>').registerVariable('session', 'map<string, dyn>') : env;
}

// CEL is loaded when the first condition is compiled, not at start: a policy without `when` (the
// embedded default's) never holds it in memory. A library that fails to load makes every condition a
// problem, so a policy that has one is refused (fail closed).
const require = createRequire(import.meta.url);
let environments: { call: Environment; list: Environment } | undefined;

function cel(): { call: Environment; list: Environment } {
  if (!environments) {
    const { Environment: Cel } = require('@marcbachmann/cel-js') as typeof import('@marcbachmann/cel-js');
    environments = { call: environment(Cel, true), list: environment(Cel, false) };
  }
  return environments;
}

interface Node {
  op: string;
  args: unknown;
}

const isNode = (value: unknown): value is Node => typeof value === 'object' && value !== null && typeof (value as Node).op === 'string';
const COMPARISONS = new Set(['==', '!=', '<', '<=', '>', '>=']);

/** `args.a.b` / `args["a"]["b"]` → ['a', 'b']; anything else → undefined. */
function argsPath(node: unknown): string[] | undefined {
  if (!isNode(node)) return undefined;
  if (node.op === '.' || node.op === '[]') {
    const [target, key] = node.args as [unknown, unknown];
    const name = node.op === '.' ? key : isNode(key) && key.op === 'value' ? key.args : undefined;
    if (typeof name !== 'string') return undefined;
    if (isNode(target) && target.op === 'id' && target.args === 'args') return [name];
    const inner = argsPath(target);
    return inner && [...inner, name];
  }
  return undefined;
}

/** The JSON type of a literal node (negated numbers included), or undefined for other nodes. */
function literalType(node: unknown): JsonType | undefined {
  if (!isNode(node)) return undefined;
  if (node.op === '-_') return literalType(node.args) === 'number' ? 'number' : undefined;
  if (node.op !== 'value') return undefined;
  const v = node.args;
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'boolean';
  if (typeof v === 'number' || typeof v === 'bigint' || (typeof v === 'object' && v !== null && !(v instanceof Uint8Array))) return 'number'; // int, double, uint
  return undefined; // null and bytes: no expectation
}

export const jsonType = (value: unknown): JsonType =>
  value === null ? 'null' : Array.isArray(value) ? 'list' : typeof value === 'object' ? 'object' : (typeof value as JsonType);

interface Facts {
  expected: Map<string, { path: string[]; types: Set<JsonType> }>;
  usesTask: boolean;
  usesAgent: boolean;
  usesNames: boolean;
  usesIssuer: boolean;
}

function walk(node: unknown, facts: Facts): void {
  if (Array.isArray(node)) {
    for (const inner of node) walk(inner, facts);
    return;
  }
  if (!isNode(node)) return;
  const expect = (path: string[] | undefined, types: (JsonType | undefined)[]): void => {
    if (!path || types.length === 0 || types.some((t) => t === undefined)) return;
    const key = JSON.stringify(path);
    const entry = facts.expected.get(key) ?? { path, types: new Set<JsonType>() };
    for (const t of types) entry.types.add(t!);
    facts.expected.set(key, entry);
  };
  if (node.op === 'id' && node.args === 'task') facts.usesTask = true;
  // Reached only when `principal` is used whole (field reads return early below): it may read the agent.
  if (node.op === 'id' && node.args === 'principal') facts.usesAgent = facts.usesNames = true;
  if ((node.op === '.' || node.op === '[]') && isNode((node.args as unknown[])[0]) && ((node.args as Node[])[0]!.op === 'id') && (node.args as Node[])[0]!.args === 'principal') {
    const key = (node.args as unknown[])[1];
    const field = node.op === '.' ? key : isNode(key) && key.op === 'value' ? key.args : undefined;
    if (field === 'agent' || typeof field !== 'string') facts.usesAgent = true;
    if (field === 'agent' || field === 'subject' || typeof field !== 'string') facts.usesNames = true;
    if (field === 'issuer') facts.usesIssuer = true;
    if (node.op === '[]') walk(key, facts);
    return;
  }
  if (COMPARISONS.has(node.op)) {
    const [left, right] = node.args as [unknown, unknown];
    expect(argsPath(left), [literalType(right)]);
    expect(argsPath(right), [literalType(left)]);
  } else if (node.op === 'in') {
    const [left, right] = node.args as [unknown, unknown];
    if (isNode(right) && right.op === 'list' && Array.isArray(right.args)) expect(argsPath(left), (right.args as unknown[]).map(literalType));
    expect(argsPath(right), ['list', 'object']);
  }
  walk(node.args, facts);
}

/** Compiles a condition, or says why it cannot be used (CEL syntax or type error, not a bool). */
export function compileCondition(expression: string): Condition | { problem: string } {
  let env;
  try {
    env = cel();
  } catch (error) {
    return { problem: `the CEL library (@marcbachmann/cel-js) could not be loaded: ${(error as Error).message.split('\n')[0]}` };
  }
  const { call: CALL_ENV, list: LIST_ENV } = env;
  const checked = CALL_ENV.check(expression);
  if (!checked.valid) {
    return { problem: `CEL ${checked.error?.name === 'ParseError' ? 'syntax' : 'type'} error: ${String(checked.error?.message ?? checked.error).split('\n')[0]!.trim()}` };
  }
  if (checked.type !== 'bool' && checked.type !== 'dyn') return { problem: `the condition must be a bool; this one is ${checked.type}` };
  const parsed = CALL_ENV.parse(expression) as unknown as ((vars: Record<string, unknown>) => unknown) & { ast: unknown };
  const facts: Facts = { expected: new Map(), usesTask: false, usesAgent: false, usesNames: false, usesIssuer: false };
  walk(parsed.ast, facts);
  const expectations = [...facts.expected.values()];
  return {
    evaluate: (vars) => parsed(vars),
    withoutArgs: LIST_ENV.check(expression).valid,
    usesTask: facts.usesTask,
    usesAgent: facts.usesAgent,
    usesNames: facts.usesNames,
    usesIssuer: facts.usesIssuer,
    typeProblem(args) {
      for (const { path, types } of expectations) {
        let value: unknown = args;
        for (const key of path) {
          if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.hasOwn(value, key)) {
            value = undefined;
            break;
          }
          value = (value as Record<string, unknown>)[key];
        }
        if (value === undefined) continue;
        const actual = jsonType(value);
        if (!types.has(actual)) return `argument "${path.join('.')}" is ${actual === 'list' || actual === 'object' ? `a${actual === 'object' ? 'n' : ''} ${actual}` : `a ${actual}`} where the condition compares it with ${[...types].join(' or ')} values`;
      }
      return undefined;
    },
  };
}

/**
 * The documentation cannot rot: every relative link in README.md and docs/ points at a file (and a
 * heading) that exists, every `portcullis …` command shown in a code block parses against the real
 * command tree, every ```yaml block is a configuration the real loader accepts, every `npm run …`
 * names a script, and every command has an example in `--help`.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { MAIN } from '../helpers/gateway.ts';
import { COMPILE_CACHE } from '../helpers/recorded.ts';
import { COMMAND_GUIDE } from '../../src/cli/guide.ts';
import { validateConfig, type ConfigProblem } from '../../src/config/load.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const DOCS = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const text = (file: string): string => readFileSync(join(ROOT, file), 'utf8');

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
function anchorOf(heading: string): string {
  return heading.trim().toLowerCase().replace(/[`*_[\]()]/g, '').replace(/[^\p{L}\p{N} -]/gu, '').replace(/ /g, '-');
}

function headings(markdown: string): Set<string> {
  const found = new Set<string>();
  let fence = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fence = !fence;
    else if (!fence && /^#{1,6} /.test(line)) found.add(anchorOf(line.replace(/^#+ /, '')));
  }
  return found;
}

/** The lines of every fenced code block, continuation lines joined. */
function codeLines(markdown: string): string[] {
  const lines: string[] = [];
  let fence = false;
  let pending = '';
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) {
      fence = !fence;
      continue;
    }
    if (!fence) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    lines.push(pending + line);
    pending = '';
  }
  return lines;
}

/** Every fenced block of a language, with the line its text starts on. */
function blocks(markdown: string, language: string): Array<{ line: number; text: string }> {
  const found: Array<{ line: number; text: string }> = [];
  let open: { line: number; lines: string[]; language: string } | undefined;
  markdown.split('\n').forEach((line, i) => {
    if (!line.startsWith('```')) open?.lines.push(line);
    else if (open) {
      if (open.language === language) found.push({ line: open.line, text: open.lines.join('\n') });
      open = undefined;
    } else open = { line: i + 2, lines: [], language: line.slice(3).trim() };
  });
  return found;
}

/** Every reference resolves (the reader's variables and files are theirs to set). */
const ANY_SECRET = { env: new Proxy({}, { get: () => 'set-by-the-reader' }), readFile: () => 'set-by-the-reader' };

/**
 * The errors of a documented configuration, read as the fragment it is: a list is the rules of a
 * policy, and the servers it names without defining them, or a policy's missing rules, are what the
 * rest of the reader's file supplies. Every other error is the document's.
 */
export function snippetErrors(text: string): ConfigProblem[] {
  const parsed: unknown = parseYaml(text, { uniqueKeys: true });
  let document = (Array.isArray(parsed) ? { policy: { rules: parsed } } : parsed) as Record<string, any>;
  for (let round = 0; round < 3; round++) {
    const result = validateConfig(document, ANY_SECRET);
    if (result.ok) return [];
    const servers: Record<string, unknown> = { ...document.servers };
    let completed = false;
    for (const problem of result.problems) {
      const missing = /no server named "([^"]+)"/.exec(problem.message)?.[1];
      if (missing && !(missing in servers)) servers[missing] = { url: 'http://127.0.0.1:9/mcp' };
      else if (problem.path === 'policy.rules' && !document.policy?.rules) {
        document = { ...document, policy: { ...document.policy, rules: [{ name: 'reader-rule', effect: 'allow' }] } };
      } else continue;
      completed = true;
    }
    if (!completed) return result.problems;
    document = { ...document, servers };
  }
  return validateConfig(document, ANY_SECRET).ok ? [] : [{ path: '(snippet)', message: 'still invalid after completing it', severity: 'error' }];
}

interface SchemaNode {
  $ref?: string;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  additionalProperties?: SchemaNode | boolean;
  anyOf?: SchemaNode[];
  oneOf?: SchemaNode[];
  allOf?: SchemaNode[];
}

/** Every property name of a JSON Schema (references followed once each), with the first path it has. */
function schemaKeys(root: SchemaNode, node: SchemaNode, path = '', seen = new Set<string>(), out = new Map<string, string>()): Map<string, string> {
  if (node.$ref && !seen.has(node.$ref)) {
    seen.add(node.$ref);
    const target = node.$ref.replace(/^#\//, '').split('/').reduce<unknown>((n, part) => (n as Record<string, unknown> | undefined)?.[part], root) as SchemaNode | undefined;
    if (target) schemaKeys(root, target, path, seen, out);
  }
  for (const branch of [...(node.anyOf ?? []), ...(node.oneOf ?? []), ...(node.allOf ?? [])]) schemaKeys(root, branch, path, seen, out);
  for (const [name, inner] of Object.entries(node.properties ?? {})) {
    const at = path ? `${path}.${name}` : name;
    if (!out.has(name)) out.set(name, at);
    schemaKeys(root, inner, at, seen, out);
  }
  if (node.items) schemaKeys(root, node.items, `${path}[]`, seen, out);
  if (typeof node.additionalProperties === 'object') schemaKeys(root, node.additionalProperties, `${path}.*`, seen, out);
  return out;
}

/** Splits a shell line into words, honouring quotes; stops at a comment, pipe, redirection or `&&`. */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === "'" || c === '"') {
      const end = line.indexOf(c, i + 1);
      word = (word ?? '') + line.slice(i + 1, end === -1 ? line.length : end);
      i = end === -1 ? line.length : end;
    } else if (c === '\\' && i + 1 < line.length) {
      word = (word ?? '') + line[++i];
    } else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (word === undefined && (c === '#' || c === '|' || c === '>' || c === ';' || (c === '&' && line[i + 1] === '&'))) {
      break;
    } else {
      word = (word ?? '') + c;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

/** The portcullis arguments of a documented command line, or undefined when the line is not one. */
function portcullisArgs(line: string): string[] | undefined {
  const words = shellWords(line.trim().replace(/^\$ /, ''));
  const at = words.findIndex((w, i) => w === 'portcullis' && (i === 0 || words[i - 1] === 'npx' || words[i - 1] === '-y'));
  if (at === -1 || (at > 0 && words[0] !== 'npx')) return undefined;
  return words.slice(at + 1);
}

describe('documentation', () => {
  it('links only to files and headings that exist', () => {
    const broken: string[] = [];
    for (const file of DOCS) {
      for (const match of text(file).matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = match[1]!;
        if (/^[a-z]+:/.test(target)) continue;
        const [path, anchor] = target.split('#') as [string, string | undefined];
        const resolved = path === '' ? file : normalize(join(dirname(file), path));
        if (!existsSync(join(ROOT, resolved))) {
          broken.push(`${file}: ${target} (no file ${resolved})`);
          continue;
        }
        if (anchor && resolved.endsWith('.md') && !headings(text(resolved)).has(anchor)) broken.push(`${file}: ${target} (no heading #${anchor})`);
      }
    }
    assert.deepEqual(broken, []);
  });

  it('shows only portcullis commands that parse', () => {
    const shown: Array<{ file: string; args: string[] }> = [];
    for (const file of DOCS) {
      for (const line of codeLines(text(file))) {
        const args = portcullisArgs(line);
        if (args && args.length > 0) shown.push({ file, args });
      }
    }
    assert.ok(shown.length >= 20, `expected the docs to show many commands, found ${shown.length}`);
    const output = execFileSync(process.execPath, [MAIN], { input: JSON.stringify(shown.map((s) => s.args)), env: { PATH: process.env.PATH ?? '', ...COMPILE_CACHE, PORTCULLIS_CHECK_COMMANDS: '1' } });
    const verdicts = JSON.parse(output.toString()) as Array<{ line: string[]; ok: boolean; error?: string }>;
    const failing = verdicts.flatMap((v, i) => (v.ok ? [] : [`${shown[i]!.file}: portcullis ${v.line.join(' ')} → ${v.error}`]));
    assert.deepEqual(failing, []);
  });

  it('shows only configurations the loader accepts', () => {
    const shown = DOCS.flatMap((file) => blocks(text(file), 'yaml').map((block) => ({ file, ...block })));
    assert.ok(shown.length >= 20, `expected the docs to show many configurations, found ${shown.length}`);
    const failing = shown.flatMap(({ file, line, text: yaml }) => snippetErrors(yaml).map((p) => `${file}:${line}: ${p.path}: ${p.message}`));
    assert.deepEqual(failing, []);
  });

  it('rejects a configuration snippet with a mistake (the check can fail)', () => {
    assert.deepEqual(snippetErrors('policy:\n  rules:\n    - { name: a, effect: allow, servers: [files] }\n'), []);
    assert.deepEqual(snippetErrors('- { name: a, effect: allow, servers: [files] }\n'), []);
    for (const wrong of [
      'dlp:\n  results: { secrets: hide }\n',
      'policy:\n  rules:\n    - { name: a, effect: allow, tools: [x], when: "args.x ==" }\n',
      'listen: { prot: 8787 }\n',
      'servers:\n  files: { command: npx, pin: { npm: "@scope/pkg@1.0.0", integrity: "sha512-…" } }\n',
    ]) assert.notDeepEqual(snippetErrors(wrong), [], wrong);
  });

  it('rejects a command line that does not parse (the check can fail)', () => {
    const output = execFileSync(process.execPath, [MAIN], {
      input: JSON.stringify([['audit', 'query', '--no-such-option'], ['pin', 'diff'], ['policy', 'test', '-c', 'x.yaml']]),
      env: { PATH: process.env.PATH ?? '', ...COMPILE_CACHE, PORTCULLIS_CHECK_COMMANDS: '1' },
    });
    const verdicts = JSON.parse(output.toString()) as Array<{ ok: boolean }>;
    assert.deepEqual(verdicts.map((v) => v.ok), [false, false, false]);
  });

  it('names every key of the configuration schema somewhere', () => {
    const schema = JSON.parse(text('schema/config.json')) as SchemaNode;
    const all = DOCS.map(text).join('\n');
    const undocumented = [...schemaKeys(schema, schema)].filter(([name]) => !new RegExp(`\\b${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`).test(all)).map(([, path]) => path);
    assert.deepEqual(undocumented, []);
  });

  it('names every option of every command somewhere (by its long or short form)', () => {
    const output = execFileSync(process.execPath, [MAIN], { env: { PATH: process.env.PATH ?? '', ...COMPILE_CACHE, PORTCULLIS_CHECK_COMMANDS: 'options' } });
    const commands = JSON.parse(output.toString()) as Array<{ command: string; options: Array<{ long?: string; short?: string }> }>;
    assert.ok(commands.length >= 30, `expected many commands, found ${commands.length}`);
    const all = DOCS.map(text).join('\n');
    const named = (flag: string | undefined): boolean => flag !== undefined && new RegExp(`(^|[^\\w-])${flag}(?![\\w-])`).test(all);
    const undocumented = commands.flatMap(({ command, options }) =>
      options.filter((o) => o.long !== '--help' && !named(o.long) && !named(o.short)).map((o) => `${command} ${o.long ?? o.short}`),
    );
    assert.deepEqual(undocumented, []);
  });

  it('never has a client launch `npx portcullis` (outside the checkout it fetches whatever the registry serves under that name)', () => {
    const launches: string[] = [];
    for (const file of DOCS) {
      for (const match of text(file).matchAll(/"command":\s*"npx",\s*"args":\s*\[\s*"portcullis"|mcp add [^`\n]*-- npx portcullis/g)) launches.push(`${file}: ${match[0]}`);
    }
    assert.deepEqual(launches, []);
  });

  it('names only npm scripts that exist', () => {
    const scripts = Object.keys((JSON.parse(text('package.json')) as { scripts: Record<string, string> }).scripts);
    const missing: string[] = [];
    for (const file of DOCS) {
      for (const match of text(file).matchAll(/npm run ([a-z][\w:-]*)/g)) if (!scripts.includes(match[1]!)) missing.push(`${file}: npm run ${match[1]}`);
    }
    assert.deepEqual(missing, []);
  });

  it('gives every top-level command an example in --help, in the order a newcomer needs them', () => {
    const help = execFileSync(process.execPath, [MAIN, '--help'], { env: { PATH: process.env.PATH ?? '', ...COMPILE_CACHE } }).toString();
    const listed = [...help.split('Commands:')[1]!.split('Start here:')[0]!.matchAll(/^ {2}([a-z-]+)/gm)].map((m) => m[1]!);
    const guided = COMMAND_GUIDE.map((entry) => entry.name);
    assert.deepEqual(listed.filter((name) => !guided.includes(name)), [], 'commands without an example in src/cli/guide.ts');
    assert.deepEqual(listed.slice(0, 4), ['serve', 'init', 'config', 'connect']);
  });
});

/**
 * What the cost work on the secret rules must not change: every rule still finds its own labelled
 * examples when it runs only in the windows around its (rarity-chosen) anchors, wherever in a longer
 * text the example sits; anchors are chosen among the rare literals of a pattern; the bounded
 * backtracker and the Pike VM recover the same captures; and the window cap on unbounded repetitions.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { LinearRegex } from '../../src/dlp/regex/automaton.ts';
import { literalFrequency } from '../../src/dlp/regex/rarity.ts';
import { MAX_MATCH_UNITS, RuleScanner } from '../../src/dlp/rule-scan.ts';
import { secretScanner } from '../../src/dlp/secrets.ts';

const RULES = new URL('../../../shared/corpora/noseyparker-rules/crates/noseyparker/data/default/builtin/rules/', import.meta.url).pathname;
/** Examples their own rule did not find before the windowed scan either (the pattern and example disagree). */
const KNOWN_MISSES: ReadonlySet<string> = new Set(['np.aws.2', 'np.generic.10']);

describe('secret rules in windows around their anchors', () => {
  it('find every positive example of their own Nosey Parker rule, alone and in the middle of a long text', { skip: !existsSync(RULES) && 'shared corpora not present' }, () => {
    const scanner = secretScanner();
    const index = new Map(scanner.rules.map((rule, r) => [rule.id, r]));
    // Ordinary text around the example: far more than any rule's window, so only the windows find it.
    const filler = '{"id": 42, "status": "active", "user": "alice", "path": "/api/v1/items", "note": "the key was rotated"}\n'.repeat(40);
    const missed: string[] = [];
    let checked = 0;
    for (const file of readdirSync(RULES)) {
      const doc = parse(readFileSync(join(RULES, file), 'utf8')) as { rules?: Array<{ id: string; examples?: string[] }> };
      for (const rule of doc.rules ?? []) {
        const r = index.get(`np:${rule.id}`);
        if (r === undefined || KNOWN_MISSES.has(rule.id)) continue;
        for (const example of rule.examples ?? []) {
          checked++;
          const alone = scanner.scan(example, (k) => k === r).matches.length > 0;
          const text = `${filler}\n${example}\n${filler}`;
          const at = filler.length + 1;
          const inside = scanner.scan(text, (k) => k === r).matches.some((m) => m.start >= at && m.start < at + example.length);
          if (!alone || !inside) missed.push(`${rule.id} (${alone ? 'in a long text' : 'alone'})`);
        }
      }
    }
    assert.ok(checked >= 400, `only ${checked} examples checked`);
    assert.deepEqual(missed, []);
  });

  it('report only the rules asked for, even where their anchors share a key with the ones asked for', () => {
    const scanner = secretScanner();
    const text = `${'token: ghp_abcdefghijklmnopqrstuvwxyz0123456789 and glpat-abcdefghij0123456789 '.repeat(3)}`;
    const all = scanner.scan(text).matches.map((m) => m.rule.id);
    assert.ok(new Set(all).size >= 2, `only ${all.join(', ')} found`);
    for (const id of new Set(all)) {
      const r = scanner.rules.findIndex((rule) => rule.id === id);
      assert.deepEqual([...new Set(scanner.scan(text, (k) => k === r).matches.map((m) => m.rule.id))], [id]);
    }
  });

  it('anchor a pattern on its rarest literals, not on the common words around them', () => {
    assert.ok(literalFrequency('user') > 100 * literalFrequency('password'));
    assert.deepEqual(new LinearRegex(String.raw`(?:user|username)\s*=\s*(\w+)\s*;\s*password\s*=\s*(\w+)`).anchors?.literals, ['password']);
    assert.deepEqual(new LinearRegex(String.raw`token.{0,20}(ghp_[A-Za-z0-9]{36})`).anchors?.literals, ['ghp_']);
    // Ordinary log lines send no generic username rule to its automaton any more.
    const generic = secretScanner().rules.filter((rule) => rule.id === 'np:np.generic.3' || rule.id === 'np:np.generic.4');
    assert.equal(generic.length, 2);
    for (const rule of generic) assert.ok(!rule.anchors.includes('user'), `${rule.id} is anchored on ${rule.anchors.join('|')}`);
  });

  it('recover the same captures with the bounded backtracker and, past its marks, the Pike VM', () => {
    // Program × window beyond the backtracker's marks (2000 copies of the class over a long text).
    const re = new LinearRegex(String.raw`key=([a-z]{0,2000})(x|y)`);
    const hit = 'key=abcdefy';
    const short = `..${hit}..`;
    const long = `${'.'.repeat(9000)}${hit}${'.'.repeat(9000)}`;
    const a = re.exec(short, 0);
    const b = re.exec(long, 0);
    assert.ok(a && b);
    assert.deepEqual([...a].map((v) => v - 2), [...b].map((v) => v - 9000));
    assert.deepEqual([...a], [2, 13, 6, 12, 12, 13]);
  });

  it('look for a match of an unbounded pattern within the window cap around its anchor', () => {
    const re = new LinearRegex('BEGIN[a-z]+END');
    const rules = [{ id: 'block', regex: () => re, anchors: ['begin'], before: 0, after: null, group: 0 }];
    const scanner = new RuleScanner(rules);
    assert.equal(scanner.scan(`BEGIN${'a'.repeat(MAX_MATCH_UNITS - 20)}END`).matches.length, 1);
    assert.equal(scanner.scan(`BEGIN${'a'.repeat(MAX_MATCH_UNITS + 20)}END`).matches.length, 0);
  });

  it("turn down the generic rule's low-entropy near misses before their captures, and nothing the entropy floor keeps", () => {
    const scanner = secretScanner();
    const r = scanner.rules.findIndex((rule) => rule.id === 'gitleaks:generic-api-key');
    const rule = scanner.rules[r]!;
    assert.ok(rule.mayAccept && rule.nextStart, 'the generic rule has a pre-check');
    // The same rule without its pre-checks, as the reference.
    const reference = new RuleScanner([{ ...rule, mayAccept: undefined, nextStart: undefined }]);
    const key = 'Zx81kPq0Lw2Nv7Rt4Ys6Ub9Hd3';
    const texts = [
      `api_key = "${key}"`,
      `api_key = "${'aB3'.repeat(24)}"`,
      `token: ${'abcdefghijk'.repeat(3)} and secret=${key}`,
      `password=${'x'.repeat(300)}`,
      `access_key = "${'aB3'.repeat(24)}" `.repeat(200) + `auth_token => '${key}'`,
      `key = "${'aB3'.repeat(24)}" token = "${key}" `.repeat(100),
      `creds='${'0123456789'.repeat(2)}' credentials: ${'0123456789ab'.repeat(2)}\n`,
      // Anchors packed closely (one search over merged windows, which skips to where a rich run starts).
      `${'key=aB3aB3aB3aB3 '.repeat(300)}api_key = "${key}" ${'key=aB3aB3aB3aB3 '.repeat(300)}`,
      // More anchors than a rule records: searched from the first one to the end.
      `${'api_key = "aB3aB3aB3aB3aB3" '.repeat(5000)}secret: ${key}\n${'api_key = "aB3aB3aB3aB3aB3" '.repeat(10)}`,
    ];
    for (const text of texts) {
      const found = scanner.scan(text, (k) => k === r).matches.map((m) => text.slice(m.start, m.end));
      const expected = reference.scan(text).matches.map((m) => text.slice(m.start, m.end));
      assert.deepEqual(found, expected, text.slice(0, 60));
    }
    // The key among the near misses is found (the comparison above is not between two empty lists).
    for (const text of texts.slice(-2)) assert.deepEqual(scanner.scan(text, (k) => k === r).matches.map((m) => text.slice(m.start, m.end)), [key]);
    assert.equal(rule.mayAccept!(`api_key = "${'aB3'.repeat(24)}"`, 0, 0), false);
    assert.equal(rule.mayAccept!(`api_key = "${key}"`, 0, 0), true);
  });
  it('start every match with a unit its first-unit set admits, so that anchors with none of them before are passed over', () => {
    const re = new LinearRegex(String.raw`(?i)\b(?:facebook|fb).?(?:api|app|key).{0,3}\b([a-z0-9]{32})\b`);
    const first = re.firstUnits!;
    assert.deepEqual([...first.ascii.keys()].filter((u) => first.ascii[u] === 1).map((u) => String.fromCharCode(u)).join(''), 'Ff');
    assert.equal(new LinearRegex('a*b?').firstUnits, undefined, 'a pattern matching empty text needs no first unit');
    // np.facebook.1 (anchored on `api`, `app`, `key`… after `facebook` or `fb`): the same matches with
    // and without the guard, on log lines full of `/api/` and with keys in every place around an anchor.
    const scanner = secretScanner();
    const r = scanner.rules.findIndex((rule) => rule.id === 'np:np.facebook.1');
    const rule = scanner.rules[r]!;
    assert.ok(rule.before! > 0 && rule.regex().firstUnits);
    const key = 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6';
    const lines = ['GET /api/v1/items 200', `fb_api_key=${key}`, `FACEBOOK APP SECRET: ${key}`, `x fbapi ${key} y`, `path=/fbapi/${key}`, `facebook-key: "${key}"`];
    for (let k = 0; k < 6; k++) {
      const text = lines.map((line, i) => (i + k) % 2 === 0 ? `${' '.repeat(k)}${line}` : line).join('\n');
      const scanned = scanner.scan(text, (q) => q === r).matches.map((m) => [m.start, m.end]);
      const plain: number[][] = [];
      for (let at = 0; at < text.length; ) {
        const caps = rule.regex().exec(text, at);
        if (!caps) break;
        plain.push([caps[2]!, caps[3]!]);
        at = caps[1]!;
      }
      assert.deepEqual(scanned, plain, text);
      assert.ok(scanned.length >= 4);
    }
  });
  it('search a pattern whose every match starts at the start of the text from there only, with the same answers', () => {
    assert.equal(new LinearRegex('^(?:a+|b+)$').startsAtTextStart, true);
    assert.equal(new LinearRegex('^a|^b').startsAtTextStart, true);
    assert.equal(new LinearRegex('(?i)^true|false|null$').startsAtTextStart, false);
    assert.equal(new LinearRegex('(?m)^a').startsAtTextStart, false, 'a line start is not the text start');
    const subjects = ['aaaa', 'xaaaa', '', 'bbb', 'ab', 'false', 'xfalse', '$ENV_VAR', 'x$ENV_VAR', '/usr/local/bin', ' /usr/x', `${'sk-'.repeat(80)}`];
    for (const source of ['^(?:a+|b+)$', '^a|^b', String.raw`^\$(?:[A-Z_]+|[a-z_]+)$`, String.raw`^/(?:bin|etc|home|opt|tmp|usr|var)/[\w ./-]+$`, '(?i)^true|false|null$']) {
      const re = new LinearRegex(source);
      for (const subject of subjects) assert.equal(re.firstEnd(subject, 0, subject.length, re.startsAtTextStart) >= 0, re.firstEnd(subject, 0, subject.length) >= 0, `${source} on ${subject}`);
    }
  });
  it("pass over an anchor whose next units no match can have, and find every match the walks find", () => {
    const re = new LinearRegex(String.raw`\b(pat[[:alnum:]]{14}\.[a-f0-9]{64})\b`);
    const rows = re.prefixUnits;
    assert.equal(rows[0], 8);
    assert.equal(rows[1 + 129 * 4 + '='.charCodeAt(0)], 0, 'path= is no airtable token');
    assert.equal(rows[1 + 129 * 4 + 'h'.charCodeAt(0)], 1);
    assert.equal(new LinearRegex('ab?').prefixUnits[0], 1, 'a match may end after one unit');
    // Every rule anchored at its matches' start, on texts made of its own anchors and near misses:
    // the same matches as each anchor walked.
    const scanner = secretScanner();
    let checked = 0;
    for (const [r, rule] of scanner.rules.entries()) {
      if (rule.before !== 0 || r % 7 !== 0) continue;
      const anchor = rule.anchors[0]!;
      const text = [`${anchor}=/x`, `${anchor}_key = "Zx81kPq0Lw2Nv7Rt4Ys6Ub9Hd3"`, `${anchor.toUpperCase()}0123456789abcdefABCDEF0123456789abcdef`, `path/${anchor}/v1`, anchor].join(' ');
      const found = scanner.scan(text, (k) => k === r).matches.map((m) => [m.start, m.end]);
      // The same regex with nothing known of its first units: every anchor walked.
      const re = rule.regex();
      const walked = {
        firstEnd: (...args: Parameters<LinearRegex['firstEnd']>) => re.firstEnd(...args),
        exec: (...args: Parameters<LinearRegex['exec']>) => re.exec(...args),
        fixedCaptures: (end: number) => re.fixedCaptures(end),
        get read() {
          return re.read;
        },
        maxLength: re.maxLength,
        firstUnits: undefined,
        prefixUnits: Uint8Array.of(0),
      } as unknown as LinearRegex;
      const reference = new RuleScanner([{ ...rule, regex: () => walked }]);
      const unguarded = reference.scan(text).matches.map((m) => [m.start, m.end]);
      assert.deepEqual(found, unguarded, rule.id);
      checked++;
    }
    assert.ok(checked > 20);
  });
});

/**
 * The DLP engine's parts: the linear-time regex engine against ECMAScript's own (same matches on the
 * patterns both can read), hostile patterns and inputs that would stall a backtracking engine, the
 * checksums behind personal data, masking, and the fail-closed bounds.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { processSecretSource } from '../../src/config/secrets.ts';
import { Dlp, MaskBook, applyMasks } from '../../src/dlp/engine.ts';
import { cnIdValid, cpfValid, dniValid, findPii, ibanValid, luhn, nhsValid, PII_KINDS, ssnValid, verhoeff } from '../../src/dlp/pii.ts';
import { LinearRegex } from '../../src/dlp/regex/automaton.ts';
import { RegexSyntaxError } from '../../src/dlp/regex/parse.ts';
import { MAX_MATCHES, RuleScanner } from '../../src/dlp/rule-scan.ts';
import { SECRET_RULES, SKIPPED_RULES } from '../../src/dlp/rules/secret-rules.ts';
import { breakCheck, iban, withLuhn } from '../helpers/personal-data.ts';
import { fakeSecrets } from '../helpers/secrets.ts';

/** All leftmost-first matches of `re` (group 0), as [start, end] pairs. */
function linearMatches(re: LinearRegex, text: string): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let pos = 0; pos <= text.length; ) {
    const caps = re.exec(text, pos);
    if (!caps) break;
    out.push([caps[0]!, caps[1]!]);
    pos = caps[1]! > caps[0]! ? caps[1]! : caps[0]! + 1;
  }
  return out;
}

function jsMatches(pattern: string, flags: string, text: string): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const re = new RegExp(pattern, `${flags}g`);
  for (let m = re.exec(text); m; m = re.exec(text)) {
    out.push([m.index, m.index + m[0].length]);
    if (m[0].length === 0) re.lastIndex++;
  }
  return out;
}

const dlpWith = (config: Record<string, unknown>) => new Dlp({ results: {}, arguments: {}, patterns: [], servers: {}, ...config } as never, processSecretSource({}));

describe('linear-time regex engine', () => {
  const cases: Array<[string, string, string]> = [
    ['a+?b', '', 'xaaab aab b'],
    ['(a|ab)(c|bcd)(d*)', '', 'abcd abcd'],
    ['\\b[A-Z]{4}[0-9]{2,4}\\b', '', 'ABCD12 ABCD12345 xABCD12 ABCD1234'],
    ['colou?r', 'i', 'Color COLOUR colr'],
    ['^\\d+$', 'm', '12\nab\n345'],
    ['[^\\s"]{3,}@[a-z]+\\.(?:com|org)', '', 'mail a.b-c@example.org or "x@y.com"'],
    ['(?:x|y)*z', '', 'xyxyz zz xy'],
    ['\\.{2,}', '', 'a..b...c.d'],
    ['[\\w.-]{0,5}key\\s*[:=]\\s*([A-Za-z0-9]{8,})', '', 'api_key = ABCdef123456 and key:short'],
  ];
  for (const [pattern, flags, text] of cases) {
    it(`matches as ECMAScript does: /${pattern}/${flags}`, () => {
      const prefix = flags.includes('i') || flags.includes('m') ? `(?${flags})` : '';
      assert.deepEqual(linearMatches(new LinearRegex(prefix + pattern), text), jsMatches(pattern, flags, text));
    });
  }

  it('recovers capture groups (leftmost-first, greedy and lazy)', () => {
    const re = new LinearRegex('(\\w+?)=(\\w*)');
    const caps = re.exec('  name=value ', 0)!;
    assert.deepEqual([...caps], [2, 12, 2, 6, 7, 12]);
  });

  it('runs patterns that stall a backtracking engine, on long input, to the right answer', () => {
    const input = `${'a'.repeat(50_000)}!`;
    for (const pattern of ['(a|aa)+$', '(a*)*b', '(?:a+)+c', '(a|a)*\\d']) {
      const re = new LinearRegex(pattern);
      assert.equal(re.firstEnd(input, 0, input.length), -1, pattern);
    }
    assert.ok(new LinearRegex('(a|aa)+!').firstEnd(input, 0, input.length) > 0);
  });

  it('refuses what cannot run in linear time, saying why', () => {
    for (const pattern of ['(a)\\1', '(?=a)b', '(?<!a)b', 'a{2001}', '\\p{L}']) assert.throws(() => new LinearRegex(pattern), RegexSyntaxError, pattern);
  });

  it('knows the literals every match contains, and how far a match reaches around them', () => {
    const re = new LinearRegex('\\b(ghp_[0-9a-zA-Z]{36})\\b');
    assert.deepEqual(re.anchors?.literals, ['ghp_']);
    assert.equal(re.anchors?.before, 0);
    assert.equal(re.anchors?.after, 40);
    assert.equal(new LinearRegex('[a-z]+').anchors, undefined);
  });
});

describe('secret rule table', () => {
  it('was generated with every kept rule anchored and compilable, and says why the others were left out', () => {
    assert.ok(SECRET_RULES.length >= 400);
    for (const rule of SECRET_RULES.filter((_, i) => i % 10 === 0)) {
      const re = new LinearRegex(rule.pattern, { trimLeading: true });
      assert.ok(rule.anchors.every((a) => a.length >= 3 && a === a.toLowerCase()), rule.id);
      assert.ok(re.minLength > 0, rule.id);
    }
    assert.ok(SKIPPED_RULES.every((s) => s.reason.length > 10));
  });

  it('finds the usual secrets and masks each distinct value with a stable number', () => {
    const s = fakeSecrets();
    const dlp = dlpWith({});
    const text = `${s.aws} then ${s.github}, again ${s.aws}`;
    const outcome = dlp.inspect({ content: [{ type: 'text', text }] }, { server: 'x', tool: 't', direction: 'result' });
    assert.ok('value' in outcome);
    const masked = JSON.stringify(outcome.value);
    const labels = masked.match(/\[REDACTED:[a-z0-9-]+#\d\]/g)!;
    assert.equal(labels.length, 3);
    assert.equal(labels[0], labels[2]);
    assert.notEqual(labels[0], labels[1]);
  });
});

describe('texts remembered as clean', () => {
  it('answers for the detectors that judged them only: a text clean of secrets is still found holding personal data', () => {
    const dlp = dlpWith({ results: { pii: 'mask' } });
    const email = 'alice.martin@example.com';
    // The audit's test looks for secrets only: the address is clean for it, and it is remembered so.
    assert.equal(dlp.holdsSecret(email), false);
    assert.equal(dlp.holdsSecret(email), false);
    // A result is read with personal data on: the same text is found and masked, before and after.
    for (let round = 0; round < 2; round++) {
      const outcome = dlp.inspect({ content: [{ type: 'text', text: email }] }, { server: 'x', tool: 't', direction: 'result' });
      assert.ok('value' in outcome);
      assert.doesNotMatch(JSON.stringify(outcome.value), /alice\.martin@example\.com/);
      assert.ok(outcome.findings.some((f) => f.type === 'pii'));
    }
  });

  it('never remembers a text holding a secret, and finds a secret in a word the anchor pass let through', () => {
    const s = fakeSecrets();
    const dlp = dlpWith({});
    for (let round = 0; round < 3; round++) assert.equal(dlp.holdsSecret(s.github), true);
    // Short words whose trigrams pass the anchor pass's key set, with no anchor literal in them.
    for (const word of ['echo', 'tools/call', 'key:fcdbf1f18664']) assert.equal(dlp.holdsSecret(word), false);
    assert.equal(dlp.holdsSecret(`echo ${s.github}`), true);
  });
});

describe('personal data', () => {
  it('checks each kind by its checksum', () => {
    assert.ok(luhn('4111111111111111') && !luhn('4111111111111112'));
    assert.ok(ibanValid(iban('DE', '370400440532013000')) && !ibanValid('DE89370400440532013001'));
    assert.ok(verhoeff('234123412346') && !verhoeff('234123412347'));
    assert.ok(cpfValid('11144477735') && !cpfValid('11144477736') && !cpfValid('11111111111'));
    assert.ok(nhsValid('9434765919') && !nhsValid('9434765918'));
    assert.ok(dniValid('12345678Z') && !dniValid('12345678A') && dniValid('X1234567L'));
    assert.ok(cnIdValid('11010519491231002X') && !cnIdValid('110105194912310021'));
    assert.ok(ssnValid('123456789') && !ssnValid('000456789') && !ssnValid('666456789') && !ssnValid('912456789'));
  });

  it('never reports a card or an IBAN whose checksum fails', () => {
    const kinds = new Set(PII_KINDS);
    for (let k = 0; k < 200; k++) {
      const card = withLuhn(`4${String(100_000_000_000_00 + k * 7919).padStart(14, '0')}`);
      const good = iban('NL', `ABNA${String(4_000_000_000 + k * 104_729).padStart(10, '0')}`);
      const found = findPii(`card ${card} iban ${good}`, kinds).map((m) => m.kind);
      assert.deepEqual(found, ['payment-card', 'iban']);
      const bad = findPii(`card ${breakCheck(card)} iban ${good.slice(0, 2)}${String((Number(good.slice(2, 4)) + 1) % 100).padStart(2, '0')}${good.slice(4)}`, kinds);
      assert.deepEqual(bad, []);
    }
  });

  it('leaves dates, versions, ids and hashes alone', () => {
    const text = 'on 2024-01-15 v1.2.3.4 id 123e4567-e89b-12d3-a456-426614174000 sha a94a8fe5ccb19ba61c4c0873d391e987982fbbd3 ts 1717171717171 port 8080';
    assert.deepEqual(findPii(text, new Set(PII_KINDS)), []);
  });

  it('finds personal data at every alignment after long quiet stretches (skipped four bytes at a time)', () => {
    const card = withLuhn('411111111111111');
    const good = iban('DE', '370400440532013000');
    for (let offset = 0; offset < 8; offset++) {
      // Lower-case prose, then the values, then a non-Latin-1 unit whose low byte is a digit.
      const text = `${'quiet text '.repeat(40)}${'x'.repeat(offset)} ${card} and ${good} end \u0131${'z'.repeat(offset)} X1234567L`;
      assert.deepEqual(findPii(text, new Set(PII_KINDS)).map((m) => m.kind), ['payment-card', 'iban', 'es-dni'], `offset ${offset}`);
    }
  });
});

describe('masking and bounds', () => {
  it('merges overlapping spans into one mask', () => {
    const masked = applyMasks('abcdefgh', [{ type: 'secret', rule: 'a', label: 'x', start: 1, end: 4 }, { type: 'pii', rule: 'b', label: 'y', start: 3, end: 6 }], new MaskBook());
    assert.equal(masked, 'a[REDACTED:x#1]gh');
  });

  it('blocks a text with more findings than it may hold (fail closed)', () => {
    const s = fakeSecrets();
    const text = Array.from({ length: MAX_MATCHES + 5 }, () => s.github).join(' ');
    const outcome = dlpWith({}).inspect({ content: [{ type: 'text', text }] }, { server: 'x', tool: 't', direction: 'result' });
    assert.ok('refusal' in outcome);
    assert.equal(outcome.refusal.code, 'PC_DLP_BLOCKED');
    assert.equal(outcome.refusal.data?.type, 'uninspectable');
  });

  it('a scanner reads a text at most a bounded number of times, and says so when it would have to read more', () => {
    const rules = Array.from({ length: 40 }, (_, i) => {
      const re = new LinearRegex(`zz${i}[a-z ]*`);
      return { id: `r${i}`, regex: () => re, anchors: [`zz${i}`], before: null, after: null, group: 0 };
    });
    const text = Array.from({ length: 40 }, (_, i) => `zz${i}`).join(' ').repeat(2000);
    const outcome = new RuleScanner(rules).scan(text);
    assert.match(outcome.uninspectable ?? '', /more than/);
  });
});

/**
 * The views detection also reads (src/dlp/normalize.ts, decode.ts, views.ts): each undoes one way of
 * hiding a value, maps back to the source characters it came from, and leaves ordinary text alone.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { processSecretSource } from '../../src/config/secrets.ts';
import { base64Text, decodedViews, longRuns } from '../../src/dlp/decode.ts';
import { compilePatterns, detect, type Detectors } from '../../src/dlp/detect.ts';
import { Dlp } from '../../src/dlp/engine.ts';
import { findHiddenUnicode } from '../../src/dlp/injection.ts';
import { compactedView, despacedViews, foldName, normalizedView } from '../../src/dlp/normalize.ts';
import { GLUED, GLUED_LITERALS, LOWER_AWS } from '../../src/dlp/glued.ts';
import { dlpSchema } from '../../src/dlp/schema.ts';
import { detectDeep } from '../../src/dlp/views.ts';
import { iban } from '../helpers/personal-data.ts';
import { fakeSecrets } from '../helpers/secrets.ts';

const s = fakeSecrets();
const SECRETS_ONLY: Detectors = { secrets: true, pii: false, injection: false, patterns: false };
const ALL: Detectors = { secrets: true, pii: true, injection: true, patterns: true };
const interleave = (v: string, sep: string) => [...v].join(sep);
const fullwidth = (v: string) => [...v].map((c) => (c >= '!' && c <= '~' ? String.fromCharCode(c.charCodeAt(0) + 0xfee0) : c)).join('');

describe('normalizedView', () => {
  it('removes format characters, variation selectors, tags and controls, and maps each unit to its source', () => {
    for (const sep of ['\u200B', '\u200D', '\u00AD', '\u2060', '\uFEFF', '\u034F', '\uFE0F', '\u{E0101}', '\u{E0041}', '\u0000', '\u0007', '\u202E']) {
      const text = interleave('abc', sep);
      const view = normalizedView(text)!;
      assert.equal(view.text, 'abc', JSON.stringify(sep));
      assert.equal(view.starts[1], 1 + sep.length);
      assert.equal(view.ends[2], text.length);
    }
  });

  it('folds fullwidth, mathematical and Cyrillic/Greek look-alike letters to ASCII, and nothing else', () => {
    assert.equal(normalizedView(fullwidth('ghp_Ab9'))!.text, 'ghp_Ab9');
    assert.equal(normalizedView('\u{1D400}\u{1D40A}\u{1D408}\u{1D400}')!.text, 'AKIA');
    assert.equal(normalizedView('p\u0430ss\u0412\u039F')!.text, 'passBO');
    // Accents are dropped (`é` → `e`); other scripts, emoji and tab/line breaks are left as they are.
    assert.equal(normalizedView('Zürich café')!.text, 'Zurich cafe');
    for (const text of ['天气很好', 'שלום', '\u{1F600}', 'a\tb\nc', 'plain ascii']) assert.equal(normalizedView(text), undefined, text);
  });

  it('folds field names: case, invisible characters, look-alikes, fullwidth and surrounding spaces', () => {
    for (const name of ['PASSWORD', 'pass\u200Bword', 'pass\u00ADword', fullwidth('password'), 'p\u0430ssword', ' password ', 'password\u0000']) assert.equal(foldName(name), 'password', JSON.stringify(name));
    assert.notEqual(foldName('passwd'), 'password');
  });
});

describe('despaced and compacted views', () => {
  it('reads letters spaced out, a space of the original becoming three', () => {
    const views = despacedViews(`key: ${interleave('RSA PRIVATE KEY', ' ')} end`);
    assert.ok(views.some((v) => v.text.includes('RSA PRIVATE KEY')));
    assert.deepEqual(despacedViews('a list of things to do, and a b c'), []);
  });

  it('removes whitespace and keeps the map', () => {
    const view = compactedView('ab \n cd')!;
    assert.equal(view.text, 'abcd');
    assert.deepEqual([...view.starts], [0, 1, 5, 6]);
    assert.equal(compactedView('abcd'), undefined);
  });
});

describe('decodedViews', () => {
  const decoded = (text: string) => decodedViews(text).map((d) => [d.encoding, d.text]);
  it('decodes base64, base64url and hex runs whose bytes are text, mapped to the whole run', () => {
    const value = `token ${s.github}`;
    const b64 = Buffer.from(value).toString('base64');
    const views = decodedViews(`x ${b64} y`);
    assert.deepEqual(views.map((v) => [v.encoding, v.text]), [['base64', value]]);
    assert.equal(views[0]!.starts[0], 2);
    assert.equal(views[0]!.ends[0], 2 + b64.length);
    assert.deepEqual(decoded(Buffer.from(value).toString('base64url').replaceAll('=', '')).map(([, t]) => t), [value]);
    assert.deepEqual(decoded(Buffer.from(value).toString('hex')), [['hex', value]]);
  });

  it('leaves random runs alone: hashes, UUIDs, random base64 decode to binary', () => {
    for (const text of ['commit 3f786850e387550fdab836ed7e6dc881de23001b', 'id 550e8400-e29b-41d4-a716-446655440000', `data ${Buffer.from(Array.from({ length: 48 }, (_, i) => (i * 97 + 13) % 256)).toString('base64')}`]) {
      assert.deepEqual(decoded(text), [], text);
    }
  });

  it('decodes %-escapes (two levels through the caller), quoted-printable, HTML references and \\u escapes in a window', () => {
    const v = 'ghp_x';
    const pct = [...Buffer.from(v)].map((b) => `%${b.toString(16)}`).join('');
    assert.ok(decoded(`a ${pct} b`).some(([e, t]) => e === 'url' && t!.includes(v)));
    assert.ok(decoded(`a ${pct.replaceAll('%', '%25')} b`).some(([, t]) => t!.includes(pct)));
    assert.ok(decoded(`a ${[...Buffer.from(v)].map((b) => `=${b.toString(16).toUpperCase()}`).join('')} b`).some(([e, t]) => e === 'quoted-printable' && t!.includes(v)));
    assert.ok(decoded(`a ${[...v].map((c) => `&#${c.charCodeAt(0)};`).join('')} b`).some(([e, t]) => e === 'html' && t!.includes(v)));
    assert.ok(decoded(`a ${[...v].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')} b`).some(([e, t]) => e === 'escape' && t!.includes(v)));
  });

  it('does not decode a lone %20 or &amp; (everywhere in ordinary text)', () => {
    assert.deepEqual(decoded('GET /search?q=red%20shoes&amp;page=2'), []);
  });

  it('finds long runs by probing, not by reading every unit', () => {
    assert.deepEqual(longRuns('short words only, nothing long here at all'), []);
    const text = `abc ${'Z'.repeat(40)} def`;
    assert.deepEqual(longRuns(text), [4, 44]);
  });

  it('reads a base64 blob as text only when it is text', () => {
    assert.equal(base64Text(Buffer.from(`key: ${s.github}`).toString('base64')), `key: ${s.github}`);
    assert.equal(base64Text(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]).toString('base64')), undefined);
  });
});

describe('detectDeep', () => {
  const found = (text: string, on = SECRETS_ONLY) => detectDeep(text, on, undefined).findings;

  it('finds a secret behind invisible characters and masks the original characters, the invisible ones included', () => {
    const hidden = interleave(s.github, '\u200B');
    const text = `key ${hidden} end`;
    const f = found(text).find((x) => x.rule.includes('github'))!;
    assert.equal(f.location, 'normalized');
    assert.equal(text.slice(f.start, f.end), hidden);
  });

  it('finds secrets glued to word characters, in lower case (AWS key ids), spaced out and broken over lines', () => {
    for (const text of [`_${s.aws}_`, `ref-id${s.stripe}x`, `x${s.jwt}`, s.aws.toLowerCase(), interleave(s.github, ' '), `${s.github.slice(0, 20)}\n${s.github.slice(20)}`]) {
      assert.ok(found(text).some((f) => f.type === 'secret'), JSON.stringify(text));
    }
  });

  it('finds the same in long texts, where probes decide (a spaced secret, a card glued to a word, after 4 KB of prose)', () => {
    const prose = 'the queue drained while the scheduler kept retrying failed jobs '.repeat(64);
    assert.ok(found(`${prose} ${interleave(s.github, ' ')} end`).some((f) => f.type === 'secret' && f.location === 'despaced'));
    const card = '4539 1488 0343 6467';
    assert.ok(found(`${prose} lg-${card} end`, { ...SECRETS_ONLY, pii: true }).some((f) => f.rule === 'payment-card' && f.location === 'unglued'));
  });

  it('finds an IBAN glued to a word in a long text, compact or grouped, and no IBAN whose checksum fails', () => {
    const prose = 'the queue drained while the scheduler kept retrying failed jobs '.repeat(64);
    const valid = iban('DE', '370400440532013000');
    const grouped = valid.replace(/(.{4})(?=.)/g, '$1 ');
    for (const glued of [`ref${valid}`, `ref${grouped}`]) {
      assert.ok(found(`${prose} ${glued} end`, { ...SECRETS_ONLY, pii: true }).some((f) => f.rule === 'iban' && f.location === 'unglued'), glued);
    }
    const broken = `${valid.slice(0, 2)}${String((Number(valid.slice(2, 4)) + 1) % 100).padStart(2, '0')}${valid.slice(4)}`;
    assert.deepEqual(found(`${prose} ref${broken} end`, { ...SECRETS_ONLY, pii: true }), []);
  });

  it('runs the glued-prefix searches only where the anchor pass saw one of their literals, and those literals start every match', () => {
    const samples = [`_${s.aws}_`, `x${s.github}`, `x${s.slack}`, `x${s.stripe}`, `rk_test_${'a1'.repeat(12)}`, `x${s.jwt}`, `x${s.pem}`, s.aws.toLowerCase(), `github_pat_${'A1'.repeat(41)}`];
    for (const sample of samples) {
      const m = GLUED.exec(sample) ?? LOWER_AWS.exec(sample);
      GLUED.lastIndex = LOWER_AWS.lastIndex = 0;
      assert.ok(m, sample);
      // As the anchor pass compares: a lower-case letter of a literal in either case, an upper-case one exactly.
      assert.ok(GLUED_LITERALS.some((l) => [...l].every((c, k) => m[0][k] === c || m[0][k]?.toLowerCase() === c)), m[0]);
      assert.equal(detect(`${'lorem ipsum '.repeat(300)}${sample}`, SECRETS_ONLY, undefined).seen?.glued, true, sample);
    }
    assert.equal(detect('lorem ipsum '.repeat(300), SECRETS_ONLY, undefined).seen?.glued, false);
    // Hex ids in lower case hold `acca`, `abia` often: not the upper-case AWS prefixes.
    assert.equal(detect(`${'lorem ipsum '.repeat(300)} sha 3facca0abia9`, SECRETS_ONLY, undefined).seen?.glued, false);
    // Without secrets the glued views find nothing: not looked for.
    assert.equal(detect(`lorem ${s.aws}`, { ...SECRETS_ONLY, secrets: false, pii: true }, undefined).seen?.glued, false);
  });

  it('leaves digits glued to a word without card grouping alone: ids and timestamps, short or long texts', () => {
    const ids = `ref-${'4539 1488 0343 6467'.replaceAll(' ', '')} order-1765080316123 m6-1765080316129`;
    for (const text of [ids, `${'lorem ipsum '.repeat(200)}${ids}`]) assert.deepEqual(found(text, { ...SECRETS_ONLY, pii: true }), [], text.slice(-80));
  });

  it('masks the whole encoded run of a base64 secret in a result', () => {
    const dlp = new Dlp(dlpSchema.parse({}), processSecretSource({}));
    const b64 = Buffer.from(`token=${s.github}`).toString('base64');
    const out = dlp.inspect({ content: [{ type: 'text', text: `value: ${b64}.` }] }, { server: 's', tool: 't', direction: 'result' });
    assert.ok('value' in out);
    assert.match(JSON.stringify(out.value), /value: \[REDACTED:github-[a-z-]+#1\]\./);
    assert.equal(out.findings[0]!.location, 'decoded:base64');
  });

  it('matches exact values and patterns regardless of case', () => {
    const patterns = compilePatterns([{ name: 'canary', regex: 'CANARY-[0-9]{6}', action: 'block', arguments: true }, { name: 'build', value: 'cnry-7f3a9c2e', action: 'block', arguments: true }], processSecretSource({}));
    const rules = (text: string) => detectDeep(text, { ...SECRETS_ONLY, patterns: true }, patterns).findings.map((f) => f.rule);
    assert.deepEqual(rules('canary-482913 and CNRY-7F3A9C2E'), ['canary', 'build']);
  });

  it('leaves ordinary text without findings: prose, JSON, logs, URLs, accents, emoji, right-to-left text', () => {
    const ordinary = [
      'The deployment finished; see https://example.org/a%20b?x=1&y=2 for details.',
      '{"id":"550e8400-e29b-41d4-a716-446655440000","sha":"3f786850e387550fdab836ed7e6dc881de23001b","count":12}',
      '2025-01-01T12:00:00Z INFO request_id=9f8e7d6c5b4a3928 user=alice latency_ms=42 path=/api/v1/items/7',
      'Météo à Zürich: ☀️ 21 °C. שלום\u200F مرحبا\u200F 👨‍👩‍👧',
      'if (len < ulen + wlen + 2)\n  break;\nuser = (char *) (p + 1);\npwd = (char *) (p + 2);',
    ];
    for (const text of ordinary) assert.deepEqual(found(text, ALL), [], text);
  });
});

describe('hidden Unicode: variation selectors', () => {
  it('flags a run of variation selectors, not a single one after an emoji or a CJK ideograph', () => {
    const smuggled = 'ok' + [...Buffer.from('obey')].map((b) => String.fromCodePoint(0xe0100 + b - 16)).join('');
    assert.deepEqual(findHiddenUnicode(smuggled).map((m) => m.signal), ['unicode.variation-selectors']);
    assert.deepEqual(findHiddenUnicode('sunny \u2600\uFE0F and \u845B\u{E0100}'), []);
  });
});

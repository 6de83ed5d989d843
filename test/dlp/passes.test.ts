/**
 * The passes that find where detection has to look (src/dlp/pii.ts `regions`, src/dlp/decode.ts
 * `longRuns`, the views' gates in src/dlp/views.ts) take shortcuts for speed — whole words skipped,
 * units sampled — and must find exactly what a plain reading of every unit finds. Each is compared
 * here with that plain reading on texts built to sit on the shortcuts' edges (runs that straddle word
 * boundaries, at the very end of the text, hex ids, capitals before digits), and the personal data and
 * secrets they lead to are looked for across the same edges.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { longRuns, nextListStart, nextSpacedGroups } from '../../src/dlp/decode.ts';
import type { Detectors } from '../../src/dlp/detect.ts';
import { dechunkedView, unwrappedView } from '../../src/dlp/normalize.ts';
import { findPii, PII_KINDS, regions } from '../../src/dlp/pii.ts';
import { detectDeep, hasSpacedLetters } from '../../src/dlp/views.ts';
import { iban, withLuhn } from '../helpers/personal-data.ts';
import { seededRandom } from '../helpers/random.ts';
import { fakeSecrets } from '../helpers/secrets.ts';

const ALL = new Set(PII_KINDS);
const EVERY: Detectors = { secrets: true, pii: true, injection: true, patterns: false };
const s = fakeSecrets();
/** The findings of `text` with every detector on, as `rule@location`. */
const seen = (text: string): string[] => detectDeep(text, EVERY, undefined).findings.map((f) => `${f.rule}@${f.location ?? 'text'}`);

/** Texts heavy in what the regions pass looks for: digits, separators, capitals, hex, at every alignment. */
function edgeTexts(count: number, seed: number): string[] {
  const next = seededRandom(seed);
  const pieces = ['0', '1', '7', '9', ' ', '-', '.', '/', '(', ')', 'A', 'G', 'B', 'Z', 'a', 'f', 'x', '_', '=', ':', '\n', '"', '+', 'é'];
  const out: string[] = [];
  for (let k = 0; k < count; k++) {
    const length = 60 + Math.floor(next() * 200);
    let text = '';
    while (text.length < length) {
      const r = next();
      if (r < 0.15) text += String(Math.floor(next() * 10 ** (1 + Math.floor(next() * 12))));
      else if (r < 0.2) text += `GB${Math.floor(next() * 100)}WEST${Math.floor(next() * 1e8)}`;
      else text += pieces[Math.floor(next() * pieces.length)]!;
    }
    out.push(text);
  }
  return out;
}

/** `text` as Latin-1 bytes at a byte offset: 0 lets `regions` skip whole words, 1 makes it read every byte. */
function bytesAt(text: string, offset: number): Uint8Array {
  const buffer = new ArrayBuffer(text.length + 8);
  const bytes = new Uint8Array(buffer, offset, text.length);
  bytes.set(Buffer.from(text, 'latin1'));
  return bytes;
}

describe('the personal-data regions pass', () => {
  it('finds the same digit runs, IBAN starts and personal data when it skips whole words as when it reads every byte', () => {
    let compared = 0;
    for (const text of edgeTexts(3000, 15)) {
      const skipping = regions(bytesAt(text, 0), text.length);
      const reading = regions(bytesAt(text, 1), text.length);
      const where = JSON.stringify(JSON.stringify(text));
      assert.deepEqual(skipping.digitRuns, reading.digitRuns, `digit runs differ for ${where}`);
      assert.deepEqual(skipping.ibans, reading.ibans, `IBAN starts differ for ${where}`);
      // A number run may be passed over only where no kind can be: every kind needs nine digits.
      const kept = new Set(skipping.numbers.filter((_, k) => k % 2 === 0));
      for (let k = 0; k < reading.numbers.length; k += 2) {
        if (kept.has(reading.numbers[k]!)) continue;
        const digits = text.slice(reading.numbers[k], reading.numbers[k + 1]).replace(/\D/g, '').length;
        assert.ok(digits < 9, `a number run of ${digits} digits passed over in ${where}`);
      }
      assert.deepEqual(findPii(text, ALL, bytesAt(text, 0)), findPii(text, ALL, bytesAt(text, 1)), `personal data differs for ${where}`);
      compared += skipping.numbers.length + skipping.digitRuns.length + skipping.ibans.length;
    }
    assert.ok(compared > 3000, `the texts hold regions to compare (${compared})`);
  });

  it('finds a run of seven digits at every offset across word boundaries, between hex ids and at the very end', () => {
    for (let pad = 0; pad < 12; pad++) {
      for (const [lead, tail] of [['a3f9', 'c0de'], ['', ''], ['1b2c', ''], ['x', 'z']] as const) {
        const hex = `${'deadbeef'.repeat(8)}${'a'.repeat(pad)}${lead}`;
        const text = `${hex}1234567${tail}`;
        const found = regions(bytesAt(text, 0), text.length);
        // The run starts at the digits or, when the hex before ends in digits, earlier.
        const at = hex.length;
        const covered = found.digitRuns.some((start, k) => k % 2 === 0 && start <= at && found.digitRuns[k + 1]! >= at + 7);
        assert.ok(covered, `no digit run in ${text}`);
      }
    }
  });
});

describe('the long-run finder of the decoded views', () => {
  it('finds the same runs reading the bytes of an ASCII text as reading its string, at every offset and at the end', () => {
    const next = seededRandom(7);
    const alphabet = 'AZaz09+/_-.: \n"=';
    for (let k = 0; k < 2000; k++) {
      let text = '';
      const length = 1 + Math.floor(next() * 300);
      while (text.length < length) text += next() < 0.3 ? 'Qm9vaw'.repeat(1 + Math.floor(next() * 5)) : alphabet[Math.floor(next() * alphabet.length)]!;
      assert.deepEqual(longRuns(text, Buffer.from(text, 'latin1')), longRuns(text), JSON.stringify(text));
    }
  });

  it('finds a base64-encoded secret at every offset of a long text, at its very end, and after non-ASCII text', () => {
    const encoded = Buffer.from(`token ${s.github}`).toString('base64');
    for (let pad = 0; pad < 20; pad++) {
      for (const lead of ['the deployment list ', 'Die Bereitstellungen für die Region ']) {
        const prose = `${lead.repeat(60)}${'x'.repeat(pad)} `;
        assert.ok(seen(`${prose}${encoded} and more text after it`).some((f) => f.endsWith('decoded:base64')), `pad ${pad}, in the middle`);
        assert.ok(seen(`${prose}${encoded}`).some((f) => f.endsWith('decoded:base64')), `pad ${pad}, at the end`);
      }
    }
  });
});

describe('the views\' gates', () => {
  it('says a text has spaced letters exactly when eight spaces stand two units apart, whatever the probes land on', () => {
    const next = seededRandom(3);
    let spaced = 0;
    for (let k = 0; k < 20000; k++) {
      const share = next();
      let text = '';
      for (let n = Math.floor(next() * 60); text.length < n; ) text += next() < share ? ' ' : 'ab'[Math.floor(next() * 2)]!;
      const expected = / (?:[\s\S] ){7}/.test(text);
      assert.equal(hasSpacedLetters(text), expected, JSON.stringify(text));
      if (expected) spaced++;
    }
    assert.ok(spaced > 1000, `the texts hold spaced runs (${spaced})`);
  });

  it('finds a spaced-out secret at every offset of the probes, at the very end, and in a text with no other space', () => {
    const spaced = [...s.github].join(' ');
    for (let pad = 0; pad < 28; pad++) {
      const prose = `${'the deployment list '.repeat(40)}${'y'.repeat(pad)}`;
      for (const text of [`${prose} ${spaced} end`, `${prose} ${spaced}`, `${'z'.repeat(600 + pad)}\t${spaced}`]) {
        assert.ok(seen(text).some((f) => f.endsWith('@despaced')), `pad ${pad}: ${text.slice(-90)}`);
      }
    }
    // A space of the original becomes three: the run's spaces change parity nowhere.
    assert.ok(seen(`${'the deployment list '.repeat(40)}key: ${[...`RSA key ${s.github}`].join(' ')}`).some((f) => f.endsWith('@despaced')));
  });

  it('joins wrapped base64 that comes after hundreds of log lines with nothing to join, and at the very end', () => {
    const logs = '2025-01-01T12:00:00Z INFO request_id=8ffb08fb5c3344fb user=alice latency_ms=102 path=/api/v1/items/7102\n'.repeat(300);
    const wrapped = (Buffer.from(`export GITHUB_TOKEN=${s.github}\n`).toString('base64').match(/.{1,20}/g) ?? []).join('\n');
    assert.ok(seen(`${logs}${wrapped}\nnext line`).some((f) => f.includes('unwrapped')), 'in the middle');
    assert.ok(seen(`${logs}${wrapped}`).some((f) => f.includes('unwrapped')), 'at the end');
  });

  it('finds an IBAN with a lower-case account part at each of the four alignments of its country code', () => {
    const value = iban('GB', 'WEST12345698765432');
    for (let pad = 60; pad < 68; pad++) {
      const text = `${'q'.repeat(pad)} ${value.slice(0, 4)}${value.slice(4).toLowerCase()} ${'q'.repeat(40)}`;
      assert.ok(seen(text).includes('iban@text'), `pad ${pad}`);
    }
  });
});

describe('the views\' own searches', () => {
  /** Texts of the pieces the searches stop on (spaces, separators, hex and base64 letters), in any order. */
  function searchTexts(count: number, seed: number, pieces: readonly string[]): string[] {
    const next = seededRandom(seed);
    return Array.from({ length: count }, () => {
      let text = '';
      for (let n = 3 + Math.floor(next() * 40); text.length < n; ) text += pieces[Math.floor(next() * pieces.length)]!;
      return text;
    });
  }

  it('finds two groups of four between spaces exactly where the pattern for them matches, from every position', () => {
    const pattern = / [A-Za-z0-9+/]{4} [A-Za-z0-9+/]{4} /g;
    let found = 0;
    for (const text of searchTexts(20000, 11, [' ', ' aZ9+', ' a/b', ' Qm9v', 'a', '-', '_', '=', 'é', ' x', 'yz'])) {
      for (let from = 0; from <= text.length; from++) {
        pattern.lastIndex = from;
        const expected = pattern.exec(text)?.index ?? -1;
        assert.equal(nextSpacedGroups(text, from), expected, `${JSON.stringify(text)} from ${from}`);
        if (expected >= 0) found++;
      }
    }
    assert.ok(found > 1000, `the texts hold such groups (${found})`);
  });

  it('finds the start of a list of hex items exactly where the pattern for it matches, from every position', () => {
    const patterns = { ',': /, ?[0-9A-Fa-f]{1,7} ?, ?[0-9A-Fa-f]{1,7} ?,/g, ':': /: ?[0-9A-Fa-f]{1,7} ?: ?[0-9A-Fa-f]{1,7} ?:/g };
    let found = 0;
    for (const text of searchTexts(20000, 12, [...',: 0a9fFgG', ',1f', ':0a', ', 9', ': 1 ', '1234567', '12345678'])) {
      for (const sep of [',', ':'] as const) {
        for (let from = 0; from <= text.length; from++) {
          patterns[sep].lastIndex = from;
          const expected = patterns[sep].exec(text)?.index ?? -1;
          assert.equal(nextListStart(text, sep, from), expected, `${JSON.stringify(text)} ${sep} from ${from}`);
          if (expected >= 0) found++;
        }
      }
    }
    assert.ok(found > 1000, `the texts hold such lists (${found})`);
  });

  it('makes the same unwrapped view when told the long runs (and skips the lines when none ends one) as when reading every line', () => {
    const next = seededRandom(13);
    const words = ['QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo', 'c2VjcmV0', 'key:', 'x', '', '=='];
    const breaks = ['\n', '\r\n', ' \n', '\t\r\n', '\n  ', '= \n', '==\n', ' ', ': ', '=', 'path=/', '"'];
    let joined = 0;
    for (let k = 0; k < 20000; k++) {
      let text = '';
      for (let parts = 1 + Math.floor(next() * 8); parts > 0; parts--) text += words[Math.floor(next() * words.length)]!.repeat(1 + Math.floor(next() * 3)) + breaks[Math.floor(next() * breaks.length)]!;
      const expected = unwrappedView(text);
      assert.deepEqual(unwrappedView(text, longRuns(text)), expected, JSON.stringify(text));
      if (expected) joined++;
    }
    assert.ok(joined > 1000, `the texts hold blocks to join (${joined})`);
  });

  it('joins a chunked value in a long text with no other digit, at every offset, after non-ASCII text and where the separator changes', () => {
    const card = withLuhn('453914880343646');
    const values = [
      { text: s.aws.match(/.{4}/g)!.join(' '), rule: 'aws' },
      { text: card.match(/.{4}/g)!.join('.'), rule: 'payment-card' },
      // The run's separator changes after its first chunk (`-`, then spaces): the chunk before the change starts the next run.
      { text: `id-${s.aws.match(/.{4}/g)!.join(' ')}`, rule: 'aws' },
    ];
    for (const { text: value, rule } of values) {
      for (let pad = 0; pad < 12; pad++) {
        for (const lead of ['the deployment list ', 'Die Bereitstellungen für die Region ', 'emoji 😀 and a word ']) {
          const text = `${lead.repeat(40)}${'y'.repeat(pad)} (${value}) and more text after it`;
          assert.ok(seen(text).some((f) => f.includes(rule) && f.includes('dechunked')), `${rule}, pad ${pad}, after ${lead}`);
        }
      }
    }
    // Only a run with a digit is joined: letters in chunks are words.
    assert.equal(dechunkedView('ABCD EFGH IJKL MNOP QRST'), undefined);
    assert.ok(dechunkedView('ABCD EFGH IJKL MNO1 QRST'));
  });
});

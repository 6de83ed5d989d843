/**
 * The WebAssembly character-class pass (src/dlp/char-classes.ts) and the passes that start from its
 * bitsets must find exactly what the JavaScript passes find reading every byte: the bitsets are compared
 * with a plain classification of every byte value at every alignment and length, the runs and regions
 * with the byte-by-byte passes on texts dense in what they look for, and the whole detection with the
 * WebAssembly pass against a process where WebAssembly is missing (the fallback).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { anySet, charClasses, hasClassifier, hasStrided, MIN_CLASSIFIED } from '../../src/dlp/char-classes.ts';
import { ANY_ESCAPE, anyEscape, longRuns } from '../../src/dlp/decode.ts';
import { findPii, PII_KINDS, regions, regionsInClasses } from '../../src/dlp/pii.ts';
import { detectDeep } from '../../src/dlp/views.ts';
import { fakePersonalData } from '../helpers/personal-data.ts';
import { seededRandom } from '../helpers/random.ts';
import { fakeSecrets } from '../helpers/secrets.ts';

const bit = (bits: Uint32Array, p: number): boolean => ((bits[p >>> 5]! >>> (p & 31)) & 1) === 1;
const isRun = (b: number): boolean => /[A-Za-z0-9+/_-]/.test(String.fromCharCode(b));
const isDigit = (b: number): boolean => b >= 0x30 && b <= 0x39;
const isNumber = (b: number): boolean => isDigit(b) || ' ().\\/-'.includes(String.fromCharCode(b));
const isUpper = (b: number): boolean => b >= 0x41 && b <= 0x5a;
const isControl = (b: number): boolean => (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) || b === 0x7f;

/** `text` as Latin-1 bytes one byte into a buffer: `regions` then reads every byte (no word skips). */
function everyByte(text: string): Uint8Array {
  const bytes = new Uint8Array(new ArrayBuffer(text.length + 8), 1, text.length);
  bytes.set(Buffer.from(text, 'latin1'));
  return bytes;
}

/** Texts dense in digits, separators, capitals and base64 runs, long enough to be classified. */
function denseTexts(count: number, seed: number): string[] {
  const next = seededRandom(seed);
  const pieces = ['0', '1', '7', '9', ' ', '-', '.', '/', '\\', '(', ')', 'A', 'G', 'Z', 'a', 'f', 'x', '_', '+', '=', ':', '\n', '"', 'é'];
  const out: string[] = [];
  for (let k = 0; k < count; k++) {
    const length = MIN_CLASSIFIED + Math.floor(next() * 1500);
    let text = '';
    while (text.length < length) {
      const r = next();
      if (r < 0.12) text += String(Math.floor(next() * 10 ** (1 + Math.floor(next() * 12))));
      else if (r < 0.16) text += `GB${Math.floor(next() * 100)}WEST${Math.floor(next() * 1e8)}`;
      else if (r < 0.2) text += 'Qm9vaw'.repeat(1 + Math.floor(next() * 6));
      else text += pieces[Math.floor(next() * pieces.length)]!;
    }
    out.push(text);
  }
  return out;
}

describe('the character-class pass', () => {
  it('runs as WebAssembly SIMD on this Node', () => {
    assert.equal(hasClassifier(), true);
  });

  it('puts every byte value in the classes a plain test puts it in, at every length and alignment, with no bit set past the end', () => {
    const next = seededRandom(11);
    for (let k = 0; k < 300; k++) {
      const n = MIN_CLASSIFIED + Math.floor(next() * 700) + (k % 64);
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i + k) % 256 === 0 ? 0x30 : Math.floor(next() * 256));
      const classes = charClasses(bytes, n)!;
      for (let p = 0; p < n; p++) {
        const b = bytes[p]!;
        assert.equal(bit(classes.run, p), isRun(b), `run, byte ${b} at ${p} of ${n}`);
        assert.equal(bit(classes.digit, p), isDigit(b), `digit, byte ${b} at ${p} of ${n}`);
        assert.equal(bit(classes.number, p), isNumber(b), `number, byte ${b} at ${p} of ${n}`);
        assert.equal(bit(classes.upper, p), isUpper(b), `upper, byte ${b} at ${p} of ${n}`);
        assert.equal(bit(classes.space, p), b === 0x20, `space, byte ${b} at ${p} of ${n}`);
        assert.equal(bit(classes.control, p), isControl(b), `control, byte ${b} at ${p} of ${n}`);
      }
      for (const bits of [classes.run, classes.digit, classes.number, classes.upper, classes.space, classes.control]) {
        for (let p = n; p < bits.length * 32; p++) assert.equal(bit(bits, p), false, `bit ${p} past ${n}`);
      }
    }
  });

  it('leaves texts shorter than its threshold to the JavaScript passes', () => {
    assert.equal(charClasses(new Uint8Array(MIN_CLASSIFIED - 1), MIN_CLASSIFIED - 1), undefined);
  });
});

describe('the passes that start from the classes', () => {
  it('find the same long runs as the walk over the text', () => {
    for (const text of denseTexts(800, 5)) {
      const ascii = text.replace(/é/g, 'e');
      const bytes = Buffer.from(ascii, 'latin1');
      assert.deepEqual(longRuns(ascii, bytes, charClasses(bytes, bytes.length)), longRuns(ascii), JSON.stringify(ascii));
    }
  });

  it('find the same digit runs, number runs and IBAN starts as the regions pass reading every byte, and the same personal data', () => {
    let compared = 0;
    for (const text of denseTexts(800, 9)) {
      const bytes = everyByte(text);
      const fromClasses = regionsInClasses(charClasses(bytes, text.length)!);
      assert.deepEqual(fromClasses, regions(bytes, text.length), JSON.stringify(text));
      assert.deepEqual(findPii(text, new Set(PII_KINDS), bytes, fromClasses), findPii(text, new Set(PII_KINDS), bytes), JSON.stringify(text));
      compared += fromClasses.numbers.length + fromClasses.digitRuns.length + fromClasses.ibans.length;
    }
    assert.ok(compared > 5000, `the texts hold regions to compare (${compared})`);
  });

  it('find a run or region that ends on the very last byte and one that straddles each word boundary', () => {
    const card = fakePersonalData().card.replace(/ /g, '');
    for (let pad = 0; pad < 40; pad++) {
      const text = `${'lorem ipsum '.repeat(50)}${'x'.repeat(pad)} GB29${card}`;
      const bytes = Buffer.from(text, 'latin1');
      const classes = charClasses(bytes, text.length)!;
      assert.deepEqual(regionsInClasses(classes), regions(everyByte(text), text.length), `pad ${pad}`);
      assert.deepEqual(longRuns(text, bytes, classes), longRuns(text), `pad ${pad}`);
    }
  });
});

describe('the views\' gates the classes answer', () => {
  /** ASCII texts of spaces, letters, controls and the units escapes start with, spaces at every density. */
  function gateTexts(count: number, seed: number): string[] {
    const next = seededRandom(seed);
    const pieces = ['a', 'b', 'Q', '0', '3', 'x', 'X', '%', '=', '&', '#', '\\', 'u', ';', ',', '\t', '\n', '\u0001', '\u007f'];
    const out: string[] = [];
    for (let k = 0; k < count; k++) {
      const spaces = next();
      const rare = next() * 0.2;
      let text = '';
      for (let n = MIN_CLASSIFIED + Math.floor(next() * 600); text.length < n; ) {
        const r = next();
        text += r < spaces ? ' ' : r < spaces + rare ? pieces[Math.floor(next() * pieces.length)]! : 'abcdefgh'[Math.floor(next() * 8)]!;
      }
      out.push(text);
    }
    return out;
  }

  it('say where spaces stand five and two units apart, and whether a control occurs, as reading the text says', () => {
    let groups = 0;
    let letters = 0;
    let controls = 0;
    for (const text of gateTexts(1500, 21)) {
      const bytes = Buffer.from(text, 'latin1');
      const classes = charClasses(bytes, text.length)!;
      const words = classes.space.length;
      const expectGroups = / [\s\S]{4} [\s\S]{4} /.test(text);
      const expectLetters = / (?:[\s\S] ){7}/.test(text);
      const expectControl = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/.test(text);
      assert.equal(hasStrided(classes.space, words, 5, 3), expectGroups, JSON.stringify(text));
      assert.equal(hasStrided(classes.space, words, 2, 8), expectLetters, JSON.stringify(text));
      assert.equal(anySet(classes.control, words), expectControl, JSON.stringify(text));
      groups += Number(expectGroups);
      letters += Number(expectLetters);
      controls += Number(expectControl);
    }
    for (const [what, count] of [['spaced groups', groups], ['spaced letters', letters], ['controls', controls]] as const) {
      assert.ok(count > 100 && count < 1400, `the texts have and lack ${what} (${count})`);
    }
  });

  it('find an escape exactly when the one pattern of every escape does, also in a text of x\'s', () => {
    let found = 0;
    const texts = [...gateTexts(1500, 22), `${'x'.repeat(5000)}0x41,`, 'x'.repeat(5000), `${'X'.repeat(40)}0X41;`, `${'x'.repeat(40)}0X4f `, '0x', 'x0x4F,'];
    for (const text of texts) {
      const expected = ANY_ESCAPE.test(text);
      assert.equal(anyEscape(text), expected, JSON.stringify(text));
      found += Number(expected);
    }
    assert.ok(found > 100 && found < texts.length - 100, `the texts have and lack escapes (${found})`);
  });
});

describe('without WebAssembly', () => {
  it('finds the same secrets and personal data in the same places with the JavaScript passes', () => {
    const person = fakePersonalData(3);
    const s = fakeSecrets();
    const encoded = Buffer.from(`token ${s.github}`).toString('base64');
    const records = Array.from({ length: 40 }, (_, k) => JSON.stringify({ id: k, at: `2026-12-07T10:${String(k).padStart(2, '0')}:00Z`, note: 'deploy finished' }));
    const texts = [
      `${records.join('\n')}\ncard ${person.card}, iban ${person.iban}, phone ${person.phone}, ssn ${person.ssn}, key ${s.aws}`,
      `${'the deployment list '.repeat(40)}${encoded} and ${person.email}`,
      // Spaced letters, base64 in spaced groups, a control inside a token: the gates the classes answer.
      `${'the deployment list '.repeat(40)}${[...s.github].join(' ')} then: ${(Buffer.from(`token ${s.github}`).toString('base64').match(/.{1,4}/g) ?? []).join(' ')} end`,
      `${'the deployment list '.repeat(40)}${s.aws.slice(0, 8)}\u0007${s.aws.slice(8)}`,
      ...denseTexts(20, 3),
    ];
    const child = spawnSync(process.execPath, [new URL('./fixtures/detect-without-wasm.ts', import.meta.url).pathname], { input: JSON.stringify(texts), encoding: 'utf8', timeout: 60_000 });
    assert.equal(child.status, 0, child.stderr);
    const fallback = JSON.parse(child.stdout) as { wasm: boolean; findings: unknown[] };
    assert.equal(fallback.wasm, false, 'the child ran without the WebAssembly pass');
    const on = { secrets: true, pii: true, injection: true, patterns: false };
    const here = texts.map((text) => detectDeep(text, on, undefined).findings);
    assert.deepEqual(JSON.parse(JSON.stringify(here)), fallback.findings);
    const kinds = new Set((here[0] as Array<{ rule: string }>).map((f) => f.rule));
    for (const kind of ['payment-card', 'iban', 'phone', 'us-ssn']) assert.ok(kinds.has(kind), `the first text has a ${kind} finding: ${[...kinds].join(', ')}`);
    const places = (k: number): string[] => (here[k] as Array<{ location?: string }>).map((f) => f.location ?? 'text');
    for (const place of ['despaced', 'decoded:base64']) assert.ok(places(2).includes(place), `the third text has a finding in ${place}: ${places(2).join(', ')}`);
    assert.ok(places(3).includes('normalized'), `the fourth text has a finding in the normalised view: ${places(3).join(', ')}`);
  });
});
